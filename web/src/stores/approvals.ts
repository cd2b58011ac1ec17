// Pending approvals for the user (the count in the navigation) and deciding them.
import { create } from 'zustand';
import { get, post } from '../api/client';
import type { Approval } from '../api/types';

interface ApprovalsState {
  items: Approval[] | null;
  error: Error | null;
  loading: boolean;
  load: () => Promise<void>;
  decide: (a: Approval, approved: boolean, comment: string) => Promise<void>;
}

export const useApprovals = create<ApprovalsState>((set, getState) => ({
  items: null,
  error: null,
  loading: false,
  load: async () => {
    set({ loading: true });
    try {
      const r = await get<{ approvals: Approval[] }>('/api/workflows/approvals');
      set({ items: r.approvals, error: null, loading: false });
    } catch (e) {
      set({ error: e as Error, loading: false });
    }
  },
  decide: async (a, approved, comment) => {
    await post(`/api/pipelines/${a.workflowId}/approve`, { approvalId: a.id, approved, comment: comment || undefined });
    set({ items: (getState().items ?? []).filter((x) => x.id !== a.id) });
    void getState().load();
  },
}));
