// Version diffs (flowent.diff's shape) marked on a version's graph.
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}
export interface DiffResult {
  workflowId: string;
  fromVersion: number;
  toVersion: number;
  summary: { added: number; changed: number; removed: number };
  nodes: { added: FlowNodeJson[]; removed: FlowNodeJson[]; changed: { id: string; changes: FieldChange[] }[] };
  edges: { added: FlowEdgeJson[]; removed: FlowEdgeJson[]; changed: { id: string; changes: FieldChange[] }[] };
}

export type Mark = 'added' | 'removed' | 'changed' | 'same';
export interface MarkedGraph {
  nodes: (FlowNodeJson & { mark: Mark })[];
  edges: (FlowEdgeJson & { mark: Mark })[];
}

/** The `to` graph with every node and edge marked, removed ones included. */
export function markGraph(to: { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] }, d: DiffResult): MarkedGraph {
  const added = new Set(d.nodes.added.map((n) => n.id));
  const changed = new Set(d.nodes.changed.map((n) => n.id));
  const eAdded = new Set(d.edges.added.map((e) => e.id));
  const eChanged = new Set(d.edges.changed.map((e) => e.id));
  const mark = (id: string, a: Set<string>, c: Set<string>): Mark => (a.has(id) ? 'added' : c.has(id) ? 'changed' : 'same');
  return {
    nodes: [
      ...to.nodes.map((n) => ({ ...n, mark: mark(n.id, added, changed) })),
      ...d.nodes.removed.map((n) => ({ ...n, mark: 'removed' as Mark })),
    ],
    edges: [
      ...to.edges.map((e) => ({ ...e, mark: mark(e.id, eAdded, eChanged) })),
      ...d.edges.removed.map((e) => ({ ...e, mark: 'removed' as Mark })),
    ],
  };
}

export function showValue(v: unknown): string {
  if (v === undefined || v === null) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
