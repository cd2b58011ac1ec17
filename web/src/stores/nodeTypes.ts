// The node palette from /api/node-types, loaded once.
import { create } from 'zustand';
import { get } from '../api/client';
import type { NodeType } from '../api/types';

interface NodeTypesState {
  types: NodeType[] | null;
  byType: Record<string, NodeType>;
  error: Error | null;
  load: () => Promise<void>;
}

export const useNodeTypes = create<NodeTypesState>((set, getState) => ({
  types: null,
  byType: {},
  error: null,
  load: async () => {
    if (getState().types) return;
    try {
      const r = await get<{ nodeTypes: NodeType[] }>('/api/node-types');
      set({ types: r.nodeTypes, byType: Object.fromEntries(r.nodeTypes.map((n) => [n.type, n])), error: null });
    } catch (e) {
      set({ error: e as Error });
    }
  },
}));
