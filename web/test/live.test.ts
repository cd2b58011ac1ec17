import { describe, expect, it } from 'vitest';
import { reduceEvent, useLive, type ExecLive } from '../src/stores/live';
import type { NodeLog } from '../src/api/types';

const x0: ExecLive = { status: 'pending', lastSeq: 0, nodes: {}, events: [] };
const ev = (event: string, seq: number, extra: Record<string, unknown> = {}) => ({ event, seq, executionId: 'x', workflowId: 'w', ...extra });

describe('live events reducer', () => {
  it('follows a run: running, success with output, suspended at a breakpoint, complete', () => {
    let x = reduceEvent(x0, ev('step:started', 1, { nodeId: 'a' }));
    expect(x.nodes.a.status).toBe('running');
    expect(x.status).toBe('running');
    x = reduceEvent(x, ev('step:completed', 2, { nodeId: 'a', output: { v: 1 }, durationMs: 4 }));
    expect(x.nodes.a).toMatchObject({ status: 'success', output: { v: 1 }, durationMs: 4 });
    x = reduceEvent(x, ev('node:suspended', 3, { nodeId: 'b', status: 'waiting', output: { kind: 'breakpoint' } }));
    expect(x.nodes.b).toMatchObject({ status: 'waiting', reason: 'breakpoint' });
    expect(x.status).toBe('suspended');
    x = reduceEvent(x, ev('workflow:resumed', 4, { nodeId: 'b' }));
    expect(x.nodes.b.status).toBe('running');
    x = reduceEvent(x, ev('state:update', 5, { nodeId: 'c', status: 'skipped' }));
    expect(x.nodes.c.status).toBe('skipped');
    x = reduceEvent(x, ev('workflow:complete', 6, { status: 'success' }));
    expect(x.status).toBe('success');
    expect(x.lastSeq).toBe(6);
  });

  it('drops a replayed event (seq not after the last one)', () => {
    const x = reduceEvent(x0, ev('step:completed', 5, { nodeId: 'a' }));
    const y = reduceEvent(x, ev('step:started', 5, { nodeId: 'a' }));
    expect(y).toBe(x);
  });

  it('appends streamed text from step:progress deltas', () => {
    let x = reduceEvent(x0, ev('step:progress', 1, { nodeId: 'llm', delta: 'Hel' }));
    x = reduceEvent(x, ev('step:progress', 2, { nodeId: 'llm', delta: 'lo' }));
    expect(x.nodes.llm.text).toBe('Hello');
  });

  it('keeps the error with its node and code', () => {
    let x = reduceEvent(x0, ev('step:failed', 1, { nodeId: 'q', error: { code: 'SQL_ERROR', message: 'boom' } }));
    expect(x.nodes.q.status).toBe('error');
    x = reduceEvent(x, ev('fatal:error', 2, { nodeId: 'q', errorCode: 'SQL_ERROR', error: 'boom' }));
    expect(x.error).toEqual({ nodeId: 'q', code: 'SQL_ERROR', message: 'boom' });
  });
});

describe('node logs and live events together', () => {
  it('logs read before a breakpoint event do not take the run back to running', () => {
    const x = 'x-logs-1';
    useLive.getState().reset(x);
    const e = (event: string, seq: number, extra: Record<string, unknown> = {}) => ({ event, seq, executionId: x, workflowId: 'w', ...extra });
    useLive.getState().applyMany([
      e('step:started', 1, { nodeId: 'start' }),
      e('step:completed', 2, { nodeId: 'start', output: { a: 1 } }),
      e('node:suspended', 3, { nodeId: 'cond', output: { kind: 'breakpoint' } }),
    ]);
    // the logs' answer, read when only the trigger had run
    useLive.getState().applyLogs(x, 'running', [{ nodeId: 'start', status: 'success', seq: 2, output: { a: 1 }, durationMs: 3 } as unknown as NodeLog]);
    const s = useLive.getState().executions[x];
    expect(s.status).toBe('suspended');
    expect(s.nodes.cond).toMatchObject({ status: 'waiting', reason: 'breakpoint' });
    expect(s.nodes.start).toMatchObject({ status: 'success', durationMs: 3 });
    // a suspension whose event said not why: the row's output tells it
    useLive.getState().applyMany([e('node:suspended', 4, { nodeId: 'wait' })]);
    useLive.getState().applyLogs(x, 'suspended', [{ nodeId: 'wait', status: 'waiting', seq: 4, output: { kind: 'breakpoint' } } as unknown as NodeLog]);
    expect(useLive.getState().executions[x].nodes.wait).toMatchObject({ status: 'waiting', reason: 'breakpoint' });
    // logs newer than the events (events missed) are taken
    useLive.getState().applyLogs(x, 'success', [{ nodeId: 'cond', status: 'success', seq: 9, output: { r: true }, durationMs: 1 } as unknown as NodeLog]);
    expect(useLive.getState().executions[x].status).toBe('success');
    expect(useLive.getState().executions[x].nodes.cond.status).toBe('success');
  });
});
