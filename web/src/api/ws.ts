// One WebSocket to /ws?token=…, shared by every subscriber; reconnects and re-joins.
import type { LiveEvent } from './types';

export type WsMessage = LiveEvent | { type: string; [k: string]: unknown };
type Listener = (m: WsMessage) => void;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private joins = new Map<string, () => Record<string, unknown>>();
  private retry = 0;
  private closed = false;
  private queue: string[] = [];

  constructor(
    private url: () => string,
    private make: (u: string) => WebSocket = (u) => new WebSocket(u),
  ) {}

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Remember a join message (its builder is called again after a reconnect) and send it. */
  join(key: string, build: () => Record<string, unknown>): void {
    this.joins.set(key, build);
    this.send(build());
  }

  leave(key: string, msg?: Record<string, unknown>): void {
    this.joins.delete(key);
    if (msg) this.send(msg);
  }

  send(msg: Record<string, unknown>): void {
    const text = JSON.stringify(msg);
    this.open();
    if (this.ws && this.ws.readyState === 1) this.ws.send(text);
    else this.queue.push(text);
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
    this.ws = null;
  }

  private open(): void {
    if (this.ws || this.closed) return;
    const ws = this.make(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      const pending = this.queue;
      this.queue = [];
      const sent = new Set<string>();
      for (const b of this.joins.values()) {
        const t = JSON.stringify(b());
        sent.add(t);
        ws.send(t);
      }
      for (const t of pending) if (!sent.has(t)) ws.send(t);
    };
    ws.onmessage = (e) => {
      let m: WsMessage;
      try {
        m = JSON.parse(String(e.data)) as WsMessage;
      } catch {
        return;
      }
      for (const l of this.listeners) l(m);
    };
    ws.onclose = () => {
      this.ws = null;
      if (this.closed) return;
      this.retry = Math.min(this.retry + 1, 6);
      setTimeout(() => {
        if (this.joins.size > 0) this.open();
      }, 200 * 2 ** this.retry);
    };
  }
}

export function wsUrl(token: string | null): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws?token=${encodeURIComponent(token ?? '')}`;
}
