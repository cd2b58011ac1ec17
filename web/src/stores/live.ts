// Executions and their live events: node statuses, streamed text, the execution's status.
import { create } from 'zustand';
import { LiveSocket, wsUrl, type WsMessage } from '../api/ws';
import type { ExecStatus, LiveEvent, NodeLog, NodeStatus } from '../api/types';
import { get } from '../api/client';
import type { ExecutionLogs } from '../api/types';
import { useAuth } from './auth';

export interface NodeRun {
  status: NodeStatus;
  output?: unknown;
  durationMs?: number;
  text?: string;
  reason?: string;
}

export interface ExecLive {
  status: ExecStatus;
  lastSeq: number;
  nodes: Record<string, NodeRun>;
  events: LiveEvent[];
  error?: { code?: string; message?: string; nodeId?: string } | null;
}

interface LiveState {
  executions: Record<string, ExecLive>;
  feedTick: number;
  apply: (e: LiveEvent) => void;
  applyMany: (es: LiveEvent[]) => void;
  applyLogs: (executionId: string, status: ExecStatus, logs: NodeLog[]) => void;
  watch: (executionId: string) => void;
  unwatch: (executionId: string) => void;
  reset: (executionId: string) => void;
}

const empty = (): ExecLive => ({ status: 'pending', lastSeq: 0, nodes: {}, events: [] });

const EVENT_STATUS: Record<string, NodeStatus> = {
  'step:started': 'running',
  'step:completed': 'success',
  'step:failed': 'error',
  'node:suspended': 'waiting',
};

/** Why a node waits: node:suspended carries it as output.kind (breakpoint, approval, delay, wait …). */
function suspendReason(e: LiveEvent): string | undefined {
  if (e.event !== 'node:suspended') return undefined;
  const k = (e.output as { kind?: unknown } | null | undefined)?.kind ?? e.reason;
  return typeof k === 'string' ? k : undefined;
}

function eventError(e: LiveEvent): ExecLive['error'] {
  const err = e.error as { code?: string; message?: string; nodeId?: string } | string | null | undefined;
  const o = typeof err === 'object' && err ? err : { message: typeof err === 'string' ? err : undefined };
  return { nodeId: o.nodeId ?? e.nodeId ?? undefined, code: o.code ?? (e.errorCode as string | undefined) ?? undefined, message: o.message };
}

const EVENTS_KEPT = 200;

/** Whether `e` is a replay the execution has already seen (dropped). */
function seen(x: ExecLive, e: LiveEvent): boolean {
  return e.seq !== undefined && e.seq <= x.lastSeq && e.event !== 'step:progress';
}

/** Applies one event to `next` in place; `next` and `next.nodes` are the caller's own copies. */
function applyEvent(next: ExecLive, e: LiveEvent): void {
  if (e.seq !== undefined && e.event !== 'step:progress') next.lastSeq = e.seq;
  const id = e.nodeId;
  const prev = id ? next.nodes[id] : undefined;
  if (id && EVENT_STATUS[e.event]) {
    next.nodes[id] = {
      ...prev,
      status: EVENT_STATUS[e.event],
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      ...(suspendReason(e) ? { reason: suspendReason(e) } : {}),
    };
  }
  if (id && e.event === 'workflow:resumed') next.nodes[id] = { ...prev, status: 'running' };
  switch (e.event) {
    case 'state:update':
      if (id && e.status) next.nodes[id] = { ...prev, status: e.status as NodeStatus };
      else if (!id && e.status) next.status = e.status as ExecStatus;
      break;
    case 'step:progress':
      if (id) {
        const add = typeof e.delta === 'string' ? e.delta : typeof e.text === 'string' ? e.text : '';
        const text = typeof e.delta === 'string' ? (prev?.text ?? '') + add : add || prev?.text;
        next.nodes[id] = { status: 'running', ...prev, text };
      }
      break;
    case 'step:started':
    case 'workflow:resumed':
      next.status = 'running';
      break;
    case 'node:suspended':
      next.status = 'suspended';
      break;
    case 'fatal:error':
      next.error = eventError(e);
      break;
    case 'step:failed':
      if (!next.error) next.error = eventError(e);
      break;
    case 'workflow:complete':
      next.status = (e.status as ExecStatus) ?? 'success';
      break;
  }
}

/** Pure: the execution's state after one event. */
export function reduceEvent(x: ExecLive, e: LiveEvent): ExecLive {
  return reduceEvents(x, [e]);
}

/**
 * Pure: the execution's state after a batch of its events, copied once for the batch (not once
 * per event: a burst brings a thousand events over 500 nodes in one frame). Node entries that
 * no event touched keep their identity, so a node's selector sees no change. The same `x` when
 * every event was a replay.
 */
export function reduceEvents(x: ExecLive, es: LiveEvent[]): ExecLive {
  let next: ExecLive | null = null;
  const added: LiveEvent[] = [];
  for (const e of es) {
    if (seen(next ?? x, e)) continue;
    next ??= { ...x, nodes: { ...x.nodes } };
    applyEvent(next, e);
    added.push(e);
  }
  if (!next) return x;
  next.events = added.length >= EVENTS_KEPT ? added.slice(-EVENTS_KEPT) : [...x.events.slice(added.length - EVENTS_KEPT), ...added];
  return next;
}

let socket: LiveSocket | null = null;
function sock(): LiveSocket {
  if (!socket) {
    socket = new LiveSocket(() => wsUrl(useAuth.getState().token));
    socket.on(onMessage);
  }
  return socket;
}

// Events are applied once per animation frame, however many arrive: one store update (and one
// render of the canvas) per frame, not per event.
let pending: LiveEvent[] = [];
let scheduled = false;
function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = [];
  useLive.getState().applyMany(batch);
}

/** One message from the socket (exported for the unit tests). */
export function onMessage(m: WsMessage): void {
  if ('event' in m && typeof m.event === 'string' && 'executionId' in m) {
    pending.push(m as LiveEvent);
    if (!scheduled) {
      scheduled = true;
      if (typeof requestAnimationFrame === 'function' && !document.hidden) requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    }
  } else if (m.type === 'feed') feedTick();
}

// The feed (a run suspended or finished: every delay node of a run is one) makes the navigation
// reload the approvals: at once, then at most once per FEED_MS however many arrive.
const FEED_MS = 1000;
let feedAt = -Infinity;
let feedTimer: ReturnType<typeof setTimeout> | null = null;
function feedTick(): void {
  if (feedTimer) return;
  const bump = () => {
    feedTimer = null;
    feedAt = Date.now();
    useLive.setState((s) => ({ feedTick: s.feedTick + 1 }));
  };
  const wait = feedAt + FEED_MS - Date.now();
  if (wait <= 0) bump();
  else feedTimer = setTimeout(bump, wait);
}

export function joinFeed(): void {
  sock().join('feed', () => ({ type: 'join:feed' }));
}

export const useLive = create<LiveState>((set, getState) => ({
  executions: {},
  feedTick: 0,
  apply: (e) => getState().applyMany([e]),
  applyMany: (es) =>
    set((s) => {
      if (!es.length) return s;
      const byExec = new Map<string, LiveEvent[]>();
      for (const e of es) {
        const l = byExec.get(e.executionId);
        if (l) l.push(e);
        else byExec.set(e.executionId, [e]);
      }
      const executions = { ...s.executions };
      let changed = false;
      for (const [id, l] of byExec) {
        const cur = executions[id] ?? empty();
        const next = reduceEvents(cur, l);
        if (next !== executions[id]) {
          executions[id] = next;
          changed = true;
        }
      }
      return changed ? { executions } : s; // the same state: no listener runs
    }),
  applyLogs: (executionId, status, logs) =>
    set((s) => {
      const x = { ...(s.executions[executionId] ?? empty()) };
      x.nodes = { ...x.nodes };
      // The logs may have been read before events that came in while they travelled (a slow
      // answer under load): what the events already said after a row's seq wins over the row.
      const seenSeq = x.lastSeq;
      let logSeq = 0;
      for (const l of logs) {
        const cur = x.nodes[l.nodeId];
        if (l.seq > logSeq) logSeq = l.seq;
        const kind = l.status === 'waiting' ? (l.output as { kind?: unknown } | null)?.kind : undefined;
        if (cur && l.seq <= seenSeq) {
          // the status stays the events'; what they lacked (an output, why it waits) the row gives
          x.nodes[l.nodeId] = {
            ...cur,
            output: cur.output ?? l.output,
            durationMs: cur.durationMs ?? l.durationMs ?? undefined,
            ...(!cur.reason && cur.status === l.status && typeof kind === 'string' ? { reason: kind } : {}),
          };
          continue;
        }
        x.nodes[l.nodeId] = {
          ...cur,
          status: l.status,
          output: l.output,
          durationMs: l.durationMs ?? undefined,
          ...(typeof kind === 'string' ? { reason: kind } : {}),
        };
        if (l.seq > x.lastSeq) x.lastSeq = l.seq;
      }
      if (logSeq >= seenSeq) x.status = status;
      return { executions: { ...s.executions, [executionId]: x } };
    }),
  watch: (executionId) => {
    if (!getState().executions[executionId]) set((s) => ({ executions: { ...s.executions, [executionId]: empty() } }));
    sock().join(`x:${executionId}`, () => ({
      type: 'join:execution',
      executionId,
      since: getState().executions[executionId]?.lastSeq ?? 0,
    }));
    // The socket replays from `since`; the logs also cover a missed socket.
    get<ExecutionLogs>(`/api/workflows/executions/${executionId}/logs`)
      .then((r) => {
        const cur = getState().executions[executionId];
        const finished = cur && ['success', 'error', 'cancelled'].includes(cur.status);
        getState().applyLogs(executionId, finished ? cur.status : r.status, r.logs);
      })
      .catch(() => undefined);
  },
  unwatch: (executionId) => sock().leave(`x:${executionId}`, { type: 'leave:execution', executionId }),
  reset: (executionId) =>
    set((s) => {
      const e = { ...s.executions };
      delete e[executionId];
      return { executions: e };
    }),
}));
