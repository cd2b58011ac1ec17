// A small SVG picture of a graph (wizard, templates, version diff).
import { memo } from 'react';
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';
import { rankLayout } from '../lib/ranks';

type N = Pick<FlowNodeJson, 'id' | 'type' | 'data'> & { mark?: string };
type E = Pick<FlowEdgeJson, 'id' | 'source' | 'target'> & { mark?: string };

const W = 120;
const H = 34;
const GX = 40;
const GY = 16;

export const MiniGraph = memo(function MiniGraph({ nodes, edges, title, large }: { nodes: N[]; edges: E[]; title: string; large?: boolean }) {
  const pos = rankLayout(nodes, edges);
  let cols = 1;
  let rows = 1;
  for (const p of pos.values()) {
    cols = Math.max(cols, p.col + 1);
    rows = Math.max(rows, p.row + 1);
  }
  const width = cols * (W + GX);
  const height = rows * (H + GY) + GY;
  const at = (id: string) => {
    const p = pos.get(id) ?? { col: 0, row: 0 };
    return { x: p.col * (W + GX) + GX / 2, y: p.row * (H + GY) + GY };
  };
  return (
    <svg className={`minigraph${large ? ' minigraph-large' : ''}`} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
      {edges.map((e) => {
        if (!pos.has(e.source) || !pos.has(e.target)) return null;
        const a = at(e.source);
        const b = at(e.target);
        return (
          <path
            key={e.id}
            className={`mg-edge mark-${e.mark ?? 'same'}`}
            d={`M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`}
          />
        );
      })}
      {nodes.map((n) => {
        const p = at(n.id);
        const label = String(n.data?.label ?? n.type ?? n.id);
        return (
          <g key={n.id} className={`mg-node mark-${n.mark ?? 'same'}`} data-node={n.id} data-mark={n.mark ?? 'same'}>
            <rect x={p.x} y={p.y} width={W} height={H} rx={6} />
            <text x={p.x + 8} y={p.y + H / 2 + 4}>
              {label.length > 16 ? `${label.slice(0, 15)}…` : label}
            </text>
          </g>
        );
      })}
    </svg>
  );
});
