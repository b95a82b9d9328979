import { describe, expect, it } from 'vitest';

import { ApiError } from '../../src/api';
import {
  SSEParser,
  backoffSeconds,
  buildIndex,
  categoryOf,
  defaultVersion,
  diffWebapps,
  driftText,
  errorBody,
  filterIndex,
  filterModules,
  formatCreated,
  groupByCategory,
  kernelCode,
  loadSequence,
  looksLikeSvg,
  moduleLoadSequence,
  needsText,
  otherVersions,
  propertyBadges,
  swapCandidate,
  userLoaded,
  validateCollectionName,
  versionLabel,
  webappSignature
} from '../../src/logic';
import { sampleModules } from './fake';

describe('filter', () => {
  const mods = sampleModules();

  it('matches name, description and keywords, case-insensitively', () => {
    expect(filterModules(mods, 'torchv').map(m => m.name)).toEqual(['torchvision']);
    expect(filterModules(mods, 'TORCHV').map(m => m.name)).toEqual(['torchvision']);
    expect(filterModules(mods, 'hierarchical').map(m => m.name)).toEqual(['hdf5']);
    expect(filterModules(mods, 'fortran').map(m => m.name)).toEqual(['gcc']);
  });

  it('needs every word to match', () => {
    expect(filterModules(mods, 'torch images').map(m => m.name)).toEqual(['torchvision']);
    expect(filterModules(mods, 'torch').map(m => m.name).sort()).toEqual(['torch', 'torchvision']);
    expect(filterModules(mods, 'torch gcc')).toEqual([]);
  });

  it('an empty or blank query matches everything', () => {
    expect(filterModules(mods, '').length).toBe(mods.length);
    expect(filterModules(mods, '   ').length).toBe(mods.length);
  });

  it('keeps the index order (category, then name)', () => {
    const index = buildIndex(mods);
    expect(index.map(e => e.category)).toEqual(['Compiler', 'Library', 'Library', 'Python', 'Python', 'Tools', 'Other']);
    expect(filterIndex(index, 'torch').map(e => e.module.name)).toEqual(['torch', 'torchvision']);
  });
});

describe('grouping and versions', () => {
  const mods = sampleModules();

  it('groups by the first part of the category, Other last', () => {
    expect(categoryOf({ category: 'Python, Library' })).toBe('Python');
    expect(categoryOf({ category: '  ' })).toBe('Other');
    expect(categoryOf({ category: null })).toBe('Other');
    const groups = groupByCategory(mods);
    expect(groups.map(g => g[0])).toEqual(['Compiler', 'Library', 'Python', 'Tools', 'Other']);
    expect(groups[1][1].map(m => m.name)).toEqual(['cuda', 'hdf5']);
    expect(groups[4][1].map(m => m.name)).toEqual(['evil']);
  });

  it('marks the default version', () => {
    const gcc = mods.find(m => m.name === 'gcc')!;
    expect(defaultVersion(gcc)!.fullname).toBe('gcc/12.3.0');
    expect(versionLabel(defaultVersion(gcc)!)).toBe('12.3.0 (default)');
    expect(otherVersions(gcc).map(v => versionLabel(v))).toEqual(['13.2.0']);
    // without a marked default, the named one, else the last
    const m = { name: 'x', default_fullname: 'x/1', versions: [{ version: '1', fullname: 'x/1' }, { version: '2', fullname: 'x/2' }] };
    expect(defaultVersion(m)!.fullname).toBe('x/1');
    expect(defaultVersion({ ...m, default_fullname: null })!.fullname).toBe('x/2');
  });

  it('takes the version the daemon marks, among builds of one full name', () => {
    // hdf5/1.14.3 built for gcc 12 and for gcc 13: with gcc 13 loaded the
    // daemon marks gcc 13's build, and Load keeps the loaded compiler.
    const hdf5 = {
      name: 'hdf5',
      default_fullname: 'hdf5/1.14.3',
      versions: [
        { version: '1.14.3', fullname: 'hdf5/1.14.3', default: false, loadable: false,
          requires: [['gcc/12.3.0', 'openmpi/4.1.6']] },
        { version: '1.14.3', fullname: 'hdf5/1.14.3', default: true, loadable: false,
          requires: [['gcc/13.2.0', 'openmpi/4.1.6']] }
      ]
    };
    expect(defaultVersion(hdf5)).toBe(hdf5.versions[1]);
    expect(moduleLoadSequence(hdf5, ['gcc/13.2.0'])).toEqual(['openmpi/4.1.6', 'hdf5/1.14.3']);
  });

  it('hides hidden versions unless loaded', () => {
    const m = {
      name: 'numpy',
      versions: [
        { version: '1.26.4', fullname: 'numpy/1.26.4', default: true },
        { version: '.2.0.0rc1', fullname: 'numpy/.2.0.0rc1', hidden: true }
      ]
    };
    expect(otherVersions(m)).toEqual([]);
    m.versions[1] = { ...m.versions[1], loaded: true } as never;
    expect(otherVersions(m).length).toBe(1);
  });

  it('says what a module needs first, and loads it first', () => {
    const hdf5 = mods.find(m => m.name === 'hdf5')!;
    expect(needsText(hdf5.requires)).toBe('needs: gcc/12.3.0, openmpi/4.1.6 (or gcc/13.2.0, openmpi/4.1.6)');
    expect(needsText(hdf5.versions[0].requires)).toBe('needs: gcc/12.3.0, openmpi/4.1.6');
    expect(needsText([])).toBe('');
    expect(needsText([[]])).toBe('');
    expect(moduleLoadSequence(hdf5)).toEqual(['gcc/12.3.0', 'openmpi/4.1.6', 'hdf5/1.14.3']);
    expect(moduleLoadSequence(hdf5, ['gcc/12.3.0'])).toEqual(['openmpi/4.1.6', 'hdf5/1.14.3']);
    expect(loadSequence('torch/2.2.0', true, [['gcc/12.3.0']])).toEqual(['torch/2.2.0']);
    expect(moduleLoadSequence(mods.find(m => m.name === 'torchvision')!)).toEqual(['torchvision/0.17.0']);
  });

  it('shows property values as badges', () => {
    expect(propertyBadges({ arch: ['gpu'] })).toEqual(['gpu']);
    expect(propertyBadges({ arch: ['gpu', 'mic'], state: ['gpu'] })).toEqual(['gpu', 'mic']);
    expect(propertyBadges({ lmod: [] })).toEqual(['lmod']);
    expect(propertyBadges(null)).toEqual([]);
  });
});

describe('collection names', () => {
  it('accepts the daemon rules', () => {
    for (const ok of ['train', 'a', 'x.y', 'a-b_c+d@e,f', 'A1', 'x'.repeat(255)]) {
      expect(validateCollectionName(ok)).toBeNull();
    }
  });
  it('rejects a / with a clear message', () => {
    expect(validateCollectionName('a/b')).toBe('a collection name cannot contain /');
    expect(validateCollectionName('../x')).toBe('a collection name cannot contain /');
  });
  it('rejects the rest', () => {
    expect(validateCollectionName('')).toMatch(/empty/);
    expect(validateCollectionName('.hidden')).toMatch(/start with/);
    expect(validateCollectionName('-x')).toMatch(/start with/);
    expect(validateCollectionName('x'.repeat(256))).toMatch(/255/);
    expect(validateCollectionName('a b')).toMatch(/spaces/);
    expect(validateCollectionName('a$b')).toMatch(/cannot contain \$/);
    expect(validateCollectionName('é')).not.toBeNull();
  });
});

describe('kernel code', () => {
  it('purges then loads the user modules in order', () => {
    expect(kernelCode(['torchvision/0.17.0', 'gcc/12.3.0'])).toBe(
      'import shelf\nshelf.purge()\nshelf.load("torchvision/0.17.0", "gcc/12.3.0")\n'
    );
    expect(kernelCode([])).toBe('import shelf\nshelf.purge()\n');
  });
  it('quotes strings so that Python reads them back', () => {
    const code = kernelCode(['we"ird\\name/1.0\n', "it's"]);
    expect(code).toBe('import shelf\nshelf.purge()\nshelf.load("we\\"ird\\\\name/1.0\\n", "it\'s")\n');
  });
  it('takes the user-loaded modules of a loaded list', () => {
    expect(
      userLoaded([
        { fullname: 'torch/2.2.0', name: 'torch', user_loaded: false, dependency: true },
        { fullname: 'torchvision/0.17.0', name: 'torchvision', user_loaded: true },
        { fullname: 'gcc/12.3.0', name: 'gcc' }
      ])
    ).toEqual(['torchvision/0.17.0', 'gcc/12.3.0']);
  });
});

describe('web apps diff', () => {
  const vs = { key: 'CODE_SERVER', title: 'VS Code', icon: null };
  it('adds new apps and removes gone ones', () => {
    expect(diffWebapps(new Map(), [vs])).toEqual({ add: [vs], remove: [] });
    const shown = new Map([[vs.key, webappSignature(vs)]]);
    expect(diffWebapps(shown, [vs])).toEqual({ add: [], remove: [] });
    expect(diffWebapps(shown, [])).toEqual({ add: [], remove: ['CODE_SERVER'] });
  });
  it('re-adds an app whose tile changed, ignores duplicates and bad entries', () => {
    const shown = new Map([[vs.key, webappSignature(vs)]]);
    const renamed = { ...vs, title: 'Code' };
    expect(diffWebapps(shown, [renamed, vs])).toEqual({ add: [renamed], remove: ['CODE_SERVER'] });
    expect(diffWebapps(new Map(), [{ key: '', title: 'x' }, null as never])).toEqual({ add: [], remove: [] });
  });
});

describe('misc', () => {
  it('backs off 1, 2, 4 ... 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(backoffSeconds)).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });
  it('recognises SVG icons and refuses scripts', () => {
    expect(looksLikeSvg('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>')).toBe(true);
    expect(looksLikeSvg('<?xml version="1.0"?>\n<svg viewBox="0 0 1 1"></svg>\n')).toBe(true);
    expect(looksLikeSvg('<svg><script>alert(1)</script></svg>')).toBe(false);
    expect(looksLikeSvg('<svg onload="alert(1)"></svg>')).toBe(false);
    expect(looksLikeSvg('<img src=x>')).toBe(false);
    expect(looksLikeSvg(null)).toBe(false);
  });
  it('formats errors with file:line', () => {
    const e = new ApiError(422, 'modulefile_error', 'bad thing', { file: '/m/x.lua', line: 3 });
    expect(errorBody(e)).toBe('bad thing\n/m/x.lua:3');
    expect(errorBody(new ApiError(404, 'not_found', 'nope'))).toBe('nope');
    expect(errorBody(new Error('boom'))).toBe('boom');
  });
  it('describes drift and dates', () => {
    expect(driftText([{ kind: 'changed', module: 'torch/2.2.0' }, { kind: 'vanished', module: 'numpy/1.26.4' }])).toBe(
      'changed since saved: torch/2.2.0 (changed), numpy/1.26.4 (vanished)'
    );
    expect(driftText([])).toBe('');
    expect(formatCreated('2026-11-22T21:03:00Z')).toBe('2026-11-22 21:03');
    expect(formatCreated('yesterday')).toBe('yesterday');
  });
  it('finds the module a swap replaces', () => {
    const loaded = [{ fullname: 'gcc/12.3.0', name: 'gcc', family: 'compiler' }];
    expect(swapCandidate({ name: 'gcc', fullname: 'gcc/13.2.0' }, loaded)).toBe('gcc/12.3.0');
    expect(swapCandidate({ name: 'clang', fullname: 'clang/17', family: 'compiler' }, loaded)).toBe('gcc/12.3.0');
    expect(swapCandidate({ name: 'gcc', fullname: 'gcc/12.3.0' }, loaded)).toBeNull();
    expect(swapCandidate({ name: 'torch', fullname: 'torch/2.2.0' }, loaded)).toBeNull();
  });
});

describe('SSE parser', () => {
  it('parses events split across chunks', () => {
    const p = new SSEParser();
    expect(p.feed('event: tree\ndata: {"dir"')).toEqual([]);
    expect(p.feed(': "/x", "generation": 2}\n\n: comment\n\nevent: loaded\r\ndata: {"client":"a",\r\ndata: "loaded":[]}\r\n\r')).toEqual([
      { event: 'tree', data: '{"dir": "/x", "generation": 2}' }
    ]);
    expect(p.feed('\ndata: plain\n\n')).toEqual([
      { event: 'loaded', data: '{"client":"a",\n"loaded":[]}' },
      { event: 'message', data: 'plain' }
    ]);
  });
});
