import { memo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { Pipeline } from '../../api/types';
import { post } from '../../api/client';
import { usePipelines } from '../../stores/pipelines';
import { useT, useUi } from '../../stores/ui';
import { toast } from '../../stores/toasts';
import { StatusBadge } from '../../components/StatusBadge';
import { fmtDate } from '../../lib/format';

const LIVE = ['pending', 'running', 'suspended'];

export const PipelineCard = memo(function PipelineCard({ p }: { p: Pipeline }) {
  const t = useT();
  const lang = useUi((s) => s.lang);
  const nav = useNavigate();
  const { run, remove, load } = usePipelines();
  const [busy, setBusy] = useState(false);
  const last = p.latest_execution;
  const act = (f: () => Promise<unknown>) => async () => {
    setBusy(true);
    try {
      await f();
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="card pipeline-card" data-testid="pipeline-card" data-name={p.name}>
      <div className="row spread">
        <h2 className="card-title">
          <Link to={`/pipelines/${p.id}`}>{p.name}</Link>
        </h2>
        <StatusBadge status={p.status} />
      </div>
      <p className="muted clamp">{p.description || '\u00a0'}</p>
      <div className="row muted small">
        <span>{t('pipelines.lastRun')}:</span>
        {last ? (
          <>
            <StatusBadge status={last.status} />
            <span>{fmtDate(last.started_at, lang)}</span>
          </>
        ) : (
          <span>{t('pipelines.never')}</span>
        )}
        <span>· {t('pipelines.runs', { n: p.execution_count })}</span>
      </div>
      <div className="row actions">
        <button
          type="button"
          disabled={busy}
          onClick={act(async () => {
            await run(p.id);
            toast(t('toast.started'));
          })}
        >
          {t('action.run')}
        </button>
        {last && LIVE.includes(last.status) ? (
          <button type="button" disabled={busy} onClick={act(async () => {
            await post(`/api/workflows/executions/${last.id}/cancel`, {});
            await load();
          })}>
            {t('action.stop')}
          </button>
        ) : null}
        <button type="button" onClick={() => nav(`/pipelines/${p.id}/editor`)}>
          {t('action.edit')}
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={act(async () => {
            if (!window.confirm(t('confirm.delete', { name: p.name }))) return;
            await remove(p.id);
            toast(t('toast.deleted'));
          })}
        >
          {t('action.delete')}
        </button>
      </div>
    </article>
  );
});
