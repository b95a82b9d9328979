/*
 * api.ts: the client of the Shelf API used by the Software panel.
 *
 * `ShelfAPI` is what the panel needs; `HttpShelfAPI` implements it over a
 * fetch-like request function (in JupyterLab: ServerConnection.makeRequest,
 * which adds the server's token and XSRF header; in tests: a fake). Every
 * request but the event stream has a timeout. Every failure becomes an
 * `ApiError`: an HTTP error with the daemon's `{"error": {...}}` document,
 * a network failure (status 0, code "network") or a timeout (status 0, code
 * "timeout"). This module imports nothing from JupyterLab.
 */

import type {
  ActionResult,
  CollectionDetails,
  CollectionSummary,
  LoadedAnswer,
  ModuleDetails,
  ModulesAnswer,
  Preamble,
  ShelfStatus,
  WebApp
} from './types';

/** A fetch-like function: `(url, init) => Response`; throws on network failure. */
export type RequestFn = (url: string, init: RequestInit) => Promise<Response>;

/** A failed request, with what the server said about it. */
export class ApiError extends Error {
  /** HTTP status; 0 for a network failure or a timeout. */
  readonly status: number;
  /** The daemon's error code (`not_found`, `modulefile_error`, ...), or
   * `network`, `timeout`, `http` when the answer had none. */
  readonly code: string;
  readonly module: string | null;
  readonly file: string | null;
  readonly line: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { module?: string | null; file?: string | null; line?: number | null } = {}
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.module = extra.module ?? null;
    this.file = extra.file ?? null;
    this.line = extra.line ?? null;
  }

  /** True when the service as a whole is unreachable: retrying later may help. */
  get unavailable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** What the Software panel asks of the server. */
export interface ShelfAPI {
  status(): Promise<ShelfStatus>;
  modules(): Promise<ModulesAnswer>;
  module(fullname: string): Promise<ModuleDetails>;
  loaded(): Promise<LoadedAnswer>;
  load(modules: string[]): Promise<ActionResult>;
  unload(modules: string[]): Promise<ActionResult>;
  swap(oldName: string | null, newName: string): Promise<ActionResult>;
  purge(): Promise<ActionResult>;
  restore(name: string, allowChanges: boolean): Promise<ActionResult>;
  collections(): Promise<{ collections: CollectionSummary[] }>;
  collection(name: string): Promise<CollectionDetails>;
  saveCollection(name: string): Promise<CollectionDetails>;
  deleteCollection(name: string): Promise<unknown>;
  preamble(lang: 'python' | 'bash'): Promise<Preamble>;
  webapps(): Promise<WebApp[]>;
  startWebapp(key: string): Promise<{ url: string }>;
  /** Opens the server-sent event stream; no timeout; `signal` ends it. */
  openEvents(signal: AbortSignal): Promise<Response>;
}

export interface HttpShelfAPIOptions {
  /** The server's base URL, ending in `/` (ServerConnection settings.baseUrl). */
  baseUrl: string;
  /** The daemon's API path below baseUrl; default `shelf/api/v1`. */
  apiPath?: string;
  /** The extension's own path below baseUrl; default `shelf`. */
  extensionPath?: string;
  request: RequestFn;
  /** Milliseconds before a request is abandoned; default 30000. */
  timeoutMs?: number;
}

/** Joins URL parts with single slashes. */
export function joinUrl(...parts: string[]): string {
  let out = '';
  for (const part of parts) {
    if (!part) {
      continue;
    }
    if (!out) {
      out = part;
    } else {
      out = out.replace(/\/+$/, '') + '/' + part.replace(/^\/+/, '');
    }
  }
  return out;
}

/** `a/b/1.0` -> `a/b/1.0` with each component percent-encoded. */
export function encodePath(name: string): string {
  return name
    .split('/')
    .map(c => encodeURIComponent(c))
    .join('/');
}

/** Reads an error answer into an ApiError (never throws). */
export async function errorFromResponse(resp: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await resp.text();
  } catch {
    text = '';
  }
  try {
    const doc = JSON.parse(text);
    const e = doc && typeof doc === 'object' ? doc.error : null;
    if (e && typeof e === 'object') {
      return new ApiError(
        resp.status,
        typeof e.code === 'string' ? e.code : 'http',
        typeof e.message === 'string' ? e.message : `HTTP ${resp.status}`,
        { module: e.module, file: e.file, line: typeof e.line === 'number' ? e.line : null }
      );
    }
    if (doc && typeof doc.message === 'string') {
      return new ApiError(resp.status, 'http', doc.message);
    }
  } catch {
    // not JSON: fall through
  }
  const reason = resp.statusText || (text.length < 200 ? text.trim() : '');
  return new ApiError(resp.status, 'http', `HTTP ${resp.status}${reason ? ' ' + reason : ''}`);
}

export class HttpShelfAPI implements ShelfAPI {
  private readonly baseUrl: string;
  private readonly apiPath: string;
  private readonly extensionPath: string;
  private readonly request: RequestFn;
  private readonly timeoutMs: number;

  constructor(options: HttpShelfAPIOptions) {
    this.baseUrl = options.baseUrl;
    this.apiPath = (options.apiPath || 'shelf/api/v1').replace(/^\/+|\/+$/g, '');
    this.extensionPath = (options.extensionPath || 'shelf').replace(/^\/+|\/+$/g, '');
    this.request = options.request;
    this.timeoutMs = options.timeoutMs ?? 30000;
  }

  /** The URL of an API path (below apiPath). */
  apiUrl(path: string): string {
    return joinUrl(this.baseUrl, this.apiPath, path);
  }

  /** The URL of an extension path (below `shelf/`). */
  extUrl(path: string): string {
    return joinUrl(this.baseUrl, this.extensionPath, path);
  }

  /**
   * Sends a request and parses its JSON answer. Throws ApiError on a
   * network failure, a timeout, an HTTP error or an answer that is not JSON.
   */
  async call<T>(url: string, method = 'GET', body?: unknown): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const init: RequestInit = { method, signal: controller.signal };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    try {
      let resp: Response;
      try {
        resp = await this.request(url, init);
      } catch (err) {
        if (timedOut) {
          throw new ApiError(0, 'timeout', `no answer after ${Math.round(this.timeoutMs / 1000)} s`);
        }
        throw new ApiError(0, 'network', networkMessage(err));
      }
      if (!resp.ok) {
        throw await errorFromResponse(resp);
      }
      const text = await resp.text();
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        throw new ApiError(resp.status, 'bad_answer', 'the server sent an answer that is not JSON');
      }
    } catch (err) {
      if (err instanceof ApiError) {
        throw err;
      }
      if (timedOut) {
        throw new ApiError(0, 'timeout', `no answer after ${Math.round(this.timeoutMs / 1000)} s`);
      }
      throw new ApiError(0, 'network', networkMessage(err));
    } finally {
      clearTimeout(timer);
    }
  }

  status(): Promise<ShelfStatus> {
    return this.call(this.extUrl('status'));
  }
  modules(): Promise<ModulesAnswer> {
    return this.call(this.apiUrl('modules?all=1'));
  }
  module(fullname: string): Promise<ModuleDetails> {
    return this.call(this.apiUrl('modules/' + encodePath(fullname)));
  }
  loaded(): Promise<LoadedAnswer> {
    return this.call(this.apiUrl('loaded'));
  }
  load(modules: string[]): Promise<ActionResult> {
    return this.call(this.apiUrl('load'), 'POST', { modules });
  }
  unload(modules: string[]): Promise<ActionResult> {
    return this.call(this.apiUrl('unload'), 'POST', { modules });
  }
  swap(oldName: string | null, newName: string): Promise<ActionResult> {
    const body: Record<string, string> = { new: newName };
    if (oldName) {
      body.old = oldName;
    }
    return this.call(this.apiUrl('swap'), 'POST', body);
  }
  purge(): Promise<ActionResult> {
    return this.call(this.apiUrl('purge'), 'POST', {});
  }
  restore(name: string, allowChanges: boolean): Promise<ActionResult> {
    return this.call(this.apiUrl('restore'), 'POST', { name, allow_changes: allowChanges });
  }
  collections(): Promise<{ collections: CollectionSummary[] }> {
    return this.call(this.apiUrl('collections'));
  }
  collection(name: string): Promise<CollectionDetails> {
    return this.call(this.apiUrl('collections/' + encodeURIComponent(name)));
  }
  saveCollection(name: string): Promise<CollectionDetails> {
    return this.call(this.apiUrl('collections/' + encodeURIComponent(name)), 'POST', {});
  }
  deleteCollection(name: string): Promise<unknown> {
    return this.call(this.apiUrl('collections/' + encodeURIComponent(name)), 'DELETE');
  }
  preamble(lang: 'python' | 'bash'): Promise<Preamble> {
    return this.call(this.apiUrl('preamble?lang=' + lang));
  }
  async webapps(): Promise<WebApp[]> {
    const doc = await this.call<unknown>(this.extUrl('webapps'));
    if (Array.isArray(doc)) {
      return doc as WebApp[];
    }
    const apps = doc && typeof doc === 'object' ? (doc as { webapps?: unknown }).webapps : null;
    return Array.isArray(apps) ? (apps as WebApp[]) : [];
  }
  startWebapp(key: string): Promise<{ url: string }> {
    return this.call(this.extUrl('webapps/' + encodeURIComponent(key) + '/start'), 'POST', {});
  }
  async openEvents(signal: AbortSignal): Promise<Response> {
    let resp: Response;
    try {
      resp = await this.request(this.apiUrl('events'), {
        method: 'GET',
        signal,
        headers: { Accept: 'text/event-stream' },
        cache: 'no-store'
      });
    } catch (err) {
      throw new ApiError(0, 'network', networkMessage(err));
    }
    if (!resp.ok) {
      throw await errorFromResponse(resp);
    }
    return resp;
  }
}

/** A readable message for a thrown fetch error. */
export function networkMessage(err: unknown): string {
  if (err instanceof Error) {
    const msg = err.message || String(err);
    return /failed to fetch|networkerror|load failed/i.test(msg)
      ? 'the server cannot be reached'
      : msg;
  }
  return String(err);
}
