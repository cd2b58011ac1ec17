// The editor's test run: start with a payload, follow it live, continue a breakpoint, re-run from a node.
import { create } from 'zustand';
import { get, post } from '../api/client';
import type { ExecutionLogs, NodeLog } from '../api/types';
import { useLive } from './live';

interface TestRunState {
  workflowId: string | null;
  executionId: string | null;
  logs: Record<string, NodeLog>;
  error: string | null;
  start: (workflowId: string, payload: unknown) => Promise<void>;
  resume: () => Promise<void>;
  rerun: (nodeId: string) => Promise<void>;
  refreshLogs: () => Promise<void>;
  clear: () => void;
}

export const useTestRun = create<TestRunState>((set, getState) => {
  const follow = (id: string, workflowId = getState().workflowId) => {
    const prev = getState().executionId;
    if (prev) useLive.getState().unwatch(prev);
    set({ executionId: id, workflowId, logs: {}, error: null });
    useLive.getState().watch(id);
  };
  return {
    workflowId: null,
    executionId: null,
    logs: {},
    error: null,
    start: async (workflowId, payload) => {
      const r = await post<{ executionId: string }>(`/api/workflows/${workflowId}/execute`, { payload, isTest: true, mode: 'async' });
      follow(r.executionId, workflowId);
    },
    resume: async () => {
      const id = getState().executionId;
      if (id) await post(`/api/workflows/executions/${id}/resume`, {});
    },
    rerun: async (nodeId) => {
      const id = getState().executionId;
      if (!id) return;
      const r = await post<{ executionId: string }>(`/api/workflows/executions/${id}/rerun`, { fromNode: nodeId, mode: 'async', isTest: true });
      follow(r.executionId);
    },
    refreshLogs: async () => {
      const id = getState().executionId;
      if (!id) return;
      const r = await get<ExecutionLogs>(`/api/workflows/executions/${id}/logs`);
      const logs: Record<string, NodeLog> = {};
      for (const l of r.logs) logs[l.nodeId] = l;
      if (getState().executionId === id) set({ logs });
    },
    clear: () => {
      const id = getState().executionId;
      if (id) useLive.getState().unwatch(id);
      set({ executionId: null, workflowId: null, logs: {}, error: null });
    },
  };
});
