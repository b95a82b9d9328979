/*
 * fake.ts: an in-memory stand-in for the Shelf API (a few modules shaped
 * like the sample tree), the panel's dialogs, and a kernel, for the tests.
 */
import { ApiError, ShelfAPI } from '../../src/api';
import type { PanelUI, KernelTarget, KernelExecResult } from '../../src/panel';
import type {
  ActionResult,
  CollectionDetails,
  LoadedModule,
  ModuleDetails,
  ModuleEntry,
  WebApp
} from '../../src/types';

export function sampleModules(): ModuleEntry[] {
  const v = (name: string, version: string, extra: Record<string, unknown> = {}) => ({
    version,
    fullname: `${name}/${version}`,
    default: false,
    loaded: false,
    hidden: false,
    loadable: true,
    file: `/opt/mf/Core/${name}/${version}.lua`,
    requires: [] as string[][],
    ...extra
  });
  return [
    {
      name: 'torch',
      description: 'PyTorch stand-in',
      category: 'Python, Library',
      keywords: 'machine learning',
      default_fullname: 'torch/2.2.0',
      versions: [v('torch', '2.2.0', { default: true })]
    },
    {
      name: 'torchvision',
      description: 'Image models and datasets for torch',
      category: 'Python, Library',
      keywords: 'vision, images',
      default_fullname: 'torchvision/0.17.0',
      versions: [v('torchvision', '0.17.0', { default: true })]
    },
    {
      name: 'gcc',
      description: 'GNU compilers',
      category: 'Compiler',
      keywords: 'C, C++, Fortran',
      default_fullname: 'gcc/12.3.0',
      versions: [v('gcc', '12.3.0', { default: true }), v('gcc', '13.2.0')]
    },
    {
      name: 'hdf5',
      description: 'HDF5: hierarchical data format',
      category: 'Library, I/O',
      keywords: 'HDF5, I/O',
      default_fullname: 'hdf5/1.14.3',
      loadable: false,
      requires: [['gcc/12.3.0', 'openmpi/4.1.6'], ['gcc/13.2.0', 'openmpi/4.1.6']],
      versions: [
        v('hdf5', '1.14.3', { default: true, loadable: false, requires: [['gcc/12.3.0', 'openmpi/4.1.6']] })
      ]
    },
    {
      name: 'cuda',
      description: 'CUDA toolkit',
      category: 'Library',
      keywords: 'gpu',
      default_fullname: 'cuda/11.8.0',
      properties: { arch: ['gpu'] },
      versions: [v('cuda', '11.8.0', { default: true }), v('cuda', '12.2.2')]
    },
    {
      name: 'evil',
      description: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>',
      category: null,
      keywords: '',
      default_fullname: 'evil/1.0',
      versions: [v('evil', '1.0', { default: true })]
    },
    {
      name: 'code-server',
      description: 'VS Code in the browser',
      category: 'Tools',
      keywords: 'editor, web',
      default_fullname: 'code-server/4.22.1',
      versions: [v('code-server', '4.22.1', { default: true })]
    }
  ] as ModuleEntry[];
}

export function unavailable(): ApiError {
  return new ApiError(503, 'daemon_unavailable', 'cannot connect to shelfd at /run/shelfd.sock');
}

interface Call {
  method: string;
  args: unknown[];
}

/** A controllable promise. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>(r => (open = r));
  return { promise, open };
}

export class FakeAPI implements ShelfAPI {
  modulesList: ModuleEntry[] = sampleModules();
  loadedList: LoadedModule[] = [];
  collectionsMap = new Map<string, CollectionDetails>();
  webappsList: WebApp[] = [];
  featured: string[] = ['torchvision'];
  down = false;
  failures = new Map<string, ApiError>();
  actionGate: Promise<void> | null = null;
  calls: Call[] = [];
  messages: string[] = [];

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.down) {
      throw unavailable();
    }
    const f = this.failures.get(method);
    if (f) {
      throw f;
    }
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter(c => c.method === method).map(c => c.args);
  }

  async status() {
    this.record('status');
    return { daemon: { ok: true }, client: 'jupyter', featured: this.featured };
  }
  async modules() {
    this.record('modules');
    return { modules: this.modulesList };
  }
  async module(fullname: string): Promise<ModuleDetails> {
    this.record('module', fullname);
    const [name, version] = fullname.split('/');
    const m = this.modulesList.find(x => x.name === name);
    if (!m) {
      throw new ApiError(404, 'not_found', `unknown module "${fullname}"`, { module: fullname });
    }
    const v = m.versions.find(x => x.version === version) || m.versions.find(x => x.default) || m.versions[0];
    return {
      name: m.name,
      version: v.version,
      fullname: v.fullname,
      file: v.file,
      default: v.default,
      loadable: v.loadable,
      requires: v.requires,
      description: m.description,
      category: m.category,
      keywords: m.keywords,
      family: m.name === 'gcc' ? 'compiler' : null,
      help: `${m.name} ${v.version}\n<script>alert(1)</script> help text`,
      properties: m.properties || {},
      dependencies: m.name === 'torchvision' ? [{ function: 'depends_on', modules: ['torch'] }] : [],
      show: [`whatis("Name: ${m.name}")`]
    };
  }
  async loaded() {
    this.record('loaded');
    return { client: 'jupyter', loaded: this.loadedList };
  }
  private result(): ActionResult {
    const messages = this.messages;
    this.messages = [];
    return { loaded: this.loadedList, changes: {}, messages };
  }
  private add(fullname: string, user: boolean, neededBy: string[] = []): void {
    if (this.loadedList.some(m => m.fullname === fullname)) {
      return;
    }
    const [sn, version] = fullname.split('/');
    this.loadedList = this.loadedList.concat([
      {
        fullname,
        name: sn,
        version,
        user_loaded: user,
        dependency: !user,
        active: true,
        family: sn === 'gcc' ? 'compiler' : null,
        needed_by: neededBy
      }
    ]);
  }
  async load(modules: string[]): Promise<ActionResult> {
    this.record('load', modules);
    if (this.actionGate) {
      await this.actionGate;
    }
    for (const full of modules) {
      const name = full.split('/')[0];
      if (name === 'torchvision') {
        this.add('torch/2.2.0', false, ['torchvision']);
      }
      const m = this.modulesList.find(x => x.name === name);
      const v = m?.versions.find(x => x.fullname === full) || m?.versions.find(x => x.default);
      this.add(v ? v.fullname : full, true);
      if (name === 'code-server') {
        this.webappsList = [{ key: 'CODE_SERVER', title: 'VS Code', icon: null, running: false, url: '/shelf/app/CODE_SERVER/' }];
      }
    }
    return this.result();
  }
  async unload(modules: string[]): Promise<ActionResult> {
    this.record('unload', modules);
    if (this.actionGate) {
      await this.actionGate;
    }
    for (const full of modules) {
      const name = full.split('/')[0];
      this.loadedList = this.loadedList.filter(
        m => m.name !== name && !(name === 'torchvision' && m.name === 'torch')
      );
      if (name === 'code-server') {
        this.webappsList = [];
      }
    }
    return this.result();
  }
  async swap(oldName: string | null, newName: string): Promise<ActionResult> {
    this.record('swap', oldName, newName);
    this.loadedList = this.loadedList.filter(m => m.fullname !== oldName);
    this.add(newName, true);
    return this.result();
  }
  async purge(): Promise<ActionResult> {
    this.record('purge');
    this.loadedList = [];
    this.webappsList = [];
    return this.result();
  }
  async restore(name: string, allowChanges: boolean): Promise<ActionResult> {
    this.record('restore', name, allowChanges);
    const c = this.collectionsMap.get(name);
    if (!c) {
      throw new ApiError(404, 'not_found', `unknown collection "${name}"`);
    }
    if (c.drifted && !allowChanges) {
      throw new ApiError(409, 'drift', `collection "${name}" no longer matches the trees`);
    }
    this.loadedList = [];
    for (const m of (c.modules as string[]) || []) {
      this.add(m, true);
    }
    return this.result();
  }
  async collections() {
    this.record('collections');
    return {
      collections: Array.from(this.collectionsMap.values()).map(c => ({
        name: c.name,
        created: c.created,
        modules: (c.modules || []).length
      }))
    };
  }
  async collection(name: string): Promise<CollectionDetails> {
    this.record('collection', name);
    const c = this.collectionsMap.get(name);
    if (!c) {
      throw new ApiError(404, 'not_found', `unknown collection "${name}"`);
    }
    return c;
  }
  async saveCollection(name: string): Promise<CollectionDetails> {
    this.record('saveCollection', name);
    const c: CollectionDetails = {
      name,
      created: '2026-11-22T21:03:00Z',
      modules: this.loadedList.filter(m => m.user_loaded).map(m => m.fullname),
      drift: [],
      drifted: false
    };
    this.collectionsMap.set(name, c);
    return c;
  }
  async deleteCollection(name: string) {
    this.record('deleteCollection', name);
    this.collectionsMap.delete(name);
    return { deleted: name };
  }
  async preamble(lang: 'python' | 'bash') {
    this.record('preamble', lang);
    const mods = this.loadedList.filter(m => m.user_loaded).map(m => m.fullname);
    const code =
      lang === 'python'
        ? 'import shelf\n' + (mods.length ? `shelf.load(${mods.map(m => JSON.stringify(m)).join(', ')})\n` : '')
        : mods.map(m => `module load '${m}'\n`).join('');
    return { lang, code, modules: mods };
  }
  async webapps() {
    this.record('webapps');
    return this.webappsList;
  }
  async startWebapp(key: string) {
    this.record('startWebapp', key);
    return { url: `/shelf/app/${key}/` };
  }
  openEvents(): Promise<Response> {
    return new Promise(() => undefined);
  }
}

export class FakeUI implements PanelUI {
  errors: Array<{ title: string; body: string }> = [];
  confirms: Array<{ title: string; body: string; accept: string }> = [];
  prompts: string[] = [];
  copied: string[] = [];
  answers: Array<string | null> = [];
  confirmAnswer = true;
  async showError(title: string, body: string): Promise<void> {
    this.errors.push({ title, body });
  }
  async confirm(title: string, body: string, accept: string): Promise<boolean> {
    this.confirms.push({ title, body, accept });
    return this.confirmAnswer;
  }
  async prompt(title: string): Promise<string | null> {
    this.prompts.push(title);
    return this.answers.length ? (this.answers.shift() as string | null) : null;
  }
  copy(text: string): void {
    this.copied.push(text);
  }
}

export class FakeKernel implements KernelTarget {
  name = 'Untitled.ipynb';
  codes: string[] = [];
  reply: KernelExecResult = { ok: true };
  async execute(code: string): Promise<KernelExecResult> {
    this.codes.push(code);
    return this.reply;
  }
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise(r => setTimeout(r, 0));
  }
}

/** Waits until `cond()` holds (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error('condition not met in time');
    }
    await new Promise(r => setTimeout(r, 5));
  }
}
