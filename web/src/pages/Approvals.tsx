// /approvals: pending approvals with title, message, context, preview; approve or reject with a comment.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { useApprovals } from '../stores/approvals';
import { useT, useUi } from '../stores/ui';
import { toast } from '../stores/toasts';
import { Empty, ErrorState, Loading } from '../components/States';
import { fmtDate, fmtJson } from '../lib/format';
import type { Approval, PipelineDetail } from '../api/types';
import { get } from '../api/client';
import { ExecutionViewer } from '../components/ExecutionViewer';

/** After a decision: the execution goes on, shown live. */
function Decided({ a }: { a: Approval }) {
  const t = useT();
  const [p, setP] = useState<PipelineDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<PipelineDetail>(`/api/pipelines/${a.workflowId}`).then(setP).catch(setError);
  }, [a.workflowId]);
  return (
    <article className="card approval" data-testid="decided" data-execution={a.executionId}>
      <h2 className="card-title">{a.title}</h2>
      <p className="muted small">
        {t('approvals.decided')} <Link to={`/pipelines/${a.workflowId}`}>{a.workflowName}</Link>
      </p>
      {error ? <ErrorState error={error} /> : null}
      {p ? <ExecutionViewer executionId={a.executionId} nodes={p.nodes} /> : !error ? <Loading /> : null}
    </article>
  );
}

function ApprovalCard({ a, onDecided }: { a: Approval; onDecided: (a: Approval) => void }) {
  const t = useT();
  const lang = useUi((s) => s.lang);
  const decide = useApprovals((s) => s.decide);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const go = async (approved: boolean) => {
    setBusy(true);
    try {
      await decide(a, approved, comment);
      onDecided(a);
      toast(t('approvals.decided'));
    } catch (e) {
      toast((e as Error).message, 'error');
      setBusy(false);
    }
  };
  const cid = `comment-${a.id}`;
  return (
    <article className="card approval" data-testid="approval" data-execution={a.executionId}>
      <h2 className="card-title">{a.title}</h2>
      <p className="muted small">
        <Link to={`/pipelines/${a.workflowId}`}>{t('approvals.from', { workflow: a.workflowName })}</Link> · {fmtDate(a.createdAt, lang)}
        {a.expiresAt ? ` · ${t('approvals.expires', { when: fmtDate(a.expiresAt, lang) })}` : ''}
      </p>
      {a.message ? <p>{a.message}</p> : null}
      {a.contextData !== null && a.contextData !== undefined ? (
        <>
          <h3>{t('approvals.context')}</h3>
          <pre className="json">{fmtJson(a.contextData)}</pre>
        </>
      ) : null}
      {a.previewData !== null && a.previewData !== undefined ? (
        <>
          <h3>{t('approvals.preview')}</h3>
          <pre className="json">{fmtJson(a.previewData)}</pre>
        </>
      ) : null}
      <label htmlFor={cid}>{t('approvals.comment')}</label>
      <textarea id={cid} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="row actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void go(true)}>
          {t('action.approve')}
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void go(false)}>
          {t('action.reject')}
        </button>
      </div>
    </article>
  );
}

export default function ApprovalsPage() {
  const t = useT();
  const { items, error, load } = useApprovals();
  const [decided, setDecided] = useState<Approval[]>([]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="page">
      <h1>{t('approvals.title')}</h1>
      {error ? <ErrorState error={error} onRetry={() => void load()} /> : null}
      {!items && !error ? <Loading /> : null}
      {items && items.length === 0 ? <Empty>{t('approvals.empty')}</Empty> : null}
      <div className="stack">
        {items?.map((a) => <ApprovalCard key={a.id} a={a} onDecided={(x) => setDecided((d) => [x, ...d])} />)}
        {decided.map((a) => (
          <Decided key={a.id} a={a} />
        ))}
      </div>
    </div>
  );
}
