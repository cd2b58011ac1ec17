// Pure helpers over the workflow graph (React Flow JSON, DESIGN §3).
import type { FlowEdgeJson, FlowNodeJson, NodeType } from '../api/types';

const RESERVED = new Set(['trigger', 'variables', 'input', 'loop', 'item', 'execution', 'workflow', 'credentials', 'nodes']);

/** A new node id for `type`, unused in `taken` and never a reserved variable root. */
export function newNodeId(type: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const base = type.replace(/[^a-zA-Z0-9]+/g, '_');
  for (let i = 1; ; i++) {
    const id = `${base}_${i}`;
    if (!used.has(id) && !RESERVED.has(id)) return id;
  }
}

export function edgeId(source: string, sourceHandle: string | null | undefined, target: string, targetHandle?: string | null): string {
  return `e_${source}_${sourceHandle ?? 'out'}_${target}${targetHandle ? `_${targetHandle}` : ''}`;
}

/** Output handles of a node: the registry's, switch cases, the error handle with onError=branch. */
export function outputHandles(node: { type?: string; data: Record<string, unknown> }, meta?: NodeType): string[] {
  let hs = meta?.handles ?? ['out'];
  if (node.type === 'switch') {
    const cases = Array.isArray(node.data.cases) ? (node.data.cases as { id?: unknown }[]) : [];
    hs = [...cases.map((c) => String(c.id ?? '')).filter(Boolean), 'default'];
  }
  if (node.data.onError === 'branch') hs = [...hs, 'error'];
  return hs;
}

export function hasInput(type: string | undefined): boolean {
  return type !== 'trigger';
}

/** Ids of the nodes upstream of `id` (every ancestor), nearest first. */
export function upstream(id: string, edges: Pick<FlowEdgeJson, 'source' | 'target'>[]): string[] {
  const into = new Map<string, string[]>();
  for (const e of edges) into.set(e.target, [...(into.get(e.target) ?? []), e.source]);
  const seen = new Set<string>([id]);
  const out: string[] = [];
  let frontier = [id];
  while (frontier.length) {
    const next: string[] = [];
    for (const n of frontier)
      for (const s of into.get(n) ?? [])
        if (!seen.has(s)) {
          seen.add(s);
          out.push(s);
          next.push(s);
        }
    frontier = next;
  }
  return out;
}

/** Copies `nodes` (and the edges among them) with fresh ids, shifted by `offset`. */
export function duplicate(
  nodes: FlowNodeJson[],
  edges: FlowEdgeJson[],
  taken: Iterable<string>,
  offset = 40,
): { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] } {
  const used = new Set(taken);
  const map = new Map<string, string>();
  const outNodes = nodes.map((n) => {
    const id = newNodeId(n.type, used);
    used.add(id);
    map.set(n.id, id);
    return { ...n, id, position: { x: n.position.x + offset, y: n.position.y + offset }, data: structuredClone(n.data) };
  });
  const outEdges = edges
    .filter((e) => map.has(e.source) && map.has(e.target))
    .map((e) => {
      const s = map.get(e.source)!;
      const t = map.get(e.target)!;
      return { ...e, id: edgeId(s, e.sourceHandle, t, e.targetHandle), source: s, target: t };
    });
  return { nodes: outNodes, edges: outEdges };
}
