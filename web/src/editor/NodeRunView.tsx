// After a run: the node's input, output, duration, tokens and cost; re-run from here.
import { useEffect } from 'react';
import { useTestRun } from '../stores/testRun';
import { useLive } from '../stores/live';
import { useT } from '../stores/ui';
import { toast } from '../stores/toasts';
import { errorText, fmtCost, fmtDuration, fmtJson } from '../lib/format';
import { StatusBadge } from '../components/StatusBadge';

export function NodeRunView({ nodeId }: { nodeId: string }) {
  const t = useT();
  const { executionId, logs, refreshLogs, rerun } = useTestRun();
  const live = useLive((s) => (executionId ? s.executions[executionId]?.nodes[nodeId] : undefined));
  const log = logs[nodeId];
  useEffect(() => {
    // a failed refresh keeps what the live events showed (not an uncaught rejection)
    if (executionId && live?.status && live.status !== 'running') refreshLogs().catch(() => undefined);
  }, [executionId, live?.status, refreshLogs]);
  if (!executionId || (!log && !live)) return null;
  return (
    <section className="noderun" aria-label={t('editor.nodeRun')} data-testid="node-run">
      <h3>
        {t('editor.nodeRun')} <StatusBadge status={log?.status ?? live?.status} />
      </h3>
      <dl className="kv">
        <dt>{t('exec.duration')}</dt>
        <dd>{fmtDuration(log?.durationMs ?? live?.durationMs)}</dd>
        <dt>{t('exec.tokens')}</dt>
        <dd>{log?.tokensUsed ?? '—'}</dd>
        <dt>{t('exec.cost')}</dt>
        <dd>{fmtCost(log?.costUsd)}</dd>
      </dl>
      {live?.text ? <pre className="stream">{live.text}</pre> : null}
      {log?.error ? <p className="error-text">{errorText(log.error)}</p> : null}
      <h4>{t('editor.input')}</h4>
      <pre className="json">{fmtJson(log?.input)}</pre>
      <h4>{t('editor.output')}</h4>
      <pre className="json" data-testid="node-output">{fmtJson(log?.output ?? live?.output)}</pre>
      <button type="button" onClick={() => rerun(nodeId).catch((e: Error) => toast(e.message, 'error'))}>
        {t('action.rerun')}
      </button>
    </section>
  );
}
