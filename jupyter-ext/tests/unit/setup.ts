/*
 * setup.ts: what jsdom lacks and Lumino expects at import time.
 */
const g = globalThis as unknown as Record<string, unknown>;
if (typeof g.DragEvent === 'undefined') {
  class DragEvent extends MouseEvent {
    readonly dataTransfer: null = null;
  }
  g.DragEvent = DragEvent;
}
if (typeof window !== 'undefined' && typeof window.matchMedia !== 'function') {
  window.matchMedia = ((query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false
  })) as unknown as typeof window.matchMedia;
}
