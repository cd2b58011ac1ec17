// /pipelines/:id/editor: palette, canvas, configuration, save (409 choice), test run with live status.
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { get } from '../api/client';
import type { PipelineDetail } from '../api/types';
import { useShallow } from 'zustand/react/shallow';
import { graphChanged, useEditor, validateGraph } from '../stores/editor';
import { useNodeTypes } from '../stores/nodeTypes';
import { useTestRun } from '../stores/testRun';
import { useT } from '../stores/ui';
import { toast } from '../stores/toasts';
import { ErrorState, Loading } from '../components/States';
import { Modal } from '../components/Modal';
import { Palette } from './Palette';
import { Canvas } from './Canvas';
import { ConfigPanel } from './ConfigPanel';
import { RunPanel } from './RunPanel';
import { useCostStore } from './cost';
import { useShortcuts } from './shortcuts';
import { setLeaveQuestion } from '../stores/leaveGuard';

function Editor({ id }: { id: string }) {
  const t = useT();
  const nav = useNavigate();
  // not the graph itself: the bar and the panels need not render again with every node change
  // (a drag, a selection, React Flow's measurements of 500 nodes)
  const { name, version, dirty, saving, conflict, graphErrors, save, undo, redo, layout, deleteSelected, dismissConflict, load, addNode, select } = useEditor(
    useShallow((s) => ({
      name: s.name,
      version: s.version,
      dirty: s.dirty,
      saving: s.saving,
      conflict: s.conflict,
      graphErrors: s.graphErrors,
      save: s.save,
      undo: s.undo,
      redo: s.redo,
      layout: s.layout,
      deleteSelected: s.deleteSelected,
      dismissConflict: s.dismissConflict,
      load: s.load,
      addNode: s.addNode,
      select: s.select,
    })),
  );
  const past = useEditor((s) => s.past.length);
  const future = useEditor((s) => s.future.length);
  const { screenToFlowPosition } = useReactFlow();
  const [runOpen, setRunOpen] = useState(false);
  useShortcuts();

  useEffect(() => {
    // validation and the cost estimate 400 ms after the graph changed (not its selection or sizes)
    let h: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      clearTimeout(h);
      h = setTimeout(() => {
        void validateGraph();
        void useCostStore.getState().load(useEditor.getState().toJson());
      }, 400);
    };
    later();
    const off = useEditor.subscribe((s, prev) => {
      if (graphChanged(prev, s)) later();
    });
    return () => {
      off();
      clearTimeout(h);
    };
  }, []);
  useEffect(() => {
    setLeaveQuestion(dirty ? t('editor.leave') : null);
    return () => setLeaveQuestion(null);
  }, [dirty, t]);
  useEffect(() => {
    const onBefore = (e: BeforeUnloadEvent) => {
      if (useEditor.getState().dirty) e.preventDefault();
    };
    window.addEventListener('beforeunload', onBefore);
    return () => window.removeEventListener('beforeunload', onBefore);
  }, []);

  const doSave = useCallback(
    async (force = false) => {
      try {
        const p = await save({ force });
        if (p) toast(t('toast.saved', { v: p.version }));
        return !!p;
      } catch (e) {
        toast((e as Error).message, 'error');
        return false;
      }
    },
    [save, t],
  );
  const reload = async () => {
    const p = await get<PipelineDetail>(`/api/pipelines/${id}`);
    load(p);
  };
  const addAtCenter = (type: string) => {
    const el = document.querySelector('.canvas')?.getBoundingClientRect();
    const p = screenToFlowPosition({ x: (el?.left ?? 0) + (el?.width ?? 600) / 2, y: (el?.top ?? 0) + (el?.height ?? 400) / 2 });
    const nid = addNode(type, { x: Math.round(p.x / 20) * 20, y: Math.round(p.y / 20) * 20 }, { label: useNodeTypes.getState().byType[type]?.label ?? type });
    select(nid);
  };
  const leave = (to: string) => (e: React.MouseEvent) => {
    e.preventDefault();
    if (!useEditor.getState().dirty || window.confirm(t('editor.leave'))) nav(to);
  };

  return (
    <div className="editor">
      <div className="editor-bar">
        <a href={`/pipelines/${id}`} onClick={leave(`/pipelines/${id}`)} className="crumb">
          ← {name}
        </a>
        <span className="muted small">{t('detail.version', { v: version })}</span>
        {dirty ? (
          <span className="badge badge-suspended" data-testid="unsaved">
            {t('editor.unsaved')}
          </span>
        ) : null}
        <div className="row grow end">
          <button type="button" onClick={undo} disabled={!past} aria-keyshortcuts="Control+Z">
            {t('editor.undo')}
          </button>
          <button type="button" onClick={redo} disabled={!future} aria-keyshortcuts="Control+Shift+Z">
            {t('editor.redo')}
          </button>
          <button type="button" onClick={layout}>
            {t('editor.layout')}
          </button>
          <button type="button" onClick={deleteSelected}>
            {t('editor.deleteSel')}
          </button>
          <button type="button" aria-expanded={runOpen} onClick={() => setRunOpen(!runOpen)}>
            {t('editor.run')}
          </button>
          <button type="button" className="primary" disabled={saving} onClick={() => void doSave()} data-testid="save">
            {saving ? t('editor.saving') : t('editor.save')}
          </button>
        </div>
      </div>
      {graphErrors.length ? (
        <div className="graph-errors" role="status">
          ⚠ {graphErrors.join(' · ')}
        </div>
      ) : null}
      <div className="editor-body">
        <Palette onAdd={addAtCenter} />
        <Canvas onNodeClick={select} />
        <div className="side">
          {runOpen ? <RunPanel workflowId={id} beforeRun={async () => (useEditor.getState().dirty ? doSave() : true)} /> : null}
          <ConfigPanel />
        </div>
      </div>
      {conflict ? (
        <Modal title={t('editor.conflictTitle')} onClose={dismissConflict}>
          <p>{t('editor.conflictText', { v: conflict.currentVersion ?? '?' })}</p>
          <div className="row end">
            <button type="button" className="danger" onClick={() => void doSave(true)}>
              {t('editor.overwrite')}
            </button>
            <button type="button" onClick={() => void reload()}>
              {t('editor.reload')}
            </button>
            <button type="button" className="primary" onClick={dismissConflict}>
              {t('editor.keep')}
            </button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}

export default function EditorPage() {
  const { id } = useParams();
  const load = useEditor((s) => s.load);
  const loadTypes = useNodeTypes((s) => s.load);
  const [state, setState] = useState<{ loading: boolean; error: unknown }>({ loading: true, error: null });
  const fetchIt = useCallback(async () => {
    setState({ loading: true, error: null });
    try {
      const [p] = await Promise.all([get<PipelineDetail>(`/api/pipelines/${id}`), loadTypes()]);
      // a run of this pipeline goes on showing when one comes back to it
      if (useTestRun.getState().workflowId !== id) useTestRun.getState().clear();
      load(p);
      setState({ loading: false, error: null });
    } catch (e) {
      setState({ loading: false, error: e });
    }
  }, [id, load, loadTypes]);
  useEffect(() => {
    void fetchIt();
  }, [fetchIt]);
  if (state.loading) return <Loading />;
  if (state.error)
    return (
      <div className="page">
        <ErrorState error={state.error} onRetry={() => void fetchIt()} />
        <Link to="/pipelines">← Pipelines</Link>
      </div>
    );
  return (
    <ReactFlowProvider>
      <Editor id={id!} />
    </ReactFlowProvider>
  );
}
