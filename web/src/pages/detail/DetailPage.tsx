// /pipelines/:id: overview with the live execution, executions, settings, versions.
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { get } from '../../api/client';
import type { PipelineDetail } from '../../api/types';
import { useT } from '../../stores/ui';
import { usePipelines } from '../../stores/pipelines';
import { toast } from '../../stores/toasts';
import { ErrorState, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { ExecutionViewer } from '../../components/ExecutionViewer';
import { ExecutionsTab } from './ExecutionsTab';
import { SettingsTab } from './SettingsTab';
import { VersionsTab } from './VersionsTab';

const TABS = ['overview', 'executions', 'settings', 'versions'] as const;
type Tab = (typeof TABS)[number];

export default function DetailPage() {
  const t = useT();
  const { id } = useParams();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  const tab = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as Tab) : 'overview';
  const [p, setP] = useState<PipelineDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [liveId, setLiveId] = useState<string | null>(null);
  const run = usePipelines((s) => s.run);
  const load = useCallback(async () => {
    setError(null);
    try {
      setP(await get<PipelineDetail>(`/api/pipelines/${id}`));
    } catch (e) {
      setError(e);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  if (error) return <div className="page"><ErrorState error={error} onRetry={() => void load()} /></div>;
  if (!p) return <Loading />;
  const last = liveId ?? p.latest_execution?.id ?? null;
  const label: Record<Tab, string> = { overview: t('detail.overview'), executions: t('detail.executions'), settings: t('detail.settings'), versions: t('detail.versions') };
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>{p.name}</h1>
          <p className="muted small">
            <StatusBadge status={p.status} /> {t('detail.version', { v: p.version })}
            {p.published_version ? ` · ${t('detail.published', { v: p.published_version })}` : ''}
          </p>
        </div>
        <div className="row">
          <button
            type="button"
            onClick={() =>
              run(p.id)
                .then((x) => {
                  setLiveId(x);
                  setParams({});
                  toast(t('toast.started'));
                })
                .catch((e: Error) => toast(e.message, 'error'))
            }
          >
            {t('action.run')}
          </button>
          <Link className="button primary" to={`/pipelines/${p.id}/editor`}>
            {t('detail.openEditor')}
          </Link>
        </div>
      </div>
      <div role="tablist" className="tabs" aria-label={p.name}>
        {TABS.map((x) => (
          <button key={x} role="tab" id={`tab-${x}`} aria-selected={tab === x} aria-controls={`panel-${x}`} type="button" onClick={() => setParams(x === 'overview' ? {} : { tab: x })}>
            {label[x]}
          </button>
        ))}
      </div>
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'overview' ? (
          <>
            {p.description ? <p>{p.description}</p> : null}
            <h2>{t('detail.lastExecution')}</h2>
            {last ? <ExecutionViewer key={last} executionId={last} nodes={p.nodes} /> : <p className="muted">{t('detail.noExecution')}</p>}
          </>
        ) : null}
        {tab === 'executions' ? <ExecutionsTab workflowId={p.id} onOpen={(x) => { setLiveId(x); setParams({}); }} /> : null}
        {tab === 'settings' ? <SettingsTab p={p} onSaved={setP} onDeleted={() => nav('/pipelines')} /> : null}
        {tab === 'versions' ? <VersionsTab p={p} /> : null}
      </section>
    </div>
  );
}
