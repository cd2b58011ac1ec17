// A live execution: steps with status badges, a progress bar, streamed text, errors with node and code.
import { useEffect } from 'react';
import { useLive } from '../stores/live';
import { useT } from '../stores/ui';
import { StatusBadge } from './StatusBadge';
import { errorText, fmtDuration } from '../lib/format';
import type { FlowNodeJson } from '../api/types';

const DONE = new Set(['success', 'error', 'skipped']);

export function ExecutionViewer({ executionId, nodes }: { executionId: string; nodes: FlowNodeJson[] }) {
  const t = useT();
  const watch = useLive((s) => s.watch);
  const unwatch = useLive((s) => s.unwatch);
  const x = useLive((s) => s.executions[executionId]);
  useEffect(() => {
    watch(executionId);
    return () => unwatch(executionId);
  }, [executionId, watch, unwatch]);
  const done = nodes.filter((n) => DONE.has(x?.nodes[n.id]?.status ?? '')).length;
  const total = nodes.length || 1;
  const finished = x && ['success', 'error', 'cancelled'].includes(x.status);
  const pct = finished ? 100 : Math.round((done / total) * 100);
  return (
    <div className="viewer" data-testid="execution-viewer" data-status={x?.status ?? ''}>
      <div className="row">
        <StatusBadge status={x?.status} />
        <span className="muted small">{t('exec.progress', { done, total: nodes.length })}</span>
        <code className="muted small">{executionId}</code>
      </div>
      <div className="progress" role="progressbar" aria-label={t('exec.steps')} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div style={{ width: `${pct}%` }} />
      </div>
      {x?.error ? (
        <p className="error-text" role="alert">
          {t('exec.errorAt', { node: x.error.nodeId ?? '?', code: x.error.code ?? '' })} {errorText(x.error.message)}
        </p>
      ) : null}
      <ol className="steps">
        {nodes.map((n) => {
          const r = x?.nodes[n.id];
          return (
            <li key={n.id} className={`step st-${r?.status ?? 'pending'}`}>
              <span className="step-name">{String(n.data.label ?? n.id)}</span>
              <span className="muted small">{n.type}</span>
              {r ? <StatusBadge status={r.status} /> : <span className="muted small">—</span>}
              {r?.durationMs !== undefined ? <span className="muted small">{fmtDuration(r.durationMs)}</span> : null}
              {r?.text ? <pre className="stream">{r.text}</pre> : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
