import { Widget } from '@lumino/widgets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ApiError } from '../../src/api';
import { SoftwarePanel, SoftwarePanelOptions } from '../../src/panel';
import type { ModuleEntry, WebApp } from '../../src/types';
import { FakeAPI, FakeKernel, FakeUI, gate, settle, until } from './fake';

let panel: SoftwarePanel;
let api: FakeAPI;
let ui: FakeUI;

function make(opts: Partial<SoftwarePanelOptions> = {}): SoftwarePanel {
  panel = new SoftwarePanel({ api, ui, liveEvents: false, retryUnitMs: 20, ...opts });
  Widget.attach(panel, document.body);
  return panel;
}

const q = (sel: string) => panel.node.querySelector(sel) as HTMLElement | null;
const qa = (sel: string) => Array.from(panel.node.querySelectorAll(sel)) as HTMLElement[];
function buttonNamed(root: ParentNode, name: string): HTMLButtonElement | null {
  return (
    (Array.from(root.querySelectorAll('button')) as HTMLButtonElement[]).find(
      b => (b.getAttribute('aria-label') || b.textContent || '').trim() === name
    ) || null
  );
}

beforeEach(() => {
  api = new FakeAPI();
  ui = new FakeUI();
});

afterEach(() => {
  if (panel && !panel.isDisposed) {
    Widget.detach(panel);
    panel.dispose();
  }
  document.body.textContent = '';
});

describe('rendering', () => {
  it('has the widget id, the filter and the four sections', async () => {
    make();
    expect(panel.id).toBe('shelf-software');
    expect(panel.title.caption).toBe('Software');
    const filter = q('input.jp-ShelfSoftware-filter') as HTMLInputElement;
    expect(filter.getAttribute('aria-label')).toBe('Filter modules');
    expect(qa('section.jp-ShelfSoftware-section').map(s => s.dataset.section)).toEqual([
      'featured',
      'loaded',
      'available',
      'collections'
    ]);
    expect(await panel.refresh()).toBe(true);
    await settle();
    expect(q('.jp-ShelfSoftware-status')!.hidden).toBe(true);
  });

  it('groups Available by category, marks defaults, shows needs and badges', async () => {
    make();
    await panel.refresh();
    const avail = q('[data-section="available"]')!;
    const cats = Array.from(avail.querySelectorAll('.jp-ShelfSoftware-categoryTitle')).map(n => n.textContent);
    expect(cats).toEqual(['Compiler', 'Library', 'Python', 'Tools', 'Other']);
    const gcc = avail.querySelector('[data-module="gcc"]')!;
    expect(gcc.querySelector('.jp-ShelfSoftware-version')!.textContent).toBe('12.3.0 (default)');
    expect(gcc.getAttribute('tabindex')).toBe('0');
    const hdf5 = avail.querySelector('[data-module="hdf5"]')!;
    expect(hdf5.querySelector('.jp-ShelfSoftware-needs')!.textContent).toBe('needs: gcc/12.3.0, openmpi/4.1.6');
    const cuda = avail.querySelector('[data-module="cuda"]')!;
    expect(Array.from(cuda.querySelectorAll('.jp-ShelfSoftware-badge')).map(b => b.textContent)).toEqual(['gpu']);
    const tv = avail.querySelector('[data-module="torchvision"]')!;
    expect(tv.querySelector('.jp-ShelfSoftware-description')!.textContent).toBe('Image models and datasets for torch');
    // featured from the server's status
    expect(q('[data-section="featured"] [data-featured="torchvision"]')).not.toBeNull();
  });

  it('expands other versions with a toggle', async () => {
    make();
    await panel.refresh();
    const toggle = buttonNamed(q('[data-module="gcc"]')!, 'Other versions of gcc')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(q('[data-version="gcc/13.2.0"]')).toBeNull();
    toggle.click();
    expect(q('[data-version="gcc/13.2.0"]')).not.toBeNull();
    expect(buttonNamed(q('[data-module="gcc"]')!, 'Other versions of gcc')!.getAttribute('aria-expanded')).toBe('true');
  });

  it('keeps HTML in descriptions and help as text', async () => {
    make();
    await panel.refresh();
    const row = q('[data-module="evil"]')!;
    const desc = row.querySelector('.jp-ShelfSoftware-description')!;
    expect(desc.textContent).toContain('<script>window.__pwned=2</script>');
    expect(desc.children.length).toBe(0);
    expect(panel.node.querySelectorAll('script, img, b').length).toBe(0);
    await panel.openDetails('evil/1.0');
    const details = q('.jp-ShelfSoftware-details')!;
    expect(details.querySelector('.jp-ShelfSoftware-help')!.textContent).toContain('<script>alert(1)</script>');
    expect(panel.node.querySelectorAll('script, img, b').length).toBe(0);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('collapses and expands sections', async () => {
    make();
    await panel.refresh();
    const toggle = q('[data-section="available"] .jp-ShelfSoftware-sectionToggle') as HTMLButtonElement;
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    toggle.click();
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(q('[data-section="available"] .jp-ShelfSoftware-sectionBody')!.hidden).toBe(true);
    toggle.click();
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
  });
});

describe('filter', () => {
  it('filters Available and keeps the text on refresh', async () => {
    make();
    await panel.refresh();
    panel.applyFilter('torchv');
    expect(qa('[data-section="available"] [data-module]').map(r => r.dataset.module)).toEqual(['torchvision']);
    await panel.refresh();
    expect((q('input.jp-ShelfSoftware-filter') as HTMLInputElement).value).toBe('torchv');
    expect(qa('[data-section="available"] [data-module]').map(r => r.dataset.module)).toEqual(['torchvision']);
    panel.applyFilter('nothing-like-this');
    expect(q('[data-section="available"] .jp-ShelfSoftware-empty')!.textContent).toContain('nothing-like-this');
  });

  it('reacts to typing within a frame', async () => {
    make();
    await panel.refresh();
    const input = q('input.jp-ShelfSoftware-filter') as HTMLInputElement;
    input.value = 'gpu';
    input.dispatchEvent(new Event('input'));
    await until(() => qa('[data-section="available"] [data-module]').length === 1);
    expect(qa('[data-section="available"] [data-module]')[0].dataset.module).toBe('cuda');
  });

  it('stays fast on 5,000 modules and renders at most a page of rows', async () => {
    const many: ModuleEntry[] = [];
    for (let i = 0; i < 5000; i++) {
      many.push({
        name: `pkg${String(i).padStart(4, '0')}`,
        description: `Package number ${i} for ${i % 7 === 0 ? 'genomics' : 'physics'} work`,
        category: ['Biology', 'Physics', 'Chemistry', 'Tools'][i % 4],
        keywords: `kw${i % 100}`,
        default: `pkg${i}/1.0`,
        versions: [
          { version: '1.0', fullname: `pkg${i}/1.0`, default: true, loadable: true },
          { version: '2.0', fullname: `pkg${i}/2.0`, loadable: true }
        ]
      });
    }
    api.modulesList = many;
    make();
    await panel.refresh();
    expect(qa('[data-section="available"] [data-module]').length).toBe(200);
    const more = q('[data-section="available"] .jp-ShelfSoftware-more')!;
    expect(more.textContent).toBe('Show 200 more');
    const times: number[] = [];
    const full: number[] = [];
    for (const query of ['g', 'ge', 'gen', 'geno', 'genom', 'genomics', 'genomics kw7', 'p', 'pk', 'pkg01', '']) {
      const t0 = performance.now();
      panel.applyFilter(query);
      times.push(performance.now() - t0);
      await panel.rendered();
      full.push(performance.now() - t0);
    }
    const worst = Math.max(...times);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `filter+render on 5,000 modules (jsdom): keystroke worst ${worst.toFixed(1)} ms, ` +
        `median ${median(times).toFixed(1)} ms; full page of 200 rows median ${median(full).toFixed(1)} ms`
    );
    expect(worst).toBeLessThan(100);
    panel.applyFilter('genomics kw7');
    await panel.rendered();
    const rows = qa('[data-section="available"] [data-module]');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.textContent).toContain('genomics');
    }
    panel.applyFilter('');
    await panel.rendered();
    expect(qa('[data-section="available"] [data-module]').length).toBe(200);
    (q('[data-section="available"] .jp-ShelfSoftware-more') as HTMLButtonElement).click();
    expect(qa('[data-section="available"] [data-module]').length).toBe(400);
  });
});

describe('details', () => {
  it('opens on click and on Enter, and goes back with Escape', async () => {
    make();
    await panel.refresh();
    (q('[data-module="torchvision"] .jp-ShelfSoftware-description') as HTMLElement).click();
    await until(() => !!q('.jp-ShelfSoftware-details .jp-ShelfSoftware-help'));
    const details = q('.jp-ShelfSoftware-details')!;
    expect(details.hidden).toBe(false);
    expect(q('.jp-ShelfSoftware-lists')!.hidden).toBe(true);
    expect(details.textContent).toContain('depends_on: torch');
    expect(details.textContent).toContain('/opt/mf/Core/torchvision/0.17.0.lua');
    expect(details.querySelector('pre.jp-ShelfSoftware-help')).not.toBeNull();
    expect(buttonNamed(details, 'Load')).not.toBeNull();
    expect(buttonNamed(details, 'Back')).not.toBeNull();
    details.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(panel.currentView).toBe('lists');
    expect(details.hidden).toBe(true);
    expect(document.activeElement).toBe(q('[data-module="torchvision"]'));

    const row = q('[data-module="gcc"]')!;
    row.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await until(() => !!q('.jp-ShelfSoftware-details .jp-ShelfSoftware-help'));
    expect(q('.jp-ShelfSoftware-details')!.textContent).toContain('gcc');
  });

  it('shows the error of a module that fails to read', async () => {
    make();
    await panel.refresh();
    api.failures.set('module', new ApiError(422, 'modulefile_error', 'syntax error near x', { file: '/m/bad.lua', line: 7 }));
    await panel.openDetails('torch/2.2.0');
    expect(q('.jp-ShelfSoftware-details .jp-ShelfSoftware-error')!.textContent).toBe('syntax error near x\n/m/bad.lua:7');
  });

  it('loads from details with progress, then offers Unload, and Loaded updates', async () => {
    make();
    await panel.refresh();
    await panel.openDetails('torchvision/0.17.0');
    const g = gate();
    api.actionGate = g.promise;
    const load = buttonNamed(q('.jp-ShelfSoftware-details')!, 'Load')!;
    load.click();
    await settle();
    expect(api.callsOf('load')).toEqual([[['torchvision/0.17.0']]]);
    expect(load.disabled).toBe(true);
    expect(load.getAttribute('aria-busy')).toBe('true');
    expect(load.textContent).toBe('Loading…');
    g.open();
    await until(() => !!buttonNamed(q('.jp-ShelfSoftware-details')!, 'Unload'));
    expect(buttonNamed(q('.jp-ShelfSoftware-details')!, 'Load')).toBeNull();
    const user = q('[data-loaded="torchvision/0.17.0"]')!;
    const dep = q('[data-loaded="torch/2.2.0"]')!;
    expect(user.dataset.kind).toBe('user');
    expect(dep.dataset.kind).toBe('dependency');
    expect(dep.textContent).toContain('needed by torchvision');
    expect(buttonNamed(user, 'Unload torchvision/0.17.0')).not.toBeNull();
    expect(dep.querySelector('button')).toBeNull();
    expect(ui.errors).toEqual([]);
  });

  it('offers Swap when another version of the family is loaded', async () => {
    make();
    await panel.refresh();
    await panel.load(['gcc/12.3.0'], 'gcc');
    await panel.openDetails('gcc/13.2.0');
    const swap = buttonNamed(q('.jp-ShelfSoftware-details')!, 'Swap')!;
    expect(swap).not.toBeNull();
    swap.click();
    await until(() => api.callsOf('swap').length === 1);
    expect(api.callsOf('swap')[0]).toEqual(['gcc/12.3.0', 'gcc/13.2.0']);
    await until(() => !!q('[data-loaded="gcc/13.2.0"]'));
  });
});

describe('actions', () => {
  it('the row Load loads the needed modules first', async () => {
    make();
    await panel.refresh();
    buttonNamed(q('[data-module="hdf5"]')!, 'Load hdf5')!.click();
    await until(() => api.callsOf('load').length === 1);
    expect(api.callsOf('load')[0]).toEqual([['gcc/12.3.0', 'openmpi/4.1.6', 'hdf5/1.14.3']]);
  });

  it('a failing load opens an error dialog with the message and file:line', async () => {
    make();
    await panel.refresh();
    api.failures.set(
      'load',
      new ApiError(422, 'modulefile_error', 'LmodError: torch needs a GPU', {
        module: 'torchvision',
        file: '/opt/mf/Core/torchvision/0.17.0.lua',
        line: 12
      })
    );
    buttonNamed(q('[data-module="torchvision"]')!, 'Load torchvision')!.click();
    await until(() => ui.errors.length === 1);
    expect(ui.errors[0].title).toBe('Could not load torchvision');
    expect(ui.errors[0].body).toBe('LmodError: torch needs a GPU\n/opt/mf/Core/torchvision/0.17.0.lua:12');
    const b = buttonNamed(q('[data-module="torchvision"]')!, 'Load torchvision')!;
    expect(b.disabled).toBe(false);
    expect(b.textContent).toBe('Load');
    expect(qa('[data-loaded]').length).toBe(0);
  });

  it('shows warnings of an action', async () => {
    make();
    await panel.refresh();
    api.messages = ['The following have been reloaded with a version change:\n  1) openmpi/4.1.6 => openmpi/4.1.6'];
    await panel.load(['gcc/13.2.0'], 'gcc/13.2.0');
    const box = q('.jp-ShelfSoftware-messages')!;
    expect(box.hidden).toBe(false);
    expect(box.textContent).toContain('reloaded with a version change');
    buttonNamed(box, 'Dismiss messages')!.click();
    expect(box.hidden).toBe(true);
  });

  it('unloads one module and all modules', async () => {
    make();
    await panel.refresh();
    await panel.load(['torchvision/0.17.0'], 'torchvision');
    await panel.load(['gcc/12.3.0'], 'gcc');
    buttonNamed(q('[data-loaded="gcc/12.3.0"]')!, 'Unload gcc/12.3.0')!.click();
    await until(() => !q('[data-loaded="gcc/12.3.0"]'));
    expect(api.callsOf('unload')).toEqual([[['gcc/12.3.0']]]);
    const purge = buttonNamed(q('[data-section="loaded"]')!, 'Unload all')!;
    expect(purge.textContent).toBe('Unload all');
    purge.click();
    await until(() => qa('[data-loaded]').length === 0);
    expect(api.callsOf('purge').length).toBe(1);
  });
});

describe('service down', () => {
  it('says so, retries with backoff, and recovers', async () => {
    api.down = true;
    make();
    expect(await panel.refresh()).toBe(false);
    const status = q('.jp-ShelfSoftware-status')!;
    expect(status.hidden).toBe(false);
    expect(status.textContent).toMatch(
      /^Software service unavailable: cannot connect to shelfd at \/run\/shelfd\.sock\. Retrying in \d+ s/
    );
    expect(buttonNamed(status, 'Retry now')).not.toBeNull();
    // the automatic retry (1 unit = 20 ms here) fails again, then waits longer
    const before = api.callsOf('modules').length;
    await until(() => api.callsOf('modules').length > before);
    await settle();
    expect(status.hidden).toBe(false);
    // back up: Retry now recovers at once
    api.down = false;
    buttonNamed(status, 'Retry now')!.click();
    await until(() => status.hidden);
    expect(qa('[data-section="available"] [data-module]').length).toBeGreaterThan(0);
  });

  it('recovers by itself when the service comes back', async () => {
    api.down = true;
    make();
    await panel.refresh();
    api.down = false;
    await until(() => q('.jp-ShelfSoftware-status')!.hidden, 5000);
    expect(q('[data-module="torch"]')).not.toBeNull();
  });
});

describe('collections', () => {
  it('rejects a name with / without asking the server', async () => {
    make();
    await panel.refresh();
    ui.answers = ['team/train'];
    buttonNamed(q('[data-section="collections"]')!, 'Save collection')!.click();
    await until(() => ui.errors.length === 1);
    expect(ui.errors[0].body).toBe('a collection name cannot contain /');
    expect(api.callsOf('saveCollection')).toEqual([]);
  });

  it('saves, lists, restores and deletes', async () => {
    make();
    await panel.refresh();
    await panel.load(['torchvision/0.17.0'], 'torchvision');
    ui.answers = ['train'];
    expect(await panel.saveCollection()).toBe(true);
    const row = q('[data-collection="train"]')!;
    expect(row.textContent).toContain('1 module');
    expect(row.textContent).toContain('2026-11-22 21:03');
    await panel.purge();
    buttonNamed(row, 'Restore train')!.click();
    await until(() => !!q('[data-loaded="torchvision/0.17.0"]'));
    expect(api.callsOf('restore')).toEqual([['train', false]]);
    buttonNamed(q('[data-collection="train"]')!, 'Delete train')!.click();
    await until(() => !q('[data-collection="train"]'));
    expect(ui.confirms[0].title).toBe('Delete collection train?');
    expect(api.callsOf('deleteCollection')).toEqual([['train']]);
  });

  it('warns of drift and restores with changes when the user agrees', async () => {
    api.collectionsMap.set('old', {
      name: 'old',
      created: '2026-01-02T03:04:05Z',
      description: 'my <b>old</b> set',
      modules: ['torch/2.2.0'],
      drift: [{ kind: 'changed', module: 'torch/2.2.0' }],
      drifted: true
    });
    make();
    await panel.refresh();
    await settle();
    const row = q('[data-collection="old"]')!;
    expect(row.querySelector('.jp-ShelfSoftware-drift')!.textContent).toBe(
      'changed since saved: torch/2.2.0 (changed)'
    );
    expect(row.querySelector('b')).toBeNull();
    ui.confirmAnswer = false;
    expect(await panel.restore('old')).toBe(false);
    expect(api.callsOf('restore')).toEqual([]);
    ui.confirmAnswer = true;
    expect(await panel.restore('old')).toBe(true);
    expect(api.callsOf('restore')).toEqual([['old', true]]);
  });
});

describe('generate code', () => {
  it('shows the Python and shell code with copy buttons', async () => {
    make();
    await panel.refresh();
    await panel.load(['torchvision/0.17.0'], 'torchvision');
    buttonNamed(panel.node, 'Generate code')!.click();
    await until(() => !!q('.jp-ShelfSoftware-code pre.jp-ShelfSoftware-codeShell'));
    const pres = qa('.jp-ShelfSoftware-code pre');
    expect(pres.map(p => p.textContent)).toEqual([
      'import shelf\nshelf.load("torchvision/0.17.0")\n',
      "module load 'torchvision/0.17.0'\n"
    ]);
    const copies = qa('.jp-ShelfSoftware-code button').filter(b => b.textContent === 'Copy');
    expect(copies.length).toBe(2);
    copies[1].click();
    expect(ui.copied).toEqual(["module load 'torchvision/0.17.0'\n"]);
  });
});

describe('kernel', () => {
  it('offers to apply a change to the running kernel and runs the code', async () => {
    const kernel = new FakeKernel();
    make({ kernel: () => kernel });
    await panel.refresh();
    await panel.load(['torchvision/0.17.0'], 'torchvision');
    const offer = q('.jp-ShelfSoftware-kernelOffer')!;
    expect(offer.hidden).toBe(false);
    expect(offer.textContent).toContain('Apply to the running kernel of Untitled.ipynb?');
    buttonNamed(offer, 'Apply to kernel')!.click();
    await until(() => kernel.codes.length === 1 && !!offer.querySelector('.jp-ShelfSoftware-kernelDone'));
    expect(kernel.codes[0]).toBe('import shelf\nshelf.purge()\nshelf.load("torchvision/0.17.0")\n');
  });

  it('reports the traceback of a failure', async () => {
    const kernel = new FakeKernel();
    kernel.reply = { ok: false, ename: 'ModuleError', evalue: 'cannot find the shelf command', traceback: ['\u001b[31mTraceback\u001b[0m'] };
    make({ kernel: () => kernel });
    await panel.refresh();
    await panel.load(['torch/2.2.0'], 'torch');
    expect(await panel.applyToKernel()).toBe(false);
    const offer = q('.jp-ShelfSoftware-kernelOffer')!;
    expect(offer.textContent).toContain('ModuleError: cannot find the shelf command');
    expect(offer.querySelector('.jp-ShelfSoftware-traceback')!.textContent).toBe('Traceback');
  });

  it('offers nothing without a kernel', async () => {
    make();
    await panel.refresh();
    await panel.load(['torch/2.2.0'], 'torch');
    expect(q('.jp-ShelfSoftware-kernelOffer')!.hidden).toBe(true);
  });
});

describe('web apps', () => {
  it('reports the web apps after loads and unloads', async () => {
    const seen: WebApp[][] = [];
    make({ onWebapps: apps => seen.push(apps) });
    await panel.refresh();
    expect(seen[seen.length - 1]).toEqual([]);
    await panel.load(['code-server/4.22.1'], 'code-server');
    await until(() => seen[seen.length - 1].length === 1);
    expect(seen[seen.length - 1][0].key).toBe('CODE_SERVER');
    await panel.unload('code-server/4.22.1');
    await until(() => seen[seen.length - 1].length === 0);
  });
});

describe('live refresh', () => {
  it('re-fetches the loaded set on a loaded event and modules on a tree event, keeping the filter', async () => {
    let push!: (text: string) => void;
    api.openEvents = async () => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          push = text => controller.enqueue(enc.encode(text));
        }
      });
      return new Response(body, { status: 200 });
    };
    make({ liveEvents: true });
    await panel.start();
    panel.applyFilter('torch');
    await until(() => typeof push === 'function');
    // another tab loads torchvision in the same context
    api.loadedList = [
      { fullname: 'torch/2.2.0', name: 'torch', user_loaded: false, dependency: true, needed_by: ['torchvision'] },
      { fullname: 'torchvision/0.17.0', name: 'torchvision', user_loaded: true }
    ];
    push('event: loaded\ndata: {"client":"jupyter","loaded":["torch/2.2.0","torchvision/0.17.0"]}\n\n');
    await until(() => !!q('[data-loaded="torchvision/0.17.0"]'));
    // a loaded event of another client is not ours
    const n = api.callsOf('loaded').length;
    push('event: loaded\ndata: {"client":"someone-else","loaded":[]}\n\n');
    await settle();
    expect(api.callsOf('loaded').length).toBe(n);
    // a new module appears in the tree
    api.modulesList = api.modulesList.concat([
      { name: 'torchaudio', description: 'Audio for torch', category: 'Python', default: 'torchaudio/2.2.0', versions: [{ version: '2.2.0', fullname: 'torchaudio/2.2.0', default: true }] }
    ]);
    push('event: tree\ndata: {"dir":"/opt/mf/Core","generation":2}\n\n');
    await until(() => !!q('[data-module="torchaudio"]'));
    expect((q('input.jp-ShelfSoftware-filter') as HTMLInputElement).value).toBe('torch');
    expect(q('[data-module="gcc"]')).toBeNull();
  });
});
