import { describe, expect, it } from 'vitest';

import { ApiError, HttpShelfAPI, RequestFn, encodePath, joinUrl } from '../../src/api';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function recorder(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const seen: Array<{ url: string; init: RequestInit }> = [];
  const request: RequestFn = async (url, init) => {
    seen.push({ url, init });
    return answer(url, init);
  };
  return { seen, request };
}

describe('HttpShelfAPI', () => {
  it('builds URLs below the base URL and the API path', async () => {
    const r = recorder(() => json(200, { modules: [] }));
    const api = new HttpShelfAPI({ baseUrl: 'http://h/base/', apiPath: '/shelf/api/v1/', request: r.request });
    await api.modules();
    await api.module('hdf5/1.14.3');
    await api.module('we ird/1#0');
    await api.status();
    await api.preamble('bash');
    await api.collection('a+b');
    expect(r.seen.map(s => s.url)).toEqual([
      'http://h/base/shelf/api/v1/modules?all=1',
      'http://h/base/shelf/api/v1/modules/hdf5/1.14.3',
      'http://h/base/shelf/api/v1/modules/we%20ird/1%230',
      'http://h/base/shelf/status',
      'http://h/base/shelf/api/v1/preamble?lang=bash',
      'http://h/base/shelf/api/v1/collections/a%2Bb'
    ]);
    expect(joinUrl('a/', '/b', '', 'c')).toBe('a/b/c');
    expect(encodePath('x/y z')).toBe('x/y%20z');
  });

  it('sends the action bodies of the API', async () => {
    const r = recorder(() => json(200, { loaded: [], changes: {}, messages: [] }));
    const api = new HttpShelfAPI({ baseUrl: 'http://h/', request: r.request });
    await api.load(['gcc/12.3.0', 'hdf5']);
    await api.unload(['hdf5']);
    await api.swap('gcc', 'gcc/13.2.0');
    await api.swap(null, 'gcc/13.2.0');
    await api.purge();
    await api.restore('train', true);
    await api.saveCollection('train');
    await api.deleteCollection('train');
    await api.startWebapp('CODE_SERVER');
    expect(r.seen.map(s => [s.init.method, s.url.replace('http://h/', ''), s.init.body ?? null])).toEqual([
      ['POST', 'shelf/api/v1/load', '{"modules":["gcc/12.3.0","hdf5"]}'],
      ['POST', 'shelf/api/v1/unload', '{"modules":["hdf5"]}'],
      ['POST', 'shelf/api/v1/swap', '{"new":"gcc/13.2.0","old":"gcc"}'],
      ['POST', 'shelf/api/v1/swap', '{"new":"gcc/13.2.0"}'],
      ['POST', 'shelf/api/v1/purge', '{}'],
      ['POST', 'shelf/api/v1/restore', '{"name":"train","allow_changes":true}'],
      ['POST', 'shelf/api/v1/collections/train', '{}'],
      ['DELETE', 'shelf/api/v1/collections/train', null],
      ['POST', 'shelf/webapps/CODE_SERVER/start', '{}']
    ]);
  });

  it('turns error documents into ApiError with file and line', async () => {
    const r = recorder(() =>
      json(422, {
        error: { code: 'modulefile_error', message: 'bad', module: 'x', file: '/m/x.lua', line: 4 }
      })
    );
    const api = new HttpShelfAPI({ baseUrl: 'http://h/', request: r.request });
    const err = (await api.load(['x']).catch(e => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code, err.message, err.module, err.file, err.line, err.unavailable]).toEqual([
      422,
      'modulefile_error',
      'bad',
      'x',
      '/m/x.lua',
      4,
      false
    ]);
  });

  it('marks 503/504, network failures and timeouts as unavailable', async () => {
    const down = new HttpShelfAPI({
      baseUrl: 'http://h/',
      request: async () => json(503, { error: { code: 'daemon_unavailable', message: 'shelfd is not running' } })
    });
    const e1 = (await down.loaded().catch(e => e)) as ApiError;
    expect([e1.code, e1.message, e1.unavailable]).toEqual(['daemon_unavailable', 'shelfd is not running', true]);

    const html = new HttpShelfAPI({ baseUrl: 'http://h/', request: async () => new Response('<html>oops</html>', { status: 504, statusText: 'Gateway Timeout' }) });
    const e2 = (await html.loaded().catch(e => e)) as ApiError;
    expect([e2.status, e2.message, e2.unavailable]).toEqual([504, 'HTTP 504 Gateway Timeout', true]);

    const net = new HttpShelfAPI({ baseUrl: 'http://h/', request: async () => { throw new TypeError('Failed to fetch'); } });
    const e3 = (await net.loaded().catch(e => e)) as ApiError;
    expect([e3.status, e3.code, e3.message, e3.unavailable]).toEqual([0, 'network', 'the server cannot be reached', true]);

    const slow = new HttpShelfAPI({
      baseUrl: 'http://h/',
      timeoutMs: 30,
      request: (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        })
    });
    const t0 = Date.now();
    const e4 = (await slow.loaded().catch(e => e)) as ApiError;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect([e4.code, e4.unavailable]).toEqual(['timeout', true]);
  });

  it('accepts the web apps as a list or as {"webapps": [...]}', async () => {
    const app = { key: 'CODE_SERVER', title: 'VS Code', icon: null, running: false, url: '/x/' };
    expect(await new HttpShelfAPI({ baseUrl: 'http://h/', request: async () => json(200, [app]) }).webapps()).toEqual([app]);
    expect(await new HttpShelfAPI({ baseUrl: 'http://h/', request: async () => json(200, { webapps: [app] }) }).webapps()).toEqual([app]);
  });
});
