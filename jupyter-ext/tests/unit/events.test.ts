import { describe, expect, it } from 'vitest';

import { EventStream } from '../../src/events';
import type { ShelfEvent } from '../../src/types';
import { until } from './fake';

function streamOf(chunks: string[], keepOpen = false): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) {
        controller.enqueue(enc.encode(c));
      }
      if (!keepOpen) {
        controller.close();
      }
    }
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

describe('EventStream', () => {
  it('delivers parsed events and reconnects with backoff after the stream ends or fails', async () => {
    const events: ShelfEvent[] = [];
    const delays: number[] = [];
    let opens = 0;
    const stream = new EventStream({
      api: {
        openEvents: async () => {
          opens++;
          if (opens === 1) {
            return streamOf(['event: tree\ndata: {"dir":"/m","generation":3}\n\n', 'event: loaded\ndata: {"client":"jupyter","loaded":["a/1"]}\n\n']);
          }
          if (opens === 2 || opens === 3) {
            throw new Error('connection refused');
          }
          return streamOf(['event: index\ndata: {"generation":4}\n\n'], true);
        }
      },
      onEvent: ev => events.push(ev),
      setTimeout: (fn, ms) => {
        delays.push(ms);
        return setTimeout(fn, 1);
      }
    });
    stream.start();
    await until(() => events.length === 3);
    stream.stop();
    expect(events).toEqual([
      { type: 'tree', data: { dir: '/m', generation: 3 } },
      { type: 'loaded', data: { client: 'jupyter', loaded: ['a/1'] } },
      { type: 'index', data: { generation: 4 } }
    ]);
    // ended after a good connection: 1 s; then two failures: 2 s, 4 s
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(opens).toBe(4);
  });

  it('stops for good', async () => {
    let opens = 0;
    const stream = new EventStream({
      api: { openEvents: async () => { opens++; throw new Error('down'); } },
      onEvent: () => undefined,
      setTimeout: fn => setTimeout(fn, 1)
    });
    stream.start();
    await until(() => opens >= 2);
    stream.stop();
    const n = opens;
    await new Promise(r => setTimeout(r, 30));
    expect(opens).toBe(n);
    expect(stream.isRunning).toBe(false);
  });
});
