// Automatic layout, left to right, with dagre.
import dagre from 'dagre';
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';

export const NODE_W = 200;
export const NODE_H = 64;

export function autoLayout<N extends FlowNodeJson>(nodes: N[], edges: Pick<FlowEdgeJson, 'source' | 'target'>[]): N[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, position: { x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - NODE_H / 2) } };
  });
}
