import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { describe, expect, it, vi } from 'vitest';

// The notebook package does not load in jsdom; the plugin only needs its token.
vi.mock('@jupyterlab/notebook', async () => {
  const { Token } = await import('@lumino/coreutils');
  return { INotebookTracker: new Token('@jupyterlab/notebook:INotebookTracker') };
});

import plugins, { CommandIDs } from '../../src/index';

describe('plugin', () => {
  it('is one auto-started plugin with the settings id', () => {
    expect(plugins.length).toBe(1);
    expect(plugins[0].id).toBe('shelf-jupyterlab:plugin');
    expect(plugins[0].autoStart).toBe(true);
  });

  it('adds the panel, the commands and launcher items for web apps', async () => {
    const added: Array<{ widget: Widget; area: string }> = [];
    const launched: Array<{ command: string; category?: string; disposed: boolean }> = [];
    const commands = new CommandRegistry();
    let restored!: () => void;
    const app = { commands, restored: new Promise<void>(r => (restored = r)) };
    const labShell = {
      add: (widget: Widget, area: string) => added.push({ widget, area }),
      activateById: () => undefined
    };
    const launcher = {
      add: (opts: { command: string; category?: string }) => {
        const item = { ...opts, disposed: false };
        launched.push(item);
        return { isDisposed: false, dispose: () => (item.disposed = true) };
      }
    };
    const webapps = [{ key: 'CODE_SERVER', title: 'VS Code', icon: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', running: false, url: '/x/' }];
    let current = webapps as unknown[];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (req: Request | string) => {
      const url = typeof req === 'string' ? req : req.url;
      const body = url.includes('/shelf/webapps')
        ? current
        : url.includes('/modules')
        ? { modules: [] }
        : url.includes('/loaded')
        ? { loaded: [] }
        : url.includes('/collections')
        ? { collections: [] }
        : url.includes('/status')
        ? { featured: [] }
        : {};
      if (url.includes('/events')) {
        return new Promise(() => undefined);
      }
      return new Response(JSON.stringify(body), { status: 200 });
    }) as typeof fetch;
    try {
      await (plugins[0].activate as (...a: unknown[]) => Promise<void>)(app, labShell, null, null, launcher, null, null);
      expect(added.length).toBe(1);
      expect(added[0].area).toBe('left');
      expect(added[0].widget.id).toBe('shelf-software');
      expect(commands.hasCommand(CommandIDs.open)).toBe(true);
      expect(commands.hasCommand(CommandIDs.applyToKernel)).toBe(true);
      expect(commands.label(CommandIDs.open)).toBe('Open Software panel');
      restored();
      const t0 = Date.now();
      while (launched.length === 0 && Date.now() - t0 < 3000) {
        await new Promise(r => setTimeout(r, 10));
      }
      expect(launched).toEqual([{ command: 'shelf:webapp:CODE_SERVER', category: 'Other', rank: 101, disposed: false }]);
      expect(commands.label('shelf:webapp:CODE_SERVER')).toBe('VS Code');
      expect(document.head.querySelector('style[data-shelf-webapp="CODE_SERVER"]')).not.toBeNull();
      // the module is unloaded: the tile goes
      current = [];
      const panel = added[0].widget as unknown as { refresh(): Promise<boolean> };
      await panel.refresh();
      expect(launched[0].disposed).toBe(true);
      expect(commands.hasCommand('shelf:webapp:CODE_SERVER')).toBe(false);
      expect(document.head.querySelector('style[data-shelf-webapp="CODE_SERVER"]')).toBeNull();
      added[0].widget.dispose();
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
