/*
 * index.ts: the JupyterLab plugin of Shelf's Software panel. It wires the
 * panel (panel.ts) to JupyterLab: the left sidebar, the settings (featured
 * list, daemon location), the command palette, the launcher tiles of web
 * applications, the current notebook's kernel, JupyterLab's dialogs and
 * clipboard, and ServerConnection (the server's token and XSRF cookie).
 */

import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard, Dialog, ICommandPalette, InputDialog, showDialog } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { HttpShelfAPI, ShelfAPI } from './api';
import { errorBody } from './logic';
import { KernelExecResult, KernelTarget, PanelUI, SoftwarePanel } from './panel';
import type { WebApp } from './types';
import { WebappLaunchers, webappIconClass, webappIconCss } from './webapps';

export { HttpShelfAPI, ApiError } from './api';
export type { ShelfAPI } from './api';
export { SoftwarePanel } from './panel';
export type { PanelUI, KernelTarget, KernelExecResult, SoftwarePanelOptions } from './panel';
export * from './logic';
export { WebappLaunchers, webappIconCss, webappIconClass } from './webapps';
export { EventStream } from './events';

const PLUGIN_ID = 'shelf-jupyterlab:plugin';

export namespace CommandIDs {
  export const open = 'shelf:open';
  export const applyToKernel = 'shelf:apply-to-kernel';
  export const webappPrefix = 'shelf:webapp:';
}

export const softwareIcon = new LabIcon({
  name: 'shelf-jupyterlab:software',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M3 4h18v3H3zM4 8h7v5H4zM13 8h7v5h-7zM3 14h18v3H3zM5 18h3v3H5zM16 18h3v3h-3z"/>' +
    '</g></svg>'
});

interface Settings {
  featured: string[];
  apiPath: string;
  requestTimeout: number;
  maxRows: number;
}

const DEFAULTS: Settings = { featured: [], apiPath: 'shelf/api/v1', requestTimeout: 30, maxRows: 200 };

function readSettings(s: ISettingRegistry.ISettings | null): Settings {
  if (!s) {
    return { ...DEFAULTS };
  }
  const c = s.composite as Record<string, unknown>;
  const featured = Array.isArray(c.featured) ? (c.featured as unknown[]).filter(x => typeof x === 'string') : [];
  const apiPath = typeof c.apiPath === 'string' && c.apiPath.trim() ? c.apiPath.trim() : DEFAULTS.apiPath;
  const timeout = typeof c.requestTimeout === 'number' && c.requestTimeout > 0 ? c.requestTimeout : DEFAULTS.requestTimeout;
  const maxRows = typeof c.maxRows === 'number' && c.maxRows > 0 ? Math.floor(c.maxRows) : DEFAULTS.maxRows;
  return { featured: featured as string[], apiPath, requestTimeout: timeout, maxRows };
}

/** The API client over ServerConnection (token, XSRF and base URL of this server). */
export function makeApi(settings: Settings): ShelfAPI {
  const server = ServerConnection.makeSettings();
  return new HttpShelfAPI({
    baseUrl: server.baseUrl,
    apiPath: settings.apiPath,
    timeoutMs: settings.requestTimeout * 1000,
    request: (url, init) => ServerConnection.makeRequest(url, init, server)
  });
}

/** Runs a function once, on dispose. */
class DisposableDelegate implements IDisposable {
  private fn: (() => void) | null;
  constructor(fn: () => void) {
    this.fn = fn;
  }
  get isDisposed(): boolean {
    return this.fn === null;
  }
  dispose(): void {
    const fn = this.fn;
    this.fn = null;
    fn?.();
  }
}

/** A dialog body showing text as text (newlines kept). */
function textBody(text: string): Widget {
  const node = document.createElement('div');
  node.className = 'jp-ShelfSoftware-dialogText';
  node.textContent = text;
  return new Widget({ node });
}

/** JupyterLab's dialogs and clipboard, as the panel uses them. */
export const jupyterUI: PanelUI = {
  async showError(title: string, body: string): Promise<void> {
    await showDialog({
      title,
      body: textBody(body),
      buttons: [Dialog.okButton({ label: 'Dismiss' })]
    });
  },
  async confirm(title: string, body: string, accept: string): Promise<boolean> {
    const result = await showDialog({
      title,
      body: textBody(body),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: accept })]
    });
    return result.button.accept;
  },
  async prompt(title: string, label: string, value?: string): Promise<string | null> {
    const result = await InputDialog.getText({
      title, label, text: value, placeholder: 'name', okLabel: 'Save'
    });
    return result.button.accept ? result.value ?? '' : null;
  },
  copy(text: string): void {
    Clipboard.copyToSystem(text);
  }
};

/** The kernel of the current notebook, when it runs. */
function notebookKernel(tracker: INotebookTracker | null): KernelTarget | null {
  const nb = tracker?.currentWidget;
  if (!nb || nb.isDisposed) {
    return null;
  }
  const kernel = nb.sessionContext.session?.kernel;
  if (!kernel || kernel.isDisposed || kernel.status === 'dead') {
    return null;
  }
  const name = nb.title.label || nb.context.path;
  return {
    name,
    async execute(code: string): Promise<KernelExecResult> {
      const info = await kernel.info;
      const lang = info?.language_info?.name;
      if (lang && lang !== 'python') {
        return { ok: false, ename: 'UnsupportedKernel', evalue: `the kernel runs ${lang}, not Python` };
      }
      const future = kernel.requestExecute({ code, silent: false, store_history: false });
      const reply = await future.done;
      const content = reply.content as { status: string; ename?: string; evalue?: string; traceback?: string[] };
      if (content.status === 'ok') {
        return { ok: true };
      }
      return {
        ok: false,
        ename: content.ename || content.status,
        evalue: content.evalue || '',
        traceback: content.traceback || []
      };
    }
  };
}

/** Opens a web app: starts it, then shows it in the tab opened on the click. */
async function openWebapp(api: ShelfAPI, app: WebApp): Promise<void> {
  // Open the tab during the click (no popup blocker), navigate it once started.
  const tab = window.open('', '_blank');
  if (tab) {
    try {
      tab.opener = null;
    } catch {
      // cross-origin or read-only: harmless
    }
  }
  try {
    const answer = await api.startWebapp(app.key);
    const url = answer && answer.url ? answer.url : app.url;
    if (!url) {
      throw new Error('the server gave no address for the application');
    }
    if (tab && !tab.closed) {
      tab.location.href = url;
    } else {
      window.open(url, '_blank', 'noopener');
    }
  } catch (err) {
    tab?.close();
    await jupyterUI.showError(`Could not start ${app.title}`, errorBody(err));
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Shelf Software panel: find, inspect, load and save environment modules.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ISettingRegistry, ICommandPalette, ILauncher, INotebookTracker, ILayoutRestorer],
  activate: async (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    tracker: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ): Promise<void> => {
    let settingsObj: ISettingRegistry.ISettings | null = null;
    if (registry) {
      try {
        settingsObj = await registry.load(PLUGIN_ID);
      } catch (err) {
        console.warn('shelf: cannot read the settings; using the defaults', err);
      }
    }
    let settings = readSettings(settingsObj);
    let api = makeApi(settings);

    let iconCount = 0;
    const launchers = launcher
      ? new WebappLaunchers((webapp: WebApp): IDisposable => {
          const disposables: IDisposable[] = [];
          const command = CommandIDs.webappPrefix + webapp.key;
          const css = webappIconCss(webapp.key, webapp.icon);
          let iconClass = 'jp-ShelfSoftware-webappIcon';
          if (css) {
            const style = document.createElement('style');
            style.textContent = css.replace(/^\./, `.jp-ShelfSoftware-webappIcon.`);
            style.dataset.shelfWebapp = webapp.key;
            document.head.appendChild(style);
            disposables.push(new DisposableDelegate(() => style.remove()));
            iconClass += ' ' + webappIconClass(webapp.key);
          }
          iconCount++;
          disposables.push(
            app.commands.addCommand(command, {
              label: webapp.title || webapp.key,
              caption: `Start ${webapp.title || webapp.key} and open it in a new browser tab`,
              iconClass: css ? iconClass : undefined,
              icon: css ? undefined : softwareIcon,
              execute: () => openWebapp(api, webapp)
            })
          );
          disposables.push(launcher.add({ command, category: 'Other', rank: 100 + iconCount }));
          return new DisposableDelegate(() => {
            for (const d of disposables.reverse()) {
              d.dispose();
            }
          });
        })
      : null;

    const panel = new SoftwarePanel({
      api,
      ui: jupyterUI,
      featured: settings.featured,
      maxRows: settings.maxRows,
      kernel: () => notebookKernel(tracker),
      onWebapps: apps => launchers?.update(apps)
    });
    panel.title.icon = softwareIcon;
    panel.title.caption = 'Software';
    labShell.add(panel, 'left', { rank: 250 });
    restorer?.add(panel, 'shelf-software');

    settingsObj?.changed.connect(() => {
      const next = readSettings(settingsObj);
      const apiChanged = next.apiPath !== settings.apiPath || next.requestTimeout !== settings.requestTimeout;
      settings = next;
      panel.setFeatured(next.featured);
      if (apiChanged) {
        api = makeApi(next);
        panel.setApi(api);
      }
    });

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Software panel',
      caption: 'Find, load and save environment modules',
      icon: softwareIcon,
      execute: () => {
        labShell.activateById(panel.id);
        panel.filterInput.focus();
      }
    });
    app.commands.addCommand(CommandIDs.applyToKernel, {
      label: 'Apply loaded software to the running kernel',
      caption: 'Load the panel’s modules into the current notebook’s Python kernel, without a restart',
      isEnabled: () => notebookKernel(tracker) !== null,
      execute: () => panel.applyToKernel()
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.open, category: 'Software' });
      palette.addItem({ command: CommandIDs.applyToKernel, category: 'Software' });
    }

    void app.restored.then(() => panel.start());
  }
};

export default [plugin];
