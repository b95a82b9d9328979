/*
 * webapps.ts: keeps one launcher item per web application the server lists
 * (`GET shelf/webapps`, from the loaded modules' SHELF_WEBAPP_* variables):
 * adds an item when an app appears, disposes it when the app is no longer
 * listed (its module was unloaded). How an item is made (a command and a
 * launcher entry) is given by the caller, so this runs without JupyterLab.
 */

import { diffWebapps, looksLikeSvg, webappSignature } from './logic';
import type { WebApp } from './types';

export interface Disposable {
  dispose(): void;
}

export class WebappLaunchers {
  private readonly addItem: (app: WebApp) => Disposable;
  private readonly items = new Map<string, { signature: string; item: Disposable }>();

  /** `addItem` makes the launcher item of an app and returns what removes it. */
  constructor(addItem: (app: WebApp) => Disposable) {
    this.addItem = addItem;
  }

  /** The keys of the apps shown now. */
  get keys(): string[] {
    return Array.from(this.items.keys());
  }

  /** Makes the launcher show exactly `apps`. */
  update(apps: ReadonlyArray<WebApp>): void {
    const shown = new Map<string, string>();
    for (const [key, v] of this.items) {
      shown.set(key, v.signature);
    }
    const { add, remove } = diffWebapps(shown, apps);
    for (const key of remove) {
      const v = this.items.get(key);
      this.items.delete(key);
      try {
        v?.item.dispose();
      } catch (err) {
        console.error('shelf: removing the launcher item failed', err);
      }
    }
    for (const app of add) {
      try {
        this.items.set(app.key, { signature: webappSignature(app), item: this.addItem(app) });
      } catch (err) {
        console.error('shelf: adding the launcher item failed', err);
      }
    }
  }

  /** Removes every item. */
  dispose(): void {
    this.update([]);
  }
}

/** A CSS class name made from a web app's key. */
export function webappIconClass(key: string): string {
  return 'jp-ShelfSoftware-webappIcon-' + key.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * The CSS rule that shows an SVG icon as the background image of
 * `webappIconClass(key)`: the SVG is only ever an image (a data: URL), so
 * scripts or event handlers in it never run. Null when `svg` is not an SVG.
 */
export function webappIconCss(key: string, svg: string | null | undefined): string | null {
  if (!looksLikeSvg(svg)) {
    return null;
  }
  const url = 'data:image/svg+xml,' + encodeURIComponent((svg as string).trim());
  return (
    `.${webappIconClass(key)} {` +
    ` background-image: url("${url}"); background-size: contain;` +
    ' background-repeat: no-repeat; background-position: center;' +
    ' min-width: 32px; min-height: 32px; width: 100%; height: 100%; }'
  );
}
