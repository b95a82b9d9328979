/*
 * events.ts: follows the daemon's server-sent event stream (`GET events`,
 * read with fetch and a stream reader, so that it goes through Jupyter's
 * authentication like every other request) and reconnects with backoff
 * (1, 2, 4 ... 30 s) when it ends or fails. Each event is handed to a
 * callback with its JSON data parsed (or the raw text when not JSON).
 */

import type { ShelfAPI } from './api';
import { SSEParser, backoffSeconds } from './logic';
import type { ShelfEvent } from './types';

export interface EventStreamOptions {
  api: Pick<ShelfAPI, 'openEvents'>;
  onEvent: (event: ShelfEvent) => void;
  /** Called with true when connected, false when the stream is lost. */
  onConnection?: (connected: boolean) => void;
  /** Timer functions (tests replace them). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

export class EventStream {
  private readonly options: EventStreamOptions;
  private controller: AbortController | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private running = false;

  constructor(options: EventStreamOptions) {
    this.options = options;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts following the stream (no-op when already started). */
  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    this.attempt = 0;
    void this.connect();
  }

  /** Stops following the stream and cancels a pending reconnection. */
  stop(): void {
    this.running = false;
    if (this.timer !== null) {
      (this.options.clearTimeout || clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
      this.timer = null;
    }
    if (this.controller) {
      this.controller.abort();
      this.controller = null;
    }
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (!this.running) {
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    try {
      const resp = await this.options.api.openEvents(controller.signal);
      if (!resp.body) {
        throw new Error('the event stream has no body');
      }
      this.attempt = 0;
      this.options.onConnection?.(true);
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SSEParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !this.running) {
          break;
        }
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) {
          let data: unknown = ev.data;
          try {
            data = JSON.parse(ev.data);
          } catch {
            // keep the text
          }
          try {
            this.options.onEvent({ type: ev.event, data });
          } catch (err) {
            console.error('shelf: event handler failed', err);
          }
        }
      }
    } catch {
      // lost or refused: reconnect below
    }
    if (this.controller === controller) {
      this.controller = null;
    }
    if (!this.running) {
      return;
    }
    this.options.onConnection?.(false);
    const delay = backoffSeconds(this.attempt++) * 1000;
    this.timer = (this.options.setTimeout || setTimeout)(() => void this.connect(), delay);
  }
}
