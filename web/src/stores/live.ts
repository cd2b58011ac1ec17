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

/** Pure: the execution's state after one event. */
export function reduceEvent(x: ExecLive, e: LiveEvent): ExecLive {
  if (e.seq !== undefined && e.seq <= x.lastSeq && e.event !== 'step:progress') return x;
  const next: ExecLive = { ...x, nodes: { ...x.nodes }, events: [...x.events.slice(-199), e] };
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

function onMessage(m: WsMessage): void {
  const s = useLive.getState();
  if ('event' in m && typeof m.event === 'string' && 'executionId' in m) {
    pending.push(m as LiveEvent);
    if (!scheduled) {
      scheduled = true;
      if (typeof requestAnimationFrame === 'function' && !document.hidden) requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    }
  } else if (m.type === 'feed') useLive.setState({ feedTick: s.feedTick + 1 });
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
      if (!es.length) return {};
      const executions = { ...s.executions };
      for (const e of es) executions[e.executionId] = reduceEvent(executions[e.executionId] ?? empty(), e);
      return { executions };
    }),
  applyLogs: (executionId, status, logs) =>
    set((s) => {
      const x = { ...(s.executions[executionId] ?? empty()) };
      x.nodes = { ...x.nodes };
      for (const l of logs) {
        const kind = l.status === 'waiting' ? (l.output as { kind?: unknown } | null)?.kind : undefined;
        x.nodes[l.nodeId] = {
          ...x.nodes[l.nodeId],
          status: l.status,
          output: l.output,
          durationMs: l.durationMs ?? undefined,
          ...(typeof kind === 'string' ? { reason: kind } : {}),
        };
        if (l.seq > x.lastSeq) x.lastSeq = l.seq;
      }
      x.status = status;
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
