import { beforeEach, describe, expect, it } from 'vitest';
import { useEditor } from '../src/stores/editor';
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
