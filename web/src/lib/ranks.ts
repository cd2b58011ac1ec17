// A cheap layered layout for previews: column = longest path from a source, row = order in it.
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';

export function rankLayout(nodes: Pick<FlowNodeJson, 'id'>[], edges: Pick<FlowEdgeJson, 'source' | 'target'>[]): Map<string, { col: number; row: number }> {
  const ids = new Set(nodes.map((n) => n.id));
  const rank = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < nodes.length; i++) {
    let changed = false;
    for (const e of edges) {
      if (!ids.has(e.source) || !ids.has(e.target)) continue;
      const r = rank.get(e.source)! + 1;
      if (r > rank.get(e.target)! && r < nodes.length) {
        rank.set(e.target, r);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const rows = new Map<number, number>();
  const out = new Map<string, { col: number; row: number }>();
  for (const n of nodes) {
    const col = rank.get(n.id)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    out.set(n.id, { col, row });
  }
  return out;
}
