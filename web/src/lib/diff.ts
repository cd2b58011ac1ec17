// Version diffs (flowent.diff's shape) and rebuilding an older version's graph from the latest.
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

function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  const out = { ...obj };
  if (rest.length === 0) {
    if (value === null || value === undefined) delete out[head];
    else out[head] = structuredClone(value);
    return out;
  }
  const child = out[head] && typeof out[head] === 'object' && !Array.isArray(out[head]) ? (out[head] as Record<string, unknown>) : {};
  out[head] = setPath(child, rest.join('.'), value);
  return out;
}

function revertItem<T extends { id: string }>(item: T, changes: FieldChange[]): T {
  let o = item as unknown as Record<string, unknown>;
  for (const c of changes) o = setPath(o, c.field, c.from);
  return o as unknown as T;
}

/** The graph of `d.fromVersion`, given the graph of `d.toVersion` and their diff. */
export function revert(graph: { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] }, d: DiffResult): { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] } {
  const addedN = new Set(d.nodes.added.map((n) => n.id));
  const changedN = new Map(d.nodes.changed.map((c) => [c.id, c.changes]));
  const addedE = new Set(d.edges.added.map((e) => e.id));
  const changedE = new Map(d.edges.changed.map((c) => [c.id, c.changes]));
  const nodes = graph.nodes
    .filter((n) => !addedN.has(n.id))
    .map((n) => (changedN.has(n.id) ? revertItem(n, changedN.get(n.id)!) : n))
    .concat(d.nodes.removed);
  const edges = graph.edges
    .filter((e) => !addedE.has(e.id))
    .map((e) => (changedE.has(e.id) ? revertItem(e, changedE.get(e.id)!) : e))
    .concat(d.edges.removed);
  return { nodes, edges };
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
