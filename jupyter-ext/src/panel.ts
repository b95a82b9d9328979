/*
 * panel.ts: the Software panel, a Lumino widget in plain DOM.
 *
 * It shows the modules of the Shelf daemon (filter, Featured, Loaded,
 * Available, Collections), a details view per module, the code that
 * recreates the loaded set, and the offer to apply a change to a running
 * kernel. It talks to the server only through the injected `ShelfAPI` and
 * to the user through the injected `PanelUI` (dialogs, clipboard), so it
 * runs unchanged in a test DOM. Data is always rendered with textContent,
 * never parsed as HTML. When the service is unreachable it says so in a
 * status line and retries with backoff; no request blocks the interface.
 */

import { Widget } from '@lumino/widgets';

import { ApiError, ShelfAPI } from './api';
import { EventStream } from './events';
import {
  IndexedModule,
  buildIndex,
  backoffSeconds,
  defaultVersion,
  driftText,
  errorBody,
  filterIndex,
  formatCreated,
  isUserLoaded,
  kernelCode,
  loadSequence,
  messageText,
  moduleLoadSequence,
  needsText,
  otherVersions,
  propertyBadges,
  swapCandidate,
  userLoaded,
  validateCollectionName,
  versionLabel
} from './logic';
import type {
  ActionResult,
  CollectionDetails,
  CollectionSummary,
  LoadedModule,
  ModuleDetails,
  ModuleEntry,
  ModuleVersion,
  ShelfEvent,
  WebApp
} from './types';

/** The dialogs and clipboard the panel uses (JupyterLab's in the app, fakes in tests). */
export interface PanelUI {
  /** An error dialog: `body` is plain text (may hold newlines). */
  showError(title: string, body: string): Promise<void>;
  /** A yes/no dialog; resolves true when `accept` was chosen. */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
  /** Asks for a line of text; null when cancelled. */
  prompt(title: string, label: string, value?: string): Promise<string | null>;
  /** Copies text to the clipboard. */
  copy(text: string): void;
}

export interface KernelExecResult {
  ok: boolean;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** A running kernel the panel may apply its loaded set to. */
export interface KernelTarget {
  /** What the user calls it: the notebook's name. */
  name: string;
  execute(code: string): Promise<KernelExecResult>;
}

export interface SoftwarePanelOptions {
  api: ShelfAPI;
  ui: PanelUI;
  /** Featured module names from the settings; overrides the server's list when non-empty. */
  featured?: string[];
  /** Rows of Available rendered at once (default 200). */
  maxRows?: number;
  /** The kernel of the current notebook, or null. */
  kernel?: () => KernelTarget | null;
  /** Called with the server's web apps whenever they were fetched. */
  onWebapps?: (apps: WebApp[]) => void;
  /** Follow the event stream (default true; started by start()). */
  liveEvents?: boolean;
  /** Milliseconds per second of retry delay (tests make it small); default 1000. */
  retryUnitMs?: number;
}

type SectionKey = 'featured' | 'loaded' | 'available' | 'collections';
type View = 'lists' | 'details' | 'code';

const SECTION_TITLES: Record<SectionKey, string> = {
  featured: 'Featured',
  loaded: 'Loaded',
  available: 'Available',
  collections: 'Collections'
};

interface Section {
  root: HTMLElement;
  toggle: HTMLButtonElement;
  count: HTMLElement;
  actions: HTMLElement;
  body: HTMLElement;
}

type Child = Node | string | null | undefined | false;

/** Makes an element with a class, attributes and children (strings become text nodes). */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string | null,
  attrs?: Record<string, string> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      node.setAttribute(k, v);
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** Appends children, skipping the absent ones. */
function append(node: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c !== null && c !== undefined && c !== false) {
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
  }
}

function clear(node: Element): void {
  node.textContent = '';
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

const P = 'jp-ShelfSoftware';

/** Rows of Available made per task while the user types. */
const FIRST_ROWS = 40;

export class SoftwarePanel extends Widget {
  private api: ShelfAPI;
  private readonly ui: PanelUI;
  private readonly maxRows: number;
  private readonly kernel: () => KernelTarget | null;
  private readonly onWebapps: (apps: WebApp[]) => void;
  private readonly liveEvents: boolean;
  private readonly retryUnitMs: number;

  // data
  private index: IndexedModule[] = [];
  private byName = new Map<string, ModuleEntry>();
  private loaded: LoadedModule[] = [];
  private loadedSet = new Set<string>();
  /** Rendered Available rows, reused while modules and the loaded set stay the same. */
  private rowCache = new Map<ModuleEntry, HTMLElement>();
  private renderToken = 0;
  private renderPending = false;
  private renderWaiters: Array<() => void> = [];
  private collections: CollectionSummary[] = [];
  private collectionDetails = new Map<string, CollectionDetails>();
  private collectionsError: string | null = null;
  private featuredSetting: string[];
  private featuredServer: string[] = [];
  private client: string | null = null;
  private haveModules = false;

  // view state
  private view: View = 'lists';
  private limit: number;
  private expanded = new Set<string>();
  private collapsed = new Set<SectionKey>();
  private busy = new Map<string, string>();
  private detailsName: string | null = null;
  private detailsData: ModuleDetails | null = null;
  private listsScroll = 0;
  private frame: number | null = null;
  private offerTarget: KernelTarget | null = null;

  // availability
  private retryAttempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private retryAt = 0;
  private unavailableMessage: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private events: EventStream | null = null;
  private eventsLost = false;

  // DOM
  readonly filterInput: HTMLInputElement;
  private readonly statusNode: HTMLElement;
  private readonly statusText: HTMLElement;
  private readonly messagesNode: HTMLElement;
  private readonly messagesList: HTMLElement;
  private readonly offerNode: HTMLElement;
  private readonly bodyNode: HTMLElement;
  private readonly listsNode: HTMLElement;
  private readonly detailsNode: HTMLElement;
  private readonly codeNode: HTMLElement;
  private readonly sections = {} as Record<SectionKey, Section>;

  constructor(options: SoftwarePanelOptions) {
    super();
    this.api = options.api;
    this.ui = options.ui;
    this.maxRows = options.maxRows && options.maxRows > 0 ? options.maxRows : 200;
    this.limit = this.maxRows;
    this.kernel = options.kernel || (() => null);
    this.onWebapps = options.onWebapps || (() => undefined);
    this.liveEvents = options.liveEvents !== false;
    this.retryUnitMs = options.retryUnitMs ?? 1000;
    this.featuredSetting = (options.featured || []).filter(s => typeof s === 'string' && s);

    this.id = 'shelf-software';
    this.addClass(P);
    this.title.caption = 'Software';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Software');

    // header: filter and tools
    this.filterInput = h('input', `${P}-filter jp-mod-styled`, {
      type: 'search',
      placeholder: 'Filter modules',
      'aria-label': 'Filter modules',
      spellcheck: 'false',
      autocomplete: 'off'
    });
    this.filterInput.addEventListener('input', () => this.scheduleFilter());
    const refreshButton = this.button('Refresh', `${P}-tool`, 'Refresh', () => void this.refresh());
    const codeButton = this.button('Generate code', `${P}-tool`, 'Generate code', () => void this.showCode());
    const header = h(
      'div',
      `${P}-header`,
      null,
      h('h2', `${P}-title`, null, 'Software'),
      h('div', `${P}-toolbar`, null, this.filterInput, refreshButton, codeButton)
    );

    // status line
    this.statusText = h('span', `${P}-statusText`);
    this.statusNode = h(
      'div',
      `${P}-status`,
      { role: 'status', 'aria-live': 'polite' },
      this.statusText,
      this.button('Retry now', `${P}-retry`, null, () => void this.retryNow())
    );
    this.statusNode.hidden = true;

    // messages (warnings of actions)
    this.messagesList = h('ul', `${P}-messageList`);
    this.messagesNode = h(
      'div',
      `${P}-messages`,
      { role: 'status', 'aria-live': 'polite' },
      this.messagesList,
      this.button('Dismiss', `${P}-dismiss`, 'Dismiss messages', () => this.setMessages([]))
    );
    this.messagesNode.hidden = true;

    // kernel offer
    this.offerNode = h('div', `${P}-kernelOffer`, { role: 'status', 'aria-live': 'polite' });
    this.offerNode.hidden = true;

    // lists, details, code
    this.listsNode = h('div', `${P}-lists`);
    for (const key of ['featured', 'loaded', 'available', 'collections'] as SectionKey[]) {
      const s = this.makeSection(key);
      this.sections[key] = s;
      this.listsNode.appendChild(s.root);
    }
    this.detailsNode = h('div', `${P}-details`, { role: 'region', 'aria-label': 'Module details' });
    this.detailsNode.hidden = true;
    this.codeNode = h('div', `${P}-code`, { role: 'region', 'aria-label': 'Generated code' });
    this.codeNode.hidden = true;
    this.bodyNode = h('div', `${P}-body`, null, this.listsNode, this.detailsNode, this.codeNode);

    this.node.append(header, this.statusNode, this.messagesNode, this.offerNode, this.bodyNode);
    this.node.addEventListener('keydown', ev => {
      if (ev.key === 'Escape' && this.view !== 'lists') {
        ev.preventDefault();
        ev.stopPropagation();
        this.showLists();
      }
    });

    // Save collection, Unload all: in the section headers
    this.sections.loaded.actions.appendChild(
      this.actionButton('purge', 'Unload all', 'Unloading…', null, () => void this.purge())
    );
    this.sections.collections.actions.appendChild(
      this.button('Save as…', `${P}-save`, 'Save collection', () => void this.saveCollection())
    );
    this.renderAll();
  }

  // ------------------------------------------------------------------ life

  /** Fetches everything and follows the event stream. */
  start(): Promise<boolean> {
    if (this.liveEvents && !this.events) {
      this.events = new EventStream({
        api: { openEvents: signal => this.api.openEvents(signal) },
        onEvent: ev => this.handleEvent(ev),
        onConnection: connected => {
          if (!connected) {
            this.eventsLost = true;
          } else if (this.eventsLost) {
            // events may have been missed while disconnected
            this.eventsLost = false;
            void this.refresh();
          }
        }
      });
      this.events.start();
    }
    return this.refresh();
  }

  /** Uses another API client (e.g. after the daemon location setting changed). */
  setApi(api: ShelfAPI): void {
    this.api = api;
    if (this.events) {
      this.events.stop();
      this.events = null;
      void this.start();
    } else {
      void this.refresh();
    }
  }

  /** The featured list from the settings (empty: the server's list). */
  setFeatured(names: string[]): void {
    this.featuredSetting = names.filter(s => typeof s === 'string' && s);
    this.renderFeatured();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.events?.stop();
    this.events = null;
    this.clearRetry();
    super.dispose();
  }

  /** The user-loaded modules, in load order. */
  get userLoadedModules(): string[] {
    return userLoaded(this.loaded);
  }

  /** The current view. */
  get currentView(): View {
    return this.view;
  }

  // --------------------------------------------------------------- fetching

  /**
   * Fetches modules and the loaded set (then, in the background, status,
   * collections and web apps). Resolves false when the service could not
   * be reached (the status line then says so and a retry is scheduled).
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    try {
      const [mods, loaded] = await Promise.all([this.api.modules(), this.api.loaded()]);
      this.setModules(mods.modules || []);
      this.setLoaded(loaded.loaded || []);
      if (loaded.client) {
        this.client = loaded.client;
      }
    } catch (err) {
      this.setUnavailable(err);
      return false;
    }
    this.setAvailable();
    this.preserveScroll(() => this.renderAll());
    await Promise.all([this.refreshStatus(), this.refreshCollections(), this.refreshWebapps()]);
    return true;
  }

  private async refreshModules(): Promise<void> {
    try {
      const mods = await this.api.modules();
      this.setModules(mods.modules || []);
      this.preserveScroll(() => {
        this.renderAvailable();
        this.renderFeatured();
      });
    } catch (err) {
      if (err instanceof ApiError && err.unavailable) {
        this.setUnavailable(err);
      }
    }
  }

  private async refreshLoaded(): Promise<void> {
    try {
      const answer = await this.api.loaded();
      this.setLoaded(answer.loaded || []);
      this.preserveScroll(() => this.renderLists());
      if (this.view === 'details' && this.detailsData) {
        this.renderDetails();
      }
    } catch (err) {
      if (err instanceof ApiError && err.unavailable) {
        this.setUnavailable(err);
      }
    }
  }

  private async refreshStatus(): Promise<void> {
    try {
      const status = await this.api.status();
      this.featuredServer = Array.isArray(status.featured)
        ? status.featured.filter(s => typeof s === 'string')
        : [];
      if (typeof status.client === 'string') {
        this.client = status.client;
      }
      this.preserveScroll(() => this.renderFeatured());
    } catch {
      // the status only adds the featured list: the rest works without it
    }
  }

  private async refreshCollections(): Promise<void> {
    try {
      const answer = await this.api.collections();
      this.collections = Array.isArray(answer.collections) ? answer.collections : [];
      this.collectionsError = null;
    } catch (err) {
      this.collectionsError = errorBody(err);
      this.preserveScroll(() => this.renderCollections());
      return;
    }
    this.preserveScroll(() => this.renderCollections());
    const details = await Promise.all(
      this.collections.map(c => this.api.collection(c.name).then(d => d, () => null))
    );
    this.collectionDetails.clear();
    details.forEach((d, i) => {
      if (d) {
        this.collectionDetails.set(this.collections[i].name, d);
      }
    });
    this.preserveScroll(() => this.renderCollections());
  }

  private async refreshWebapps(): Promise<void> {
    let apps: WebApp[];
    try {
      apps = await this.api.webapps();
    } catch {
      return;
    }
    try {
      this.onWebapps(apps);
    } catch (err) {
      console.error('shelf: updating the launcher failed', err);
    }
  }

  private handleEvent(ev: ShelfEvent): void {
    if (ev.type === 'tree' || ev.type === 'index' || ev.type === 'catalog') {
      void this.refreshModules();
    } else if (ev.type === 'loaded') {
      const data = ev.data as { client?: string } | null;
      if (data && typeof data === 'object' && data.client && this.client && data.client !== this.client) {
        return;
      }
      void this.refreshLoaded().then(() => this.refreshModules());
      void this.refreshWebapps();
    }
  }

  private setModules(modules: ModuleEntry[]): void {
    this.index = buildIndex(modules);
    this.byName = new Map(modules.map(m => [m.name, m]));
    this.rowCache.clear();
    this.haveModules = true;
  }

  private setLoaded(loaded: LoadedModule[]): void {
    this.loaded = loaded;
    this.loadedSet = new Set(loaded.map(m => m.fullname));
    this.rowCache.clear();
  }

  // ----------------------------------------------------------- availability

  private setUnavailable(err: unknown): void {
    const unavailable = !(err instanceof ApiError) || err.unavailable;
    const what = unavailable ? 'Software service unavailable' : 'Could not read the module list';
    this.unavailableMessage = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    this.clearRetry();
    const seconds = backoffSeconds(this.retryAttempt++);
    this.retryAt = Date.now() + seconds * this.retryUnitMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.refresh();
    }, seconds * this.retryUnitMs);
    this.tickTimer = setInterval(() => this.renderStatus(), Math.max(50, Math.min(1000, this.retryUnitMs)));
    this.renderStatus();
    if (!this.haveModules) {
      this.renderAvailable();
    }
  }

  private setAvailable(): void {
    this.clearRetry();
    this.retryAttempt = 0;
    this.unavailableMessage = null;
    this.renderStatus();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.tickTimer !== null) {
      clearInterval(this.tickTimer);
      this.tickTimer = null;
    }
  }

  /** Retries at once (the status line's "Retry now"). */
  retryNow(): Promise<boolean> {
    this.clearRetry();
    return this.refresh();
  }

  private renderStatus(): void {
    if (!this.unavailableMessage) {
      this.statusNode.hidden = true;
      this.statusText.textContent = '';
      return;
    }
    const left = Math.max(0, Math.ceil((this.retryAt - Date.now()) / this.retryUnitMs));
    this.statusText.textContent =
      this.retryTimer !== null
        ? `${this.unavailableMessage}. Retrying in ${left} s`
        : `${this.unavailableMessage}. Retrying…`;
    this.statusNode.hidden = false;
  }

  // ---------------------------------------------------------------- helpers

  private button(
    text: string,
    cls: string | null,
    label: string | null,
    onClick: (ev: MouseEvent) => void
  ): HTMLButtonElement {
    const b = h('button', `${cls || ''} jp-Button ${P}-button`.trim(), { type: 'button' }, text);
    if (label) {
      b.setAttribute('aria-label', label);
    }
    b.addEventListener('click', ev => {
      ev.stopPropagation();
      onClick(ev);
    });
    return b;
  }

  /** A button of an action that shows progress while the action `key` runs. */
  private actionButton(
    key: string,
    text: string,
    progress: string,
    label: string | null,
    onClick: () => void
  ): HTMLButtonElement {
    const b = this.button(text, `${P}-action`, label, onClick);
    b.dataset.actionKey = key;
    b.dataset.text = text;
    b.dataset.progress = progress;
    this.paintBusy(b);
    return b;
  }

  private paintBusy(b: HTMLButtonElement): void {
    const key = b.dataset.actionKey || '';
    const busy = this.busy.has(key);
    b.disabled = busy;
    b.classList.toggle('jp-mod-busy', busy);
    if (busy) {
      b.setAttribute('aria-busy', 'true');
      b.textContent = b.dataset.progress || '…';
    } else {
      b.removeAttribute('aria-busy');
      b.textContent = b.dataset.text || '';
    }
  }

  private paintAllBusy(): void {
    this.node.querySelectorAll('button[data-action-key]').forEach(b => this.paintBusy(b as HTMLButtonElement));
  }

  private preserveScroll(fn: () => void): void {
    const top = this.bodyNode.scrollTop;
    fn();
    if (this.bodyNode.scrollTop !== top) {
      this.bodyNode.scrollTop = top;
    }
  }

  private makeSection(key: SectionKey): Section {
    const bodyId = `${P}-section-${key}`;
    const count = h('span', `${P}-count`);
    const toggle = h(
      'button',
      `${P}-sectionToggle`,
      { type: 'button', 'aria-expanded': 'true', 'aria-controls': bodyId },
      h('span', `${P}-caret`, { 'aria-hidden': 'true' }),
      h('span', `${P}-sectionTitle`, null, SECTION_TITLES[key]),
      count
    );
    const actions = h('div', `${P}-sectionActions`);
    const body = h('div', `${P}-sectionBody`, { id: bodyId });
    const root = h(
      'section',
      `${P}-section`,
      { 'data-section': key, 'aria-label': SECTION_TITLES[key] },
      h('div', `${P}-sectionHeader`, null, h('h3', `${P}-sectionHeading`, null, toggle), actions),
      body
    );
    toggle.addEventListener('click', () => {
      const open = this.collapsed.has(key);
      if (open) {
        this.collapsed.delete(key);
      } else {
        this.collapsed.add(key);
      }
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      root.classList.toggle('jp-mod-collapsed', !open);
      body.hidden = !open;
    });
    return { root, toggle, count, actions, body };
  }

  /** Makes a row focusable and opens `open` on click, Enter or Space. */
  private activatable(row: HTMLElement, open: () => void): void {
    row.tabIndex = 0;
    row.addEventListener('click', ev => {
      const target = ev.target as Element | null;
      if (target && target.closest && target.closest('button, a, input')) {
        return;
      }
      ev.stopPropagation();
      open();
    });
    row.addEventListener('keydown', ev => {
      if (ev.target !== row) {
        return;
      }
      if (ev.key === 'Enter' || ev.key === ' ' || ev.key === 'Spacebar') {
        ev.preventDefault();
        ev.stopPropagation();
        open();
      }
    });
  }

  private badges(props: Record<string, string[]> | null | undefined): HTMLElement[] {
    return propertyBadges(props).map(b => h('span', `${P}-badge`, { title: 'property' }, b));
  }

  // -------------------------------------------------------------- rendering

  private renderAll(): void {
    this.renderLists();
    this.renderAvailable();
    this.renderStatus();
  }

  /** Everything but Available (which only changes with modules and the filter). */
  private renderLists(): void {
    this.renderFeatured();
    this.renderLoaded();
    this.renderCollections();
    // loaded marks in Available
    this.node.querySelectorAll(`.${P}-lists [data-module]`).forEach(row => {
      const m = this.byName.get((row as HTMLElement).dataset.module || '');
      if (m) {
        row.classList.toggle('jp-mod-loaded', this.moduleLoaded(m));
      }
    });
  }

  private moduleLoaded(m: ModuleEntry): boolean {
    return (m.versions || []).some(v => this.loadedSet.has(v.fullname));
  }

  private featuredNames(): string[] {
    return this.featuredSetting.length ? this.featuredSetting : this.featuredServer;
  }

  private renderFeatured(): void {
    const s = this.sections.featured;
    clear(s.body);
    const names = this.featuredNames();
    const query = this.filterInput.value;
    const wanted = new Set<ModuleEntry>();
    const missing: string[] = [];
    for (const name of names) {
      const m = this.byName.get(name) || this.byName.get(name.split('/')[0]);
      if (m) {
        wanted.add(m);
      } else if (this.haveModules) {
        missing.push(name);
      }
    }
    const shown = filterIndex(
      this.index.filter(e => wanted.has(e.module)),
      query
    );
    // keep the configured order
    const order = new Map<ModuleEntry, number>();
    Array.from(wanted).forEach((m, i) => order.set(m, i));
    shown.sort((a, b) => (order.get(a.module) ?? 0) - (order.get(b.module) ?? 0));
    s.count.textContent = names.length ? ` (${shown.length})` : '';
    if (names.length === 0) {
      s.body.appendChild(h('p', `${P}-empty`, null, 'No featured software.'));
      return;
    }
    const list = h('div', `${P}-list`, { role: 'list' });
    for (const e of shown) {
      list.appendChild(this.moduleRow(e.module, 'featured'));
    }
    s.body.appendChild(list);
    if (shown.length === 0) {
      s.body.appendChild(
        h('p', `${P}-empty`, null, this.haveModules ? 'No featured module matches the filter.' : 'Loading…')
      );
    }
  }

  private renderLoaded(): void {
    const s = this.sections.loaded;
    clear(s.body);
    s.count.textContent = ` (${this.loaded.length})`;
    const purge = s.actions.querySelector('button') as HTMLButtonElement | null;
    if (purge && !this.busy.has('purge')) {
      purge.disabled = this.loaded.length === 0;
    }
    if (this.loaded.length === 0) {
      s.body.appendChild(h('p', `${P}-empty`, null, 'No module loaded.'));
      return;
    }
    const list = h('ul', `${P}-list`);
    for (const m of this.loaded) {
      const user = isUserLoaded(m);
      const row = h(
        'li',
        `${P}-loaded ${user ? `${P}-user` : `${P}-dependency`}`,
        { 'data-loaded': m.fullname, 'data-kind': user ? 'user' : 'dependency' },
        h('span', `${P}-name`, null, m.fullname),
        !user && m.needed_by && m.needed_by.length
          ? h('span', `${P}-neededBy`, null, `needed by ${m.needed_by.join(', ')}`)
          : !user
          ? h('span', `${P}-neededBy`, null, 'dependency')
          : null,
        ...this.badges(m.properties),
        h('span', `${P}-spacer`),
        user
          ? this.actionButton(`unload:${m.fullname}`, 'Unload', 'Unloading…', `Unload ${m.fullname}`, () =>
              void this.unload(m.fullname)
            )
          : null
      );
      this.activatable(row, () => void this.openDetails(m.fullname));
      list.appendChild(row);
    }
    s.body.appendChild(list);
  }

  /** A row of a module: name, default version, badges, description, needs, versions. */
  private moduleRow(m: ModuleEntry, where: 'available' | 'featured'): HTMLElement {
    const def = defaultVersion(m);
    const others = otherVersions(m);
    const loaded = this.moduleLoaded(m);
    const rowAttrs: Record<string, string> =
      where === 'available' ? { 'data-module': m.name, role: 'listitem' } : { 'data-featured': m.name, role: 'listitem' };
    const row = h('div', `${P}-module${loaded ? ' jp-mod-loaded' : ''}`, rowAttrs);
    const head = h(
      'div',
      `${P}-rowHead`,
      null,
      h('span', `${P}-name`, null, m.name),
      def ? h('span', `${P}-version`, null, versionLabel(def)) : null,
      ...this.badges(m.properties),
      loaded ? h('span', `${P}-loadedMark`, null, 'loaded') : null
    );
    const expandKey = `${where}:${m.name}`;
    const open = this.expanded.has(expandKey);
    if (where === 'available' && others.length > 0) {
      const toggle = this.button(
        `+${others.length}`,
        `${P}-versionsToggle`,
        `Other versions of ${m.name}`,
        () => {
          if (this.expanded.has(expandKey)) {
            this.expanded.delete(expandKey);
          } else {
            this.expanded.add(expandKey);
          }
          const fresh = this.moduleRow(m, where);
          if (where === 'available') {
            this.rowCache.set(m, fresh);
          }
          row.replaceWith(fresh);
          (fresh.querySelector(`.${P}-versionsToggle`) as HTMLElement | null)?.focus();
        }
      );
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      toggle.title = open ? 'Hide other versions' : 'Show other versions';
      head.appendChild(toggle);
    }
    if (!loaded && def) {
      const seq = moduleLoadSequence(m, Array.from(this.loadedSet));
      head.appendChild(
        this.actionButton(
          `load:${def.fullname}`,
          'Load',
          'Loading…',
          where === 'available' ? `Load ${m.name}` : `Load ${m.name} (featured)`,
          () =>
          void this.load(seq, m.name)
        )
      );
    }
    row.appendChild(head);
    if (m.description) {
      row.appendChild(h('div', `${P}-description`, null, m.description));
    }
    if (def && (def.loadable ?? m.loadable) === false) {
      const text = needsText(def.requires && def.requires.length ? def.requires : m.requires);
      if (text) {
        row.appendChild(h('div', `${P}-needs`, null, text));
      }
    }
    if (where === 'available' && others.length > 0 && open) {
      const box = h('div', `${P}-versions`, { role: 'list', 'aria-label': `Other versions of ${m.name}` });
      for (const v of others) {
        box.appendChild(this.versionRow(m, v));
      }
      row.appendChild(box);
    }
    this.activatable(row, () => void this.openDetails(def ? def.fullname : m.name));
    return row;
  }

  private versionRow(m: ModuleEntry, v: ModuleVersion): HTMLElement {
    const loaded = this.loadedSet.has(v.fullname);
    const needs = v.loadable === false ? needsText(v.requires) : '';
    const row = h(
      'div',
      `${P}-versionRow${loaded ? ' jp-mod-loaded' : ''}`,
      { 'data-version': v.fullname, role: 'listitem' },
      h('span', `${P}-version`, null, versionLabel(v)),
      loaded ? h('span', `${P}-loadedMark`, null, 'loaded') : null,
      needs ? h('span', `${P}-needs`, null, needs) : null,
      h('span', `${P}-spacer`),
      loaded
        ? null
        : this.actionButton(`load:${v.fullname}`, 'Load', 'Loading…', `Load ${v.fullname}`, () =>
            void this.load(loadSequence(v.fullname, v.loadable, v.requires, Array.from(this.loadedSet)), v.fullname)
          )
    );
    this.activatable(row, () => void this.openDetails(v.fullname));
    void m;
    return row;
  }

  /**
   * Renders Available. With `sync` false (typing in the filter) only the
   * first rows are made at once and the rest in the next tasks, so a
   * keystroke never waits for a full page of rows; else all rows at once
   * (a refresh keeps the scroll position).
   */
  private renderAvailable(sync = true): void {
    const s = this.sections.available;
    const token = ++this.renderToken;
    this.renderPending = false;
    clear(s.body);
    if (!this.haveModules) {
      s.count.textContent = '';
      s.body.appendChild(
        h('p', `${P}-empty`, null, this.unavailableMessage ? 'The module list is not available yet.' : 'Loading…')
      );
      return;
    }
    const query = this.filterInput.value;
    const shown = filterIndex(this.index, query);
    const total = this.index.length;
    s.count.textContent =
      shown.length === total
        ? ` (${total.toLocaleString('en-US')})`
        : ` (${shown.length.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})`;
    if (shown.length === 0) {
      s.body.appendChild(
        h('p', `${P}-empty`, null, total === 0 ? 'No module in the trees.' : `No module matches “${query.trim()}”.`)
      );
      return;
    }
    const upto = Math.min(shown.length, this.limit);
    let category: string | null = null;
    let list: HTMLElement | null = null;
    let i = 0;
    const chunk = (count: number) => {
      const frag = document.createDocumentFragment();
      const stop = Math.min(upto, i + count);
      for (; i < stop; i++) {
        const e = shown[i];
        if (e.category !== category || !list) {
          category = e.category;
          const group = h('div', `${P}-category`, { 'data-category': category });
          group.appendChild(h('h4', `${P}-categoryTitle`, null, category));
          list = h('div', `${P}-list`, { role: 'list', 'aria-label': category });
          group.appendChild(list);
          frag.appendChild(group);
        }
        let row = this.rowCache.get(e.module);
        if (row) {
          row.querySelectorAll('button[data-action-key]').forEach(b => this.paintBusy(b as HTMLButtonElement));
        } else {
          row = this.moduleRow(e.module, 'available');
          this.rowCache.set(e.module, row);
        }
        list.appendChild(row);
      }
      s.body.appendChild(frag);
    };
    const finish = () => {
      const left = shown.length - upto;
      if (left > 0) {
        const n = Math.min(left, this.maxRows);
        s.body.appendChild(
          this.button(`Show ${n.toLocaleString('en-US')} more`, `${P}-more`, null, () => {
            this.limit += this.maxRows;
            this.preserveScroll(() => this.renderAvailable());
          })
        );
        s.body.appendChild(h('p', `${P}-hint`, null, `${plural(left, 'module')} not shown`));
      }
      this.renderPending = false;
      const waiting = this.renderWaiters;
      this.renderWaiters = [];
      waiting.forEach(w => w());
    };
    if (sync) {
      chunk(upto);
      finish();
      return;
    }
    const step = () => {
      if (token !== this.renderToken) {
        return;
      }
      chunk(FIRST_ROWS);
      if (i < upto) {
        setTimeout(step, 0);
      } else {
        finish();
      }
    };
    this.renderPending = true;
    step();
  }

  /** Resolves when the rows of Available are all rendered. */
  rendered(): Promise<void> {
    if (!this.renderPending) {
      return Promise.resolve();
    }
    return new Promise(resolve => this.renderWaiters.push(resolve));
  }

  private renderCollections(): void {
    const s = this.sections.collections;
    clear(s.body);
    s.count.textContent = ` (${this.collections.length})`;
    if (this.collectionsError) {
      s.body.appendChild(h('p', `${P}-error`, null, `Could not list collections: ${this.collectionsError}`));
    }
    if (this.collections.length === 0) {
      if (!this.collectionsError) {
        s.body.appendChild(h('p', `${P}-empty`, null, 'No saved collection.'));
      }
      return;
    }
    const list = h('ul', `${P}-list`);
    for (const c of this.collections) {
      const details = this.collectionDetails.get(c.name);
      const count = typeof c.modules === 'number' ? c.modules : Array.isArray(c.modules) ? c.modules.length : null;
      const meta = [count !== null ? plural(count, 'module') : '', formatCreated(c.created)].filter(Boolean).join(' · ');
      const description = c.description || details?.description || '';
      const drift = details && details.drifted ? driftText(details.drift) || 'changed since saved' : '';
      const row = h(
        'li',
        `${P}-collection${drift ? ' jp-mod-drifted' : ''}`,
        { 'data-collection': c.name },
        h(
          'div',
          `${P}-rowHead`,
          null,
          h('span', `${P}-name`, null, c.name),
          h('span', `${P}-meta`, null, meta),
          h('span', `${P}-spacer`),
          this.actionButton(`restore:${c.name}`, 'Restore', 'Restoring…', `Restore ${c.name}`, () =>
            void this.restore(c.name)
          ),
          this.actionButton(`delete:${c.name}`, 'Delete', 'Deleting…', `Delete ${c.name}`, () =>
            void this.deleteCollection(c.name)
          )
        ),
        description ? h('div', `${P}-description`, null, description) : null,
        drift ? h('div', `${P}-drift`, { role: 'note' }, drift) : null
      );
      list.appendChild(row);
    }
    s.body.appendChild(list);
  }

  // ------------------------------------------------------------------ filter

  private scheduleFilter(): void {
    if (this.frame !== null) {
      return;
    }
    const run = () => {
      this.frame = null;
      this.applyFilter();
    };
    if (typeof requestAnimationFrame === 'function') {
      this.frame = requestAnimationFrame(run) as unknown as number;
    } else {
      this.frame = setTimeout(run, 0) as unknown as number;
    }
  }

  /** Filters and renders now (with `query` when given: sets the filter box). */
  applyFilter(query?: string): void {
    if (query !== undefined) {
      this.filterInput.value = query;
    }
    this.limit = this.maxRows;
    this.renderAvailable(false);
    this.renderFeatured();
    if (this.view !== 'lists') {
      this.showLists(false);
    }
  }

  // ----------------------------------------------------------------- views

  private setView(view: View): void {
    if (this.view === 'lists' && view !== 'lists') {
      this.listsScroll = this.bodyNode.scrollTop;
    }
    this.view = view;
    this.listsNode.hidden = view !== 'lists';
    this.detailsNode.hidden = view !== 'details';
    this.codeNode.hidden = view !== 'code';
    if (view !== 'lists') {
      this.bodyNode.scrollTop = 0;
    }
  }

  /** Back to the lists, scrolled where they were, the opened row focused. */
  showLists(focus = true): void {
    const from = this.detailsName;
    this.setView('lists');
    this.detailsName = null;
    this.detailsData = null;
    this.bodyNode.scrollTop = this.listsScroll;
    if (focus) {
      let target: HTMLElement | null = null;
      if (from) {
        const sn = from.split('/')[0];
        this.listsNode.querySelectorAll('[data-module], [data-loaded], [data-version]').forEach(n => {
          const e = n as HTMLElement;
          if (!target && (e.dataset.loaded === from || e.dataset.version === from || e.dataset.module === sn)) {
            target = e;
          }
        });
      }
      (target || this.filterInput).focus();
    }
  }

  /** Opens the details view of a module (a name or a full name). */
  async openDetails(fullname: string): Promise<void> {
    const first = this.view !== 'details' || this.detailsName !== fullname;
    this.detailsName = fullname;
    this.setView('details');
    if (first) {
      this.detailsData = null;
      clear(this.detailsNode);
      this.detailsNode.append(this.backButton(), h('h2', `${P}-detailsTitle`, null, fullname), h('p', `${P}-empty`, null, 'Loading…'));
      (this.detailsNode.querySelector('button') as HTMLElement | null)?.focus();
    }
    let details: ModuleDetails;
    try {
      details = await this.api.module(fullname);
    } catch (err) {
      if (this.detailsName !== fullname) {
        return;
      }
      clear(this.detailsNode);
      this.detailsNode.append(
        this.backButton(),
        h('h2', `${P}-detailsTitle`, null, fullname),
        h('pre', `${P}-error`, { role: 'alert' }, errorBody(err))
      );
      if (err instanceof ApiError && err.unavailable) {
        // The status line says so and retries, as for the lists.
        this.setUnavailable(err);
      } else if (!this.loadedSet.has(fullname)) {
        // A modulefile that cannot be shown may still be loaded: the load
        // then reports the engine's own error with its file and line.
        this.detailsNode.appendChild(
          h('div', `${P}-actions`, null,
            this.actionButton(`load:${fullname}`, 'Load', 'Loading…', null, () => void this.load([fullname], fullname)))
        );
      }
      (this.detailsNode.querySelector('button') as HTMLElement | null)?.focus();
      return;
    }
    if (this.detailsName !== fullname || this.view !== 'details') {
      return;
    }
    this.detailsData = details;
    const hadFocus = this.detailsNode.contains(document.activeElement);
    this.renderDetails();
    if (first || !hadFocus) {
      (this.detailsNode.querySelector('button') as HTMLElement | null)?.focus();
    }
  }

  private backButton(): HTMLButtonElement {
    return this.button('Back', `${P}-back`, null, () => this.showLists());
  }

  private renderDetails(): void {
    const d = this.detailsData;
    if (!d) {
      return;
    }
    clear(this.detailsNode);
    const entry = this.byName.get(d.name);
    const loaded = this.loadedSet.has(d.fullname);
    const candidate = swapCandidate(d, this.loaded);

    const actions = h('div', `${P}-detailsActions`);
    if (loaded) {
      actions.appendChild(
        this.actionButton(`unload:${d.fullname}`, 'Unload', 'Unloading…', null, () => void this.unload(d.fullname))
      );
    } else {
      const seq = loadSequence(d.fullname, d.loadable, d.requires, Array.from(this.loadedSet));
      actions.appendChild(
        this.actionButton(`load:${d.fullname}`, 'Load', 'Loading…', null, () =>
          void this.load(seq, d.default ? d.name : d.fullname)
        )
      );
      if (candidate) {
        const b = this.actionButton(`swap:${d.fullname}`, 'Swap', 'Swapping…', null, () =>
          void this.swap(candidate, d.fullname)
        );
        b.title = `Replace ${candidate} by ${d.fullname}`;
        actions.appendChild(b);
      }
    }
    const state = loaded
      ? 'loaded'
      : candidate
      ? `${candidate} is loaded`
      : d.loadable === false
      ? needsText(d.requires)
      : '';

    const fields = h('dl', `${P}-fields`);
    const field = (name: string, value: Node | string | null | undefined) => {
      if (value === null || value === undefined || value === '') {
        return;
      }
      fields.append(h('dt', null, null, name), h('dd', null, null, value));
    };
    if (entry && entry.versions && entry.versions.length) {
      const versions = h('div', `${P}-versionLinks`);
      for (const v of entry.versions) {
        if (v.hidden && !this.loadedSet.has(v.fullname) && v.fullname !== d.fullname) {
          continue;
        }
        const label = versionLabel(v) + (this.loadedSet.has(v.fullname) ? ' · loaded' : '');
        if (v.fullname === d.fullname) {
          versions.appendChild(h('span', `${P}-versionCurrent`, { 'aria-current': 'true' }, label));
        } else {
          versions.appendChild(
            this.button(label, `${P}-versionLink`, `Details of ${v.fullname}`, () => void this.openDetails(v.fullname))
          );
        }
      }
      field('Versions', versions);
    } else if (d.version) {
      field('Version', d.version + (d.default ? ' (default)' : ''));
    }
    field('Category', d.category || '');
    field('Keywords', d.keywords || '');
    field('URL', d.url || '');
    field('Family', d.family || '');
    const deps = (d.dependencies || [])
      .filter(x => x && Array.isArray(x.modules) && x.modules.length)
      .map(x => `${x.function}: ${x.modules.join(', ')}`);
    field('Dependencies', deps.length ? deps.join('\n') : 'none');
    const conflicts = (d.conflicts || []).map(c => (typeof c === 'string' ? c : JSON.stringify(c)));
    field('Conflicts', conflicts.join(', '));
    const props = Object.entries(d.properties || {}).map(
      ([k, v]) => `${k}: ${(Array.isArray(v) ? v : [v]).join(', ')}`
    );
    field('Properties', props.length ? props.join('\n') : 'none');
    if (d.loadable === false) {
      field('Needs first', needsText(d.requires).replace(/^needs: /, ''));
    }
    field('Modulefile', d.file ? h('code', `${P}-path`, null, d.file) : '');
    if (d.tcl) {
      field('Format', 'Tcl modulefile');
    }

    append(
      this.detailsNode,
      this.backButton(),
      h(
        'h2',
        `${P}-detailsTitle`,
        null,
        h('span', `${P}-name`, null, d.name),
        d.version ? h('span', `${P}-version`, null, '/' + d.version) : null,
        ...this.badges(d.properties)
      ),
      d.description ? h('p', `${P}-description`, null, d.description) : null,
      actions,
      state ? h('p', `${P}-state`, null, state) : null,
      fields
    );
    if (d.help) {
      this.detailsNode.append(h('h3', null, null, 'Help'), h('pre', `${P}-help`, null, d.help));
    }
    if (d.show && d.show.length) {
      this.detailsNode.append(
        h('details', `${P}-show`, null, h('summary', null, null, 'Modulefile actions'), h('pre', null, null, d.show.join('\n')))
      );
    }
  }

  /** Shows the code view: the Python preamble and the shell lines for the loaded set. */
  async showCode(): Promise<void> {
    this.detailsName = null;
    this.setView('code');
    clear(this.codeNode);
    this.codeNode.append(this.backButton(), h('h2', null, null, 'Generate code'), h('p', `${P}-empty`, null, 'Loading…'));
    (this.codeNode.querySelector('button') as HTMLElement | null)?.focus();
    const [py, sh] = await Promise.allSettled([this.api.preamble('python'), this.api.preamble('bash')]);
    if (this.view !== 'code') {
      return;
    }
    clear(this.codeNode);
    this.codeNode.append(
      this.backButton(),
      h('h2', null, null, 'Generate code'),
      h('p', `${P}-hint`, null, 'Code that recreates the loaded modules, versions pinned.')
    );
    const block = (title: string, cls: string, label: string, r: PromiseSettledResult<{ code: string }>) => {
      const status = h('span', `${P}-copied`, { role: 'status' });
      if (r.status === 'rejected') {
        this.codeNode.append(h('h3', null, null, title), h('pre', `${P}-error`, null, errorBody(r.reason)));
        return;
      }
      const code = r.value.code || '';
      this.codeNode.append(
        h('div', `${P}-codeHead`, null, h('h3', null, null, title), h('span', `${P}-spacer`), status,
          this.button('Copy', `${P}-copy`, label, () => {
            this.ui.copy(code);
            status.textContent = 'Copied';
          })
        ),
        h('pre', `${P}-codeBlock ${cls}`, null, code)
      );
    };
    block('Python (notebook cell)', `${P}-codePython`, 'Copy Python code', py);
    block('Shell', `${P}-codeShell`, 'Copy shell code', sh);
    (this.codeNode.querySelector('button') as HTMLElement | null)?.focus();
  }

  // ---------------------------------------------------------------- actions

  /**
   * Runs an action: shows progress on its buttons, then the new loaded set,
   * its messages and the kernel offer; on failure an error dialog titled
   * `title` with the server's message (and file:line).
   */
  private async act(key: string, title: string, run: () => Promise<ActionResult>): Promise<boolean> {
    if (this.busy.has(key)) {
      return false;
    }
    this.busy.set(key, title);
    this.paintAllBusy();
    let result: ActionResult;
    try {
      result = await run();
    } catch (err) {
      this.busy.delete(key);
      this.paintAllBusy();
      await this.ui.showError(title, errorBody(err));
      if (err instanceof ApiError && err.unavailable) {
        void this.refresh();
      }
      return false;
    }
    this.busy.delete(key);
    this.afterChange(result);
    return true;
  }

  private afterChange(result: ActionResult): void {
    if (Array.isArray(result.loaded)) {
      this.setLoaded(result.loaded);
    }
    this.setMessages((result.messages || []).map(messageText).filter(Boolean));
    this.preserveScroll(() => {
      this.renderLists();
      this.paintAllBusy();
    });
    if (this.view === 'details' && this.detailsName) {
      this.renderDetails();
      void this.openDetails(this.detailsName);
    }
    this.offerKernel();
    void this.refreshModules();
    void this.refreshWebapps();
  }

  /** Loads `modules` in order (the needed compiler/MPI first). */
  load(modules: string[], label: string): Promise<boolean> {
    const key = `load:${modules[modules.length - 1]}`;
    return this.act(key, `Could not load ${label}`, () => this.api.load(modules));
  }

  unload(fullname: string): Promise<boolean> {
    return this.act(`unload:${fullname}`, `Could not unload ${fullname}`, () => this.api.unload([fullname]));
  }

  swap(oldName: string, newName: string): Promise<boolean> {
    return this.act(`swap:${newName}`, `Could not swap ${oldName} for ${newName}`, () =>
      this.api.swap(oldName, newName)
    );
  }

  purge(): Promise<boolean> {
    return this.act('purge', 'Could not unload all modules', () => this.api.purge());
  }

  /** Restores a collection; asks first when it drifted (then restores with changes). */
  async restore(name: string): Promise<boolean> {
    const details = this.collectionDetails.get(name);
    let allow = false;
    if (details && details.drifted) {
      allow = await this.confirmDrift(name, details);
      if (!allow) {
        return false;
      }
    }
    const key = `restore:${name}`;
    const title = `Could not restore ${name}`;
    if (this.busy.has(key)) {
      return false;
    }
    this.busy.set(key, title);
    this.paintAllBusy();
    let result: ActionResult | null = null;
    let failure: unknown = null;
    try {
      result = await this.api.restore(name, allow);
    } catch (err) {
      failure = err;
    }
    if (failure instanceof ApiError && failure.status === 409 && failure.code === 'drift' && !allow) {
      let fresh: CollectionDetails | null = null;
      try {
        fresh = await this.api.collection(name);
        this.collectionDetails.set(name, fresh);
      } catch {
        fresh = null;
      }
      if (await this.confirmDrift(name, fresh, failure.message)) {
        failure = null;
        try {
          result = await this.api.restore(name, true);
        } catch (err) {
          failure = err;
        }
      } else {
        this.busy.delete(key);
        this.paintAllBusy();
        this.renderCollections();
        return false;
      }
    }
    this.busy.delete(key);
    if (failure || !result) {
      this.paintAllBusy();
      await this.ui.showError(title, errorBody(failure));
      return false;
    }
    this.afterChange(result);
    return true;
  }

  private confirmDrift(name: string, details: CollectionDetails | null, fallback?: string): Promise<boolean> {
    const text = (details && driftText(details.drift)) || fallback || 'changed since saved';
    return this.ui.confirm(
      `Restore ${name} with changes?`,
      `The collection ${name} has ${text.replace(/^changed/, 'modules changed')}.\n` +
        'Restoring it loads the changed modules as they are now and leaves out the ones that vanished.',
      'Restore with changes'
    );
  }

  /** Asks for a name and saves the loaded set as a collection. */
  async saveCollection(): Promise<boolean> {
    const raw = await this.ui.prompt('Save collection', 'Save the loaded modules as the collection:');
    if (raw === null) {
      return false;
    }
    const name = raw.trim();
    const invalid = validateCollectionName(name);
    if (invalid) {
      await this.ui.showError('Invalid collection name', invalid);
      return false;
    }
    if (this.collections.some(c => c.name === name)) {
      const ok = await this.ui.confirm(
        `Replace collection ${name}?`,
        `A collection named ${name} exists; saving replaces it with the loaded modules.`,
        'Replace'
      );
      if (!ok) {
        return false;
      }
    }
    try {
      await this.api.saveCollection(name);
    } catch (err) {
      await this.ui.showError(`Could not save collection ${name}`, errorBody(err));
      return false;
    }
    await this.refreshCollections();
    return true;
  }

  async deleteCollection(name: string): Promise<boolean> {
    const ok = await this.ui.confirm(`Delete collection ${name}?`, `The collection ${name} will be deleted for good.`, 'Delete');
    if (!ok) {
      return false;
    }
    const key = `delete:${name}`;
    this.busy.set(key, name);
    this.paintAllBusy();
    try {
      await this.api.deleteCollection(name);
    } catch (err) {
      this.busy.delete(key);
      this.paintAllBusy();
      await this.ui.showError(`Could not delete collection ${name}`, errorBody(err));
      return false;
    }
    this.busy.delete(key);
    await this.refreshCollections();
    return true;
  }

  // --------------------------------------------------------------- messages

  private setMessages(messages: string[]): void {
    clear(this.messagesList);
    for (const m of messages) {
      this.messagesList.appendChild(h('li', `${P}-message`, null, m));
    }
    this.messagesNode.hidden = messages.length === 0;
  }

  // ------------------------------------------------------------------ kernel

  /** After a change: offers to apply the loaded set to the current notebook's kernel. */
  private offerKernel(): void {
    let target: KernelTarget | null = null;
    try {
      target = this.kernel();
    } catch {
      target = null;
    }
    this.offerTarget = target;
    clear(this.offerNode);
    if (!target) {
      this.offerNode.hidden = true;
      return;
    }
    const t = target;
    this.offerNode.append(
      h('span', `${P}-kernelText`, null, `Apply to the running kernel of ${t.name}?`),
      h(
        'div',
        `${P}-kernelButtons`,
        null,
        this.actionButton('kernel', 'Apply to kernel', 'Applying…', null, () => void this.applyToKernel(t)),
        this.button('Dismiss', `${P}-dismiss`, 'Dismiss kernel offer', () => {
          this.offerNode.hidden = true;
          this.offerTarget = null;
        })
      )
    );
    this.offerNode.hidden = false;
  }

  /**
   * Runs the code that brings a kernel to the panel's loaded set (the
   * current notebook's kernel when none is given) and shows the outcome in
   * the offer box. Resolves true on success.
   */
  async applyToKernel(target?: KernelTarget | null): Promise<boolean> {
    let t = target || this.offerTarget;
    if (!t) {
      try {
        t = this.kernel();
      } catch {
        t = null;
      }
    }
    if (!t) {
      await this.ui.showError(
        'No running kernel',
        'Open a notebook with a running Python kernel to apply the loaded modules to it.'
      );
      return false;
    }
    const code = kernelCode(this.userLoadedModules);
    this.busy.set('kernel', t.name);
    if (this.offerNode.hidden || this.offerTarget !== t) {
      this.offerTarget = t;
      clear(this.offerNode);
      this.offerNode.append(h('span', `${P}-kernelText`, null, `Applying to the running kernel of ${t.name}…`));
      this.offerNode.hidden = false;
    }
    this.paintAllBusy();
    let result: KernelExecResult;
    try {
      result = await t.execute(code);
    } catch (err) {
      result = { ok: false, ename: 'Error', evalue: err instanceof Error ? err.message : String(err) };
    }
    this.busy.delete('kernel');
    clear(this.offerNode);
    const dismiss = this.button('Dismiss', `${P}-dismiss`, 'Dismiss kernel offer', () => {
      this.offerNode.hidden = true;
      this.offerTarget = null;
    });
    if (result.ok) {
      this.offerNode.classList.remove('jp-mod-error');
      this.offerNode.append(
        h('span', `${P}-kernelText ${P}-kernelDone`, null, `Applied to the running kernel of ${t.name}.`),
        dismiss
      );
    } else {
      this.offerNode.classList.add('jp-mod-error');
      const head = [result.ename, result.evalue].filter(Boolean).join(': ') || 'the code failed';
      append(
        this.offerNode,
        h('span', `${P}-kernelText ${P}-kernelFailed`, null, `Could not apply to the kernel of ${t.name}: ${head}`),
        result.traceback && result.traceback.length
          ? h('pre', `${P}-traceback`, null, stripAnsi(result.traceback.join('\n')))
          : null,
        dismiss
      );
    }
    this.offerNode.hidden = false;
    return result.ok;
  }
}

/** Removes the terminal colour codes of a Python traceback. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
