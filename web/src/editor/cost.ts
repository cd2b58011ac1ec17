// Cost badges from POST /api/workflows/estimate; nothing is shown while it answers 501 or fails.
import { create } from 'zustand';
import { post } from '../api/client';
import { fmtCost } from '../lib/format';

interface CostState {
  perNode: Record<string, number>;
  total: number | null;
  load: (graph: unknown) => Promise<void>;
}

export const useCostStore = create<CostState>((set) => ({
  perNode: {},
  total: null,
  load: async (graph) => {
    try {
      const r = await post<{ totalCost?: number; nodes?: { nodeId: string; cost: number }[] }>('/api/workflows/estimate', graph);
      const perNode: Record<string, number> = {};
      for (const n of r.nodes ?? []) perNode[n.nodeId] = n.cost;
      set({ perNode, total: r.totalCost ?? null });
    } catch {
      set({ perNode: {}, total: null });
    }
  },
}));

export function useCost(nodeId: string): string | null {
  const c = useCostStore((s) => s.perNode[nodeId]);
  return c === undefined ? null : fmtCost(c);
}
