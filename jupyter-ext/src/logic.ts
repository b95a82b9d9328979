/*
 * logic.ts: the Software panel's pure functions: the module index and its
 * filter, grouping by category, default versions, what a module needs
 * first, collection name rules, the code applied to a kernel, the web-app
 * diff, retry backoff, the server-sent event parser and message texts.
 * No DOM, no JupyterLab: everything here is unit-tested as plain data.
 */

import { ApiError } from './api';
import type {
  ActionMessage,
  DriftItem,
  LoadedModule,
  ModuleDetails,
  ModuleEntry,
  ModuleVersion,
  Properties,
  WebApp
} from './types';

/** A module with its precomputed lower-case search text and category. */
export interface IndexedModule {
  module: ModuleEntry;
  search: string;
  category: string;
}

/** The category a module is listed under: the first comma-separated part, or "Other". */
export function categoryOf(m: { category?: string | null }): string {
  const first = (m.category || '').split(',')[0].trim();
  return first || 'Other';
}

function compareCategories(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  if (a === 'Other') {
    return 1;
  }
  if (b === 'Other') {
    return -1;
  }
  return a.localeCompare(b, undefined, { sensitivity: 'base' });
}

function compareNames(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the filter index: one entry per module, sorted by category
 * ("Other" last) then name, each with its lower-case search text (name,
 * description, keywords).
 */
export function buildIndex(modules: ModuleEntry[]): IndexedModule[] {
  const out = modules.map(m => ({
    module: m,
    search: [m.name, m.description || '', m.keywords || ''].join('\n').toLowerCase(),
    category: categoryOf(m)
  }));
  out.sort((a, b) => compareCategories(a.category, b.category) || compareNames(a.module.name, b.module.name));
  return out;
}

/** The lower-case words of a filter text. */
export function filterWords(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(w => w.length > 0);
}

/**
 * The entries of `index` that match `query`: every word of the query,
 * case-insensitive, occurs in the name, description or keywords. An empty
 * query matches everything. Keeps the index's order.
 */
export function filterIndex(index: IndexedModule[], query: string): IndexedModule[] {
  const words = filterWords(query);
  if (words.length === 0) {
    return index;
  }
  const out: IndexedModule[] = [];
  for (const entry of index) {
    let ok = true;
    for (const w of words) {
      if (entry.search.indexOf(w) < 0) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.push(entry);
    }
  }
  return out;
}

/** `filterIndex(buildIndex(modules), query)` mapped back to the modules. */
export function filterModules(modules: ModuleEntry[], query: string): ModuleEntry[] {
  return filterIndex(buildIndex(modules), query).map(e => e.module);
}

/** Groups modules by category, in order: [category, modules][] ("Other" last, names sorted). */
export function groupByCategory(modules: ModuleEntry[]): Array<[string, ModuleEntry[]]> {
  const groups = new Map<string, ModuleEntry[]>();
  for (const e of buildIndex(modules)) {
    let list = groups.get(e.category);
    if (!list) {
      list = [];
      groups.set(e.category, list);
    }
    list.push(e.module);
  }
  return Array.from(groups.entries());
}

/**
 * The default version of a module: the one the daemon marks default (the
 * engine's choice for this context: what `module load NAME` loads, or the
 * build that fits the loaded modules best), else the one named by
 * `default_fullname`, else the last.
 */
export function defaultVersion(m: ModuleEntry): ModuleVersion | null {
  const versions = m.versions || [];
  const marked = versions.find(v => v.default);
  if (marked) {
    return marked;
  }
  if (m.default_fullname) {
    const named = versions.find(v => v.fullname === m.default_fullname);
    if (named) {
      return named;
    }
  }
  return versions.length ? versions[versions.length - 1] : null;
}

/** The versions other than the default one, hidden ones left out unless loaded. */
export function otherVersions(m: ModuleEntry): ModuleVersion[] {
  const def = defaultVersion(m);
  return (m.versions || []).filter(v => v !== def && (!v.hidden || v.loaded));
}

/** "12.3.0 (default)" or "13.2.0". */
export function versionLabel(v: ModuleVersion): string {
  return v.default ? `${v.version} (default)` : v.version;
}

/**
 * The text saying what must be loaded first: "needs: gcc/12.3.0,
 * openmpi/4.1.6", with the other ways as "(or ...)"; "" when nothing is
 * needed.
 */
export function needsText(requires: string[][] | undefined | null): string {
  const ways = (requires || []).filter(r => r.length > 0);
  if (ways.length === 0) {
    return '';
  }
  let text = 'needs: ' + ways[0].join(', ');
  if (ways.length > 1) {
    text += ' (or ' + ways.slice(1).map(w => w.join(', ')).join('; or ') + ')';
  }
  return text;
}

/**
 * The modules to load, in order, to load `fullname`: the first way of its
 * `requires` (when it is not loadable as things are), then itself; leaves
 * out what is loaded already.
 */
export function loadSequence(
  fullname: string,
  loadable: boolean | undefined,
  requires: string[][] | undefined | null,
  loaded: ReadonlyArray<string> = []
): string[] {
  const seq: string[] = [];
  if (loadable === false) {
    const way = (requires || []).find(r => r.length > 0) || [];
    for (const r of way) {
      if (!loaded.includes(r)) {
        seq.push(r);
      }
    }
  }
  seq.push(fullname);
  return seq;
}

/** What to load for a module row's Load button (its default version, needs first). */
export function moduleLoadSequence(m: ModuleEntry, loaded: ReadonlyArray<string> = []): string[] {
  const def = defaultVersion(m);
  if (!def) {
    return [m.name];
  }
  const loadable = def.loadable ?? m.loadable;
  const requires = def.requires && def.requires.length ? def.requires : m.requires;
  return loadSequence(def.fullname, loadable, requires, loaded);
}

/** Property badges: `{"arch": ["gpu"]}` -> ["gpu"]; a property with no value gives its name. */
export function propertyBadges(props: Properties | null | undefined): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(props || {})) {
    const list = Array.isArray(values) ? values : [String(values)];
    if (list.length === 0) {
      out.push(name);
    }
    for (const v of list) {
      if (!out.includes(String(v))) {
        out.push(String(v));
      }
    }
  }
  return out;
}

/**
 * Checks a collection name as the daemon does: 1-255 letters, digits and
 * `_ - . + @ ,`, not starting with `.` or `-`. Returns null when valid,
 * else the reason.
 */
export function validateCollectionName(name: string): string | null {
  if (name.length === 0) {
    return 'a collection name cannot be empty';
  }
  if (name.includes('/')) {
    return 'a collection name cannot contain /';
  }
  if (name.length > 255) {
    return 'a collection name has at most 255 characters';
  }
  if (name[0] === '.' || name[0] === '-') {
    return 'a collection name cannot start with . or -';
  }
  const bad = name.match(/[^A-Za-z0-9_\-.+@,]/);
  if (bad) {
    const ch = bad[0];
    const shown = /\s/.test(ch) ? 'spaces' : ch;
    return `a collection name cannot contain ${shown} (only letters, digits and _ - . + @ ,)`;
  }
  return null;
}

/** A Python string literal for `s` (JSON's escapes are valid Python). */
export function pythonString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The code that brings a Python kernel to the loaded set `fullnames` (the
 * user-loaded modules, in load order) without a restart.
 */
export function kernelCode(fullnames: ReadonlyArray<string>): string {
  let code = 'import shelf\nshelf.purge()\n';
  if (fullnames.length > 0) {
    code += 'shelf.load(' + fullnames.map(pythonString).join(', ') + ')\n';
  }
  return code;
}

/** The user-loaded modules of a loaded list, in load order. */
export function userLoaded(loaded: ReadonlyArray<LoadedModule>): string[] {
  return loaded.filter(m => isUserLoaded(m)).map(m => m.fullname);
}

/** A loaded module counts as the user's unless it is marked as a dependency only. */
export function isUserLoaded(m: LoadedModule): boolean {
  if (m.user_loaded !== undefined) {
    return !!m.user_loaded;
  }
  return !m.dependency;
}

/** The key of a web app's launcher item: its key plus what the tile shows. */
export function webappSignature(app: WebApp): string {
  return JSON.stringify([app.key, app.title, app.icon || null]);
}

/**
 * What to change in the launcher: `add` the apps not shown yet (or shown
 * differently), `remove` the keys no longer listed (or to be re-added).
 */
export function diffWebapps(
  shown: ReadonlyMap<string, string>,
  apps: ReadonlyArray<WebApp>
): { add: WebApp[]; remove: string[] } {
  const add: WebApp[] = [];
  const remove: string[] = [];
  const wanted = new Map<string, WebApp>();
  for (const app of apps) {
    if (app && typeof app.key === 'string' && app.key && !wanted.has(app.key)) {
      wanted.set(app.key, app);
    }
  }
  for (const [key, sig] of shown) {
    const app = wanted.get(key);
    if (!app || webappSignature(app) !== sig) {
      remove.push(key);
    }
  }
  for (const [key, app] of wanted) {
    if (!shown.has(key) || remove.includes(key)) {
      add.push(app);
    }
  }
  return { add, remove };
}

/** Seconds to wait before retry number `attempt` (0-based): 1, 2, 4, 8, 16, 30, 30... */
export function backoffSeconds(attempt: number): number {
  if (attempt < 0) {
    return 1;
  }
  return Math.min(30, Math.pow(2, Math.min(attempt, 5)));
}

/** True when `text` is one <svg> document (a launcher icon may only be that). */
export function looksLikeSvg(text: string | null | undefined): boolean {
  if (typeof text !== 'string') {
    return false;
  }
  const t = text
    .trim()
    .replace(/^<\?xml[^>]*\?>\s*/i, '')
    .replace(/^(<!--[\s\S]*?-->\s*)+/, '');
  return /^<svg[\s>]/i.test(t) && /<\/svg>$/i.test(t) && !/<script[\s>]/i.test(t) && !/\son\w+\s*=/i.test(t);
}

/** The text of an action message. */
export function messageText(m: ActionMessage): string {
  if (typeof m === 'string') {
    return m;
  }
  if (m && typeof m === 'object' && typeof m.message === 'string') {
    return m.message;
  }
  return JSON.stringify(m);
}

/** "message" plus "\nfile:line" (or "\nfile") when the error says where. */
export function errorBody(err: unknown): string {
  if (err instanceof ApiError) {
    let body = err.message;
    if (err.file) {
      body += '\n' + err.file + (err.line !== null && err.line !== undefined ? ':' + err.line : '');
    }
    return body;
  }
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

/** "changed since saved: torch/2.2.0 (changed), numpy/1.26.4 (vanished)". */
export function driftText(drift: ReadonlyArray<DriftItem> | undefined | null): string {
  const items = (drift || []).map(d => {
    const what = d.module || d.file || '?';
    return d.kind ? `${what} (${d.kind})` : what;
  });
  return items.length ? 'changed since saved: ' + items.join(', ') : '';
}

/**
 * The loaded module that `details` would replace by a swap: another version
 * of the same name, or a module of the same family. Null when none.
 */
export function swapCandidate(details: ModuleDetails, loaded: ReadonlyArray<LoadedModule>): string | null {
  for (const m of loaded) {
    if (m.fullname === details.fullname) {
      return null;
    }
  }
  for (const m of loaded) {
    if (m.name === details.name) {
      return m.fullname;
    }
  }
  if (details.family) {
    for (const m of loaded) {
      if (m.family && m.family === details.family) {
        return m.fullname;
      }
    }
  }
  return null;
}

/** "2026-11-22T21:03:00Z" -> "2026-11-22 21:03" (UTC); other text unchanged. */
export function formatCreated(created: string | null | undefined): string {
  if (!created) {
    return '';
  }
  const m = created.match(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/);
  return m ? `${m[1]} ${m[2]}` : created;
}

/** A parsed server-sent event. */
export interface SSEEvent {
  event: string;
  data: string;
}

/**
 * An incremental parser of a text/event-stream: feed it chunks of text, it
 * returns the complete events (event type "message" when none is given).
 */
export class SSEParser {
  private buffer = '';
  private eventType = '';
  private data: string[] = [];

  feed(chunk: string): SSEEvent[] {
    this.buffer += chunk;
    const out: SSEEvent[] = [];
    for (;;) {
      const m = this.buffer.match(/\r\n|\r|\n/);
      if (!m || m.index === undefined) {
        break;
      }
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        break;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: SSEEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.eventType || 'message', data: this.data.join('\n') });
      }
      this.eventType = '';
      this.data = [];
      return;
    }
    if (line[0] === ':') {
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') {
      value = value.slice(1);
    }
    if (field === 'event') {
      this.eventType = value;
    } else if (field === 'data') {
      this.data.push(value);
    }
  }
}
