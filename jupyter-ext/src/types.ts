/*
 * types.ts: the JSON shapes of the Shelf API as the Software panel sees them
 * (the daemon's /api/v1/ documents, passed through the Jupyter server
 * extension, plus the extension's own status and web-app documents).
 * Fields the panel does not need are left out; every field the daemon may
 * omit or set to null is optional here.
 */

/** `{"name": ["value", ...]}`, from add_property(). */
export type Properties = Record<string, string[]>;

/** One version of a module, as `GET modules?all=1` lists it. */
export interface ModuleVersion {
  version: string;
  fullname: string;
  default?: boolean;
  loaded?: boolean;
  hidden?: boolean;
  loadable?: boolean;
  file?: string | null;
  modulepath?: string | null;
  requires?: string[][];
}

/** One module name with all its versions (`GET modules`). */
export interface ModuleEntry {
  name: string;
  description?: string | null;
  category?: string | null;
  keywords?: string | null;
  /** The full name of the version marked default (the engine's choice). */
  default_fullname?: string | null;
  properties?: Properties | null;
  loadable?: boolean;
  loaded?: boolean;
  requires?: string[][];
  versions: ModuleVersion[];
}

export interface ModulesAnswer {
  modules: ModuleEntry[];
}

export interface Dependency {
  function: string;
  modules: string[];
}

/** `GET modules/{name}/{version}`. */
export interface ModuleDetails {
  name: string;
  version?: string | null;
  fullname: string;
  file?: string | null;
  modulepath?: string | null;
  default?: boolean;
  hidden?: boolean;
  loaded?: boolean;
  loadable?: boolean;
  tcl?: boolean;
  description?: string | null;
  category?: string | null;
  keywords?: string | null;
  url?: string | null;
  family?: string | null;
  help?: string | null;
  requires?: string[][];
  whatis?: string[];
  properties?: Properties | null;
  dependencies?: Dependency[];
  conflicts?: unknown[];
  show?: string[];
}

/** One entry of `GET loaded`. */
export interface LoadedModule {
  fullname: string;
  /** The short name. */
  name: string;
  version?: string | null;
  user_loaded?: boolean;
  dependency?: boolean;
  active?: boolean;
  file?: string | null;
  modulepath?: string | null;
  family?: string | null;
  needed_by?: string[];
  properties?: Properties | null;
}

export interface LoadedAnswer {
  client?: string;
  loaded: LoadedModule[];
}

/** A message of an action's answer: a string, or an object with `message`. */
export type ActionMessage = string | { message?: string; [key: string]: unknown };

/** The answer of `POST load|unload|swap|purge|restore`. */
export interface ActionResult {
  loaded: LoadedModule[];
  changes?: unknown;
  messages?: ActionMessage[];
}

export interface CollectionSummary {
  name: string;
  created?: string | null;
  modules?: number | unknown[];
  description?: string | null;
}

export interface DriftItem {
  kind?: string;
  module?: string;
  file?: string | null;
  detail?: string | null;
}

export interface CollectionDetails {
  name: string;
  created?: string | null;
  description?: string | null;
  modules?: unknown[];
  drift?: DriftItem[];
  drifted?: boolean;
}

export interface Preamble {
  lang: string;
  collection?: string | null;
  code: string;
  modules?: string[];
}

/** `GET shelf/status` (the server extension). */
export interface ShelfStatus {
  daemon?: {
    ok?: boolean;
    address?: string | null;
    managed?: boolean;
    pid?: number | null;
    error?: string | null;
  };
  client?: string;
  featured?: string[];
  [key: string]: unknown;
}

/** One entry of `GET shelf/webapps`. */
export interface WebApp {
  key: string;
  title: string;
  icon?: string | null;
  running?: boolean;
  url?: string | null;
}

/** Server-sent event as the panel receives it. */
export interface ShelfEvent {
  type: string;
  data: unknown;
}
