// The editor's graph: nodes, edges, selection, undo/redo, clipboard, validation, save.
import { create } from 'zustand';
import { applyEdgeChanges, applyNodeChanges, type Connection, type Edge, type EdgeChange, type Node, type NodeChange } from '@xyflow/react';
import { ApiError, patch, post } from '../api/client';
import type { FlowEdgeJson, FlowNodeJson, PipelineDetail, ValidationResult } from '../api/types';
import { duplicate, edgeId, newNodeId } from '../lib/graph';
import { autoLayout } from '../lib/layout';

export type FNode = Node<Record<string, unknown>>;
type Snap = { nodes: FNode[]; edges: Edge[] };

export interface Conflict {
  currentVersion: number | null;
  message: string;
}

interface EditorState {
  workflowId: string | null;
  name: string;
  version: number;
  nodes: FNode[];
  edges: Edge[];
  past: Snap[];
  future: Snap[];
  clipboard: { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] } | null;
  dirty: boolean;
  selectedId: string | null;
  errors: Record<string, string[]>;
  graphErrors: string[];
  conflict: Conflict | null;
  saving: boolean;
  load: (p: Pick<PipelineDetail, 'id' | 'name' | 'version' | 'nodes' | 'edges'>) => void;
  onNodesChange: (c: NodeChange<FNode>[]) => void;
  onEdgesChange: (c: EdgeChange[]) => void;
  onConnect: (c: Connection) => void;
  addNode: (type: string, position: { x: number; y: number }, data?: Record<string, unknown>) => string;
  updateData: (id: string, patch: Record<string, unknown>) => void;
  select: (id: string | null) => void;
  checkpoint: () => void;
  undo: () => void;
  redo: () => void;
  copy: () => void;
  paste: () => void;
  deleteSelected: () => void;
  layout: () => void;
  toggleBreakpoint: (id: string) => void;
  setValidation: (v: ValidationResult) => void;
  toJson: () => { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] };
  save: (opts?: { force?: boolean; message?: string }) => Promise<PipelineDetail | null>;
  dismissConflict: () => void;
}

const HISTORY = 100;
let lastEdit = { id: '', at: 0 };

export function toFlowNodes(nodes: FlowNodeJson[]): FNode[] {
  return nodes.map((n) => ({ id: n.id, type: n.type, position: n.position ?? { x: 0, y: 0 }, data: n.data ?? {} }));
}
export function toFlowEdges(edges: FlowEdgeJson[]): Edge[] {
  return edges.map((e) => ({ id: e.id, source: e.source, target: e.target, sourceHandle: e.sourceHandle ?? undefined, targetHandle: e.targetHandle ?? undefined }));
}
function nodeJson(n: FNode): FlowNodeJson {
  return { id: n.id, type: n.type ?? 'unknown', position: { x: Math.round(n.position.x), y: Math.round(n.position.y) }, data: n.data };
}
function edgeJson(e: Edge): FlowEdgeJson {
  const o: FlowEdgeJson = { id: e.id, source: e.source, target: e.target };
  if (e.sourceHandle) o.sourceHandle = e.sourceHandle;
  if (e.targetHandle) o.targetHandle = e.targetHandle;
  return o;
}

export const useEditor = create<EditorState>((set, get) => {
  /** Records the current graph for undo, then applies `f`. */
  const change = (f: (s: EditorState) => Partial<EditorState>) =>
    set((s) => ({ past: [...s.past.slice(-HISTORY + 1), { nodes: s.nodes, edges: s.edges }], future: [], dirty: true, ...f(s) }));

  return {
    workflowId: null,
    name: '',
    version: 0,
    nodes: [],
    edges: [],
    past: [],
    future: [],
    clipboard: null,
    dirty: false,
    selectedId: null,
    errors: {},
    graphErrors: [],
    conflict: null,
    saving: false,
    load: (p) =>
      set({
        workflowId: p.id,
        name: p.name,
        version: p.version,
        nodes: toFlowNodes(p.nodes ?? []),
        edges: toFlowEdges(p.edges ?? []),
        past: [],
        future: [],
        dirty: false,
        selectedId: null,
        conflict: null,
      }),
    onNodesChange: (c) => {
      const structural = c.some((x) => x.type === 'remove' || x.type === 'add');
      const moved = c.some((x) => x.type === 'position' && x.dragging === false);
      if (structural) change((s) => ({ nodes: applyNodeChanges(c, s.nodes) }));
      else set((s) => ({ nodes: applyNodeChanges(c, s.nodes), dirty: s.dirty || moved }));
      const sel = c.find((x) => x.type === 'select' && x.selected);
      if (sel && 'id' in sel) set({ selectedId: sel.id });
      if (c.some((x) => x.type === 'remove' && x.id === get().selectedId)) set({ selectedId: null });
    },
    onEdgesChange: (c) => {
      if (c.some((x) => x.type === 'remove' || x.type === 'add')) change((s) => ({ edges: applyEdgeChanges(c, s.edges) }));
      else set((s) => ({ edges: applyEdgeChanges(c, s.edges) }));
    },
    onConnect: (c) => {
      if (!c.source || !c.target || c.source === c.target) return;
      const id = edgeId(c.source, c.sourceHandle, c.target, c.targetHandle);
      if (get().edges.some((e) => e.id === id)) return;
      change((s) => ({
        edges: [...s.edges, { id, source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? undefined, targetHandle: c.targetHandle ?? undefined }],
      }));
    },
    addNode: (type, position, data = {}) => {
      const id = newNodeId(type, get().nodes.map((n) => n.id));
      change((s) => ({ nodes: [...s.nodes, { id, type, position, data: { label: data.label ?? type, ...data } }], selectedId: id }));
      return id;
    },
    updateData: (id, p) => {
      // typing in one node's fields makes one undo step, not one per key
      const now = Date.now();
      const apply = (s: EditorState) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...p } } : n)) });
      if (lastEdit.id === id && now - lastEdit.at < 1000) set((s) => ({ ...apply(s), dirty: true }));
      else change(apply);
      lastEdit = { id, at: now };
    },
    select: (id) => set((s) => ({ selectedId: id, nodes: s.nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })) })),
    checkpoint: () => set((s) => ({ past: [...s.past.slice(-HISTORY + 1), { nodes: s.nodes, edges: s.edges }], future: [] })),
    undo: () =>
      set((s) => {
        const prev = s.past[s.past.length - 1];
        if (!prev) return {};
        return { past: s.past.slice(0, -1), future: [{ nodes: s.nodes, edges: s.edges }, ...s.future], ...prev, dirty: true };
      }),
    redo: () =>
      set((s) => {
        const next = s.future[0];
        if (!next) return {};
        return { future: s.future.slice(1), past: [...s.past, { nodes: s.nodes, edges: s.edges }], ...next, dirty: true };
      }),
    copy: () => {
      const { nodes, edges } = get();
      const sel = nodes.filter((n) => n.selected);
      if (!sel.length) return;
      const ids = new Set(sel.map((n) => n.id));
      set({ clipboard: { nodes: sel.map(nodeJson), edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map(edgeJson) } });
    },
    paste: () => {
      const cb = get().clipboard;
      if (!cb) return;
      const d = duplicate(cb.nodes, cb.edges, get().nodes.map((n) => n.id));
      change((s) => ({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...toFlowNodes(d.nodes).map((n) => ({ ...n, selected: true }))],
        edges: [...s.edges, ...toFlowEdges(d.edges)],
      }));
      set({ clipboard: { nodes: d.nodes, edges: d.edges } });
    },
    deleteSelected: () => {
      const ids = new Set(get().nodes.filter((n) => n.selected).map((n) => n.id));
      const edgeSel = get().edges.some((e) => e.selected);
      if (!ids.size && !edgeSel) return;
      change((s) => ({
        nodes: s.nodes.filter((n) => !ids.has(n.id)),
        edges: s.edges.filter((e) => !e.selected && !ids.has(e.source) && !ids.has(e.target)),
        selectedId: s.selectedId && ids.has(s.selectedId) ? null : s.selectedId,
      }));
    },
    layout: () => change((s) => ({ nodes: autoLayout(s.nodes as (FNode & FlowNodeJson)[], s.edges) })),
    toggleBreakpoint: (id) =>
      change((s) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, breakpoint: !n.data.breakpoint } } : n)) })),
    setValidation: (v) => {
      const errors: Record<string, string[]> = {};
      const graphErrors: string[] = [];
      for (const e of v.errors) {
        if (e.nodeId) (errors[e.nodeId] ??= []).push(e.message);
        else graphErrors.push(e.message);
      }
      set({ errors, graphErrors });
    },
    toJson: () => ({ nodes: get().nodes.map(nodeJson), edges: get().edges.map(edgeJson) }),
    save: async (opts = {}) => {
      const { workflowId, version } = get();
      if (!workflowId) return null;
      set({ saving: true });
      try {
        const body: Record<string, unknown> = { ...get().toJson() };
        if (!opts.force) body.expectedVersion = version;
        if (opts.message) body.message = opts.message;
        const p = await patch<PipelineDetail>(`/api/pipelines/${workflowId}`, body);
        set({ version: p.version, dirty: false, saving: false, conflict: null });
        return p;
      } catch (e) {
        set({ saving: false });
        if (e instanceof ApiError && e.status === 409) {
          const d = e.details as { currentVersion?: number } | null;
          set({ conflict: { currentVersion: d?.currentVersion ?? null, message: e.message } });
          return null;
        }
        throw e;
      }
    },
    dismissConflict: () => set({ conflict: null }),
  };
});

/**
 * Whether the saved graph differs between two states: nodes' ids, types, positions, data, edges'
 * ends. Not a selection, nor React Flow's measured sizes (new node objects, the same graph).
 */
export function graphChanged(a: Pick<EditorState, 'nodes' | 'edges'>, b: Pick<EditorState, 'nodes' | 'edges'>): boolean {
  if (a.nodes !== b.nodes) {
    if (a.nodes.length !== b.nodes.length) return true;
    for (let i = 0; i < a.nodes.length; i++) {
      const x = a.nodes[i];
      const y = b.nodes[i];
      if (x !== y && (x.id !== y.id || x.type !== y.type || x.data !== y.data || x.position.x !== y.position.x || x.position.y !== y.position.y)) return true;
    }
  }
  if (a.edges !== b.edges) {
    if (a.edges.length !== b.edges.length) return true;
    for (let i = 0; i < a.edges.length; i++) {
      const x = a.edges[i];
      const y = b.edges[i];
      if (x !== y && (x.id !== y.id || x.source !== y.source || x.target !== y.target || x.sourceHandle !== y.sourceHandle || x.targetHandle !== y.targetHandle)) return true;
    }
  }
  return false;
}

/** Asks the gateway to validate the graph; the route may be missing on older gateways. */
export async function validateGraph(): Promise<void> {
  const g = useEditor.getState().toJson();
  try {
    const v = await post<ValidationResult>('/api/workflows/validate', g);
    useEditor.getState().setValidation(v);
  } catch {
    /* no validation shown when it cannot be had */
  }
}
