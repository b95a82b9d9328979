import { describe, expect, it } from 'vitest';

import type { WebApp } from '../../src/types';
import { WebappLaunchers, webappIconClass, webappIconCss } from '../../src/webapps';

describe('WebappLaunchers', () => {
  it('adds an item per app and disposes it when the app goes away', () => {
    const live = new Map<string, number>();
    const added: string[] = [];
    let n = 0;
    const launchers = new WebappLaunchers((app: WebApp) => {
      const id = ++n;
      live.set(app.key, id);
      added.push(`${app.key}:${app.title}`);
      return { dispose: () => live.delete(app.key) };
    });
    const vs = { key: 'CODE_SERVER', title: 'VS Code', icon: null, running: false, url: '/a/' };
    launchers.update([vs]);
    launchers.update([{ ...vs, running: true }]); // same tile: nothing to do
    expect(added).toEqual(['CODE_SERVER:VS Code']);
    expect(launchers.keys).toEqual(['CODE_SERVER']);
    const rs = { key: 'RSTUDIO', title: 'RStudio' };
    launchers.update([vs, rs]);
    expect(Array.from(live.keys()).sort()).toEqual(['CODE_SERVER', 'RSTUDIO']);
    launchers.update([rs]);
    expect(Array.from(live.keys())).toEqual(['RSTUDIO']);
    launchers.update([{ ...rs, title: 'RStudio Server' }]); // re-made with the new title
    expect(added).toEqual(['CODE_SERVER:VS Code', 'RSTUDIO:RStudio', 'RSTUDIO:RStudio Server']);
    expect(live.size).toBe(1);
    launchers.dispose();
    expect(live.size).toBe(0);
    expect(launchers.keys).toEqual([]);
  });

  it('makes icons only from SVG, as an image', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';
    const css = webappIconCss('CODE_SERVER', svg)!;
    expect(css.startsWith('.jp-ShelfSoftware-webappIcon-CODE_SERVER {')).toBe(true);
    expect(css).toContain('url("data:image/svg+xml,%3Csvg');
    expect(css).not.toContain('<');
    expect(webappIconCss('X', '<svg onload="alert(1)"></svg>')).toBeNull();
    expect(webappIconCss('X', '<b>hi</b>')).toBeNull();
    expect(webappIconCss('X', null)).toBeNull();
    expect(webappIconClass('a b"{')).toBe('jp-ShelfSoftware-webappIcon-a_b__');
  });
});
