// The pipeline list with its filter, the templates, and actions on pipelines.
import { create } from 'zustand';
import { del, get, post, query } from '../api/client';
import type { PipelineDetail, PipelineList, Template } from '../api/types';

type Filter = '' | 'draft' | 'active' | 'archived';

interface PipelinesState {
  list: PipelineList | null;
  loading: boolean;
  error: Error | null;
  status: Filter;
  search: string;
  templates: Template[] | null;
  templatesError: Error | null;
  setStatus: (s: Filter) => void;
  setSearch: (s: string) => void;
  load: () => Promise<void>;
  loadTemplates: () => Promise<void>;
  run: (id: string, payload?: unknown) => Promise<string>;
  remove: (id: string) => Promise<void>;
  create: (body: Record<string, unknown>) => Promise<PipelineDetail>;
  cloneTemplate: (templateId: string, name?: string) => Promise<PipelineDetail>;
}

let seq = 0;

export const usePipelines = create<PipelinesState>((set, getState) => ({
  list: null,
  loading: false,
  error: null,
  status: '',
  search: '',
  templates: null,
  templatesError: null,
  setStatus: (status) => {
    set({ status });
    void getState().load();
  },
  setSearch: (search) => {
    set({ search });
    void getState().load();
  },
  load: async () => {
    const mine = ++seq;
    set({ loading: true, error: null });
    try {
      const { status, search } = getState();
      const list = await get<PipelineList>(`/api/pipelines${query({ status, search, limit: 200 })}`);
      if (mine === seq) set({ list, loading: false });
    } catch (e) {
      if (mine === seq) set({ error: e as Error, loading: false });
    }
  },
  loadTemplates: async () => {
    try {
      const r = await get<{ templates: Template[] }>('/api/pipelines/templates?limit=50');
      set({ templates: r.templates, templatesError: null });
    } catch (e) {
      set({ templatesError: e as Error });
    }
  },
  run: async (id, payload = {}) => {
    const r = await post<{ executionId: string }>(`/api/pipelines/${id}/execute`, { payload });
    void getState().load();
    return r.executionId;
  },
  remove: async (id) => {
    await del(`/api/pipelines/${id}`);
    await getState().load();
  },
  create: async (body) => {
    const p = await post<PipelineDetail>('/api/pipelines', body);
    void getState().load();
    return p;
  },
  cloneTemplate: async (templateId, name) => {
    const p = await post<PipelineDetail>('/api/pipelines/templates/clone', name ? { templateId, name } : { templateId });
    void getState().load();
    return p;
  },
}));
