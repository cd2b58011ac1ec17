import { beforeEach, describe, expect, it, vi } from 'vitest';
import { graphChanged, useEditor } from '../src/stores/editor';
import { onMessage, reduceEvent, reduceEvents, useLive, type ExecLive } from '../src/stores/live';
import { useAuth } from '../src/stores/auth';
import { fakeFetch } from './fakeFetch';

const base = {
  id: 'w1',
  name: 'W',
  version: 3,
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'T' } },
    { id: 'out', type: 'output', position: { x: 300, y: 0 }, data: {} },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
};

describe('editor store', () => {
  beforeEach(() => {
    useAuth.getState().signIn('flw_test');
    useEditor.getState().load(base);
  });

  it('adds nodes with fresh ids that are never reserved roots, and marks the graph dirty', () => {
    const a = useEditor.getState().addNode('trigger', { x: 0, y: 100 });
    const b = useEditor.getState().addNode('human-approval', { x: 0, y: 200 });
    expect(a).toBe('trigger_1');
    expect(b).toBe('human_approval_1');
    expect(useEditor.getState().dirty).toBe(true);
    expect(useEditor.getState().selectedId).toBe('human_approval_1');
  });

  it('undoes and redoes structural changes', () => {
    const s = useEditor.getState();
    s.addNode('condition', { x: 1, y: 1 });
    s.onConnect({ source: 'start', target: 'condition_1', sourceHandle: 'out', targetHandle: null });
    expect(useEditor.getState().edges).toHaveLength(2);
    useEditor.getState().undo();
    expect(useEditor.getState().edges).toHaveLength(1);
    expect(useEditor.getState().nodes).toHaveLength(3);
    useEditor.getState().undo();
    expect(useEditor.getState().nodes).toHaveLength(2);
    useEditor.getState().redo();
    useEditor.getState().redo();
    expect(useEditor.getState().edges.map((e) => e.id)).toContain('e_start_out_condition_1');
  });

  it('refuses a self-loop and a duplicate edge', () => {
    const s = useEditor.getState();
    s.onConnect({ source: 'out', target: 'out', sourceHandle: null, targetHandle: null });
    s.onConnect({ source: 'start', target: 'out', sourceHandle: null, targetHandle: null });
    s.onConnect({ source: 'start', target: 'out', sourceHandle: null, targetHandle: null });
    expect(useEditor.getState().edges).toHaveLength(2);
  });

  it('coalesces typing in one node into one undo step', () => {
    const s = useEditor.getState();
    s.updateData('out', { value: 'a' });
    s.updateData('out', { value: 'ab' });
    s.updateData('out', { value: 'abc' });
    expect(useEditor.getState().nodes[1].data.value).toBe('abc');
    useEditor.getState().undo();
    expect(useEditor.getState().nodes[1].data.value).toBeUndefined();
  });

  it('copies and pastes the selection with new ids and the edges among it', () => {
    useEditor.setState({ nodes: useEditor.getState().nodes.map((n) => ({ ...n, selected: true })) });
    useEditor.getState().copy();
    useEditor.getState().paste();
    const ids = useEditor.getState().nodes.map((n) => n.id);
    expect(ids).toEqual(['start', 'out', 'trigger_1', 'output_1']);
    expect(useEditor.getState().edges.map((e) => [e.source, e.target])).toContainEqual(['trigger_1', 'output_1']);
  });

  it('deletes the selection and the edges touching it', () => {
    useEditor.setState({ nodes: useEditor.getState().nodes.map((n) => ({ ...n, selected: n.id === 'out' })) });
    useEditor.getState().deleteSelected();
    expect(useEditor.getState().nodes.map((n) => n.id)).toEqual(['start']);
    expect(useEditor.getState().edges).toHaveLength(0);
  });

  it('toggles a breakpoint in node data and puts validation errors on nodes', () => {
    useEditor.getState().toggleBreakpoint('out');
    expect(useEditor.getState().toJson().nodes[1].data.breakpoint).toBe(true);
    useEditor.getState().setValidation({
      valid: false,
      errors: [
        { code: 'MISSING_REQUIRED_FIELD', nodeId: 'out', message: 'missing x' },
        { code: 'NO_TRIGGER', message: 'no trigger' },
      ],
    });
    expect(useEditor.getState().errors).toEqual({ out: ['missing x'] });
    expect(useEditor.getState().graphErrors).toEqual(['no trigger']);
  });

  it('lays the graph out left to right', () => {
    useEditor.getState().layout();
    const [a, b] = useEditor.getState().nodes;
    expect(b.position.x).toBeGreaterThan(a.position.x);
  });

  it('saves with expectedVersion, and on 409 offers the choice instead of throwing', async () => {
    const calls = fakeFetch({
      'PATCH /api/pipelines/w1': (body) =>
        (body as { expectedVersion?: number }).expectedVersion === 3
          ? [409, { error: { code: 'CONFLICT', message: 'was changed', details: { currentVersion: 4, expectedVersion: 3 } } }]
          : [200, { ...base, version: 5 }],
    });
    useEditor.getState().addNode('delay', { x: 0, y: 0 });
    expect(await useEditor.getState().save()).toBeNull();
    expect(useEditor.getState().conflict).toEqual({ currentVersion: 4, message: 'was changed' });
    expect(useEditor.getState().dirty).toBe(true);
    expect(calls[0].auth).toBe('Bearer flw_test');
    const p = await useEditor.getState().save({ force: true });
    expect(p?.version).toBe(5);
    expect(calls[1].body).not.toHaveProperty('expectedVersion');
    expect(useEditor.getState()).toMatchObject({ version: 5, dirty: false, conflict: null });
  });
});

describe('editor store and live runs', () => {
  beforeEach(() => {
    useEditor.getState().load(base);
  });

  it("React Flow's measurements and a selection neither mark the graph dirty nor add an undo step, nor count as a graph change", () => {
    const before = useEditor.getState();
    useEditor.getState().onNodesChange([
      { type: 'dimensions', id: 'start', dimensions: { width: 200, height: 56 }, setAttributes: true },
      { type: 'dimensions', id: 'out', dimensions: { width: 200, height: 56 }, setAttributes: true },
    ]);
    useEditor.getState().onNodesChange([{ type: 'select', id: 'out', selected: true }]);
    const after = useEditor.getState();
    expect(after.nodes).not.toBe(before.nodes);
    expect(after.dirty).toBe(false);
    expect(after.past).toHaveLength(0);
    expect(graphChanged(before, after)).toBe(false);
    useEditor.getState().onNodesChange([{ type: 'position', id: 'out', position: { x: 320, y: 0 }, dragging: false }]);
    expect(graphChanged(after, useEditor.getState())).toBe(true);
    expect(useEditor.getState().dirty).toBe(true);
    const moved = useEditor.getState();
    useEditor.getState().updateData('out', { label: 'Out' });
    expect(graphChanged(moved, useEditor.getState())).toBe(true);
  });

  it('a live status changes only that node, in one store update per batch, and leaves the editor alone', () => {
    const x = 'x-live-1';
    useLive.getState().reset(x);
    const ev = (event: string, seq: number, nodeId?: string) => ({ event, seq, executionId: x, workflowId: 'w1', nodeId });
    useLive.getState().applyMany([ev('step:started', 1, 'start'), ev('step:completed', 2, 'start'), ev('step:started', 3, 'out')]);
    const s1 = useLive.getState().executions[x];
    const editorBefore = useEditor.getState();
    let updates = 0;
    const off = useLive.subscribe(() => updates++);
    useLive.getState().applyMany([ev('step:completed', 4, 'out'), ev('workflow:complete', 5)]);
    off();
    const s2 = useLive.getState().executions[x];
    expect(updates).toBe(1);
    expect(s2.nodes.out.status).toBe('success');
    expect(s2.nodes.start).toBe(s1.nodes.start); // untouched: a node's selector sees no change
    expect(s2.status).toBe('success');
    expect(s2.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(useEditor.getState()).toBe(editorBefore);
    // a replayed batch changes nothing and notifies no one
    const off2 = useLive.subscribe(() => updates++);
    useLive.getState().applyMany([ev('step:completed', 4, 'out')]);
    off2();
    expect(updates).toBe(1);
    expect(useLive.getState().executions[x]).toBe(s2);
  });

  it('a batch reduces like one event after another, keeping the last 200 events', () => {
    const x0: ExecLive = { status: 'pending', lastSeq: 0, nodes: {}, events: [] };
    const es = Array.from({ length: 450 }, (_, i) => ({ event: i % 2 ? 'step:completed' : 'step:started', seq: i + 1, executionId: 'x', workflowId: 'w', nodeId: `n${i >> 1}` }));
    const oneByOne = es.reduce(reduceEvent, x0);
    const batched = reduceEvents(reduceEvents(x0, es.slice(0, 7)), es.slice(7));
    expect(batched).toEqual(oneByOne);
    expect(batched.events).toHaveLength(200);
    expect(batched.events[199].seq).toBe(450);
  });

  it('a feed of many suspended runs reloads the approvals at once, then at most once a second', () => {
    vi.useFakeTimers();
    try {
      const t0 = useLive.getState().feedTick;
      for (let i = 0; i < 300; i++) onMessage({ type: 'feed', reason: 'approval-pending' });
      expect(useLive.getState().feedTick).toBe(t0 + 1);
      vi.advanceTimersByTime(1000);
      expect(useLive.getState().feedTick).toBe(t0 + 2);
      vi.advanceTimersByTime(5000);
      expect(useLive.getState().feedTick).toBe(t0 + 2);
    } finally {
      vi.useRealTimers();
    }
  });
});
