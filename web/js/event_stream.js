// Follows a session's event log: GET /api/events/{id}?follow=1 read with
// fetch() (EventSource cannot send the Authorization header), parsed as SSE,
// resumed with Last-Event-ID after any disconnect — a network drop, a server
// restart, a laptop waking up — with exponential back-off. The server replays
// exactly the events after the last seq this stream delivered, so nothing is
// lost or repeated; onEvent also drops any seq it has already seen.
//
// The browser's offline event ends the stream at once (online resumes it).
// A stream that stays silent past the server's keep-alive (15 s) is treated as
// dead: after sleep a TCP connection can hang without an error.

const STALL_MS = 40_000;
const MAX_BACKOFF_MS = 10_000;

export class EventStream {
  // api: Api; sessionId; afterSeq: the last seq already applied;
  // handlers: {onEvent(ev), onState('connecting'|'live'|'reconnecting', detail),
  //            onFatal(error)} — onFatal for 401/404: no point retrying.
  constructor(api, sessionId, afterSeq, handlers) {
    this.api = api;
    this.sessionId = sessionId;
    this.lastSeq = afterSeq;
    this.handlers = handlers;
    this.closed = false;
    this.failures = 0;
    this.controller = null;
    this.retryTimer = null;
    this.wake = () => this.reconnectNow();
    // The browser knows the network is gone before TCP does: drop the
    // stream at once, so the page says so, and resume on 'online'.
    this.dropped = () => {
      if (this.controller) this.controller.abort();
    };
    window.addEventListener('online', this.wake);
    window.addEventListener('offline', this.dropped);
    document.addEventListener('visibilitychange', this.wake);
    this.run();
  }

  close() {
    this.closed = true;
    window.removeEventListener('online', this.wake);
    window.removeEventListener('offline', this.dropped);
    document.removeEventListener('visibilitychange', this.wake);
    clearTimeout(this.retryTimer);
    if (this.controller) this.controller.abort();
  }

  // Back online or visible again: skip the rest of the back-off.
  reconnectNow() {
    if (this.closed || document.visibilityState === 'hidden') return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.run();
    }
  }

  async run() {
    if (this.closed) return;
    this.handlers.onState(this.failures === 0 ? 'connecting' : 'reconnecting', this.failures);
    const controller = new AbortController();
    this.controller = controller;
    let stallTimer = null;
    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => controller.abort(), STALL_MS);
    };
    try {
      armStall();
      const url = `/api/events/${encodeURIComponent(this.sessionId)}?follow=1`;
      const response = await fetch(url, {
        headers: this.api.headers({
          Accept: 'text/event-stream',
          'Last-Event-ID': String(this.lastSeq),
        }),
        cache: 'no-store',
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 404) {
        let message = `${response.status}`;
        try { message = (await response.json()).detail.message; } catch { /* keep status */ }
        if (response.status === 401) this.api.onUnauthenticated(message);
        this.closed = true;
        this.handlers.onFatal({ status: response.status, message });
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.handlers.onState('live', 0);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armStall();
        buffer += value;
        buffer = buffer.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(frame);
          this.failures = 0;
        }
      }
      throw new Error('stream ended');
    } catch (error) {
      if (this.closed) return;
      this.failures++;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures - 1, 5));
      const jittered = delay / 2 + Math.random() * delay / 2;
      this.handlers.onState('reconnecting', this.failures, error);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.run();
      }, jittered);
    } finally {
      clearTimeout(stallTimer);
    }
  }

  dispatch(frame) {
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;  // comment: keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data += (data ? '\n' : '') + value;
    }
    if (!data) return;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof event.seq !== 'number' || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.handlers.onEvent(event);
  }
}
