// Test run: the payload editor, the run's live status, continue at a breakpoint.
import { useState } from 'react';
import { useTestRun } from '../stores/testRun';
import { useLive } from '../stores/live';
import { useT } from '../stores/ui';
import { toast } from '../stores/toasts';
import { CodeField } from './fields/CodeField';
import { StatusBadge } from '../components/StatusBadge';
import { errorText } from '../lib/format';

export function RunPanel({ workflowId, beforeRun }: { workflowId: string; beforeRun: () => Promise<boolean> }) {
  const t = useT();
  const [payload, setPayload] = useState('{\n  "amount": 1500\n}');
  const [err, setErr] = useState('');
  const { executionId, start, resume } = useTestRun();
  const live = useLive((s) => (executionId ? s.executions[executionId] : undefined));
  const paused = live
    ? Object.entries(live.nodes).find(([, n]) => n.status === 'waiting' && (n.reason === 'breakpoint' || !n.reason))
    : undefined;
  const breakpoint = live && paused && live.nodes[paused[0]]?.reason === 'breakpoint';
  const go = async () => {
    let value: unknown;
    try {
      value = payload.trim() ? JSON.parse(payload) : {};
    } catch {
      setErr(t('editor.invalidJson'));
      return;
    }
    setErr('');
    if (!(await beforeRun())) return;
    try {
      await start(workflowId, value);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  return (
    <section className="runpanel" aria-label={t('editor.run')}>
      <span className="label">{t('editor.payload')}</span>
      <CodeField id="payload" label={t('editor.payload')} lang="json" value={payload} onChange={setPayload} height="90px" />
      {err ? <p className="error-text" role="alert">{err}</p> : null}
      <div className="row">
        <button type="button" className="primary" onClick={() => void go()} data-testid="start-run">
          {t('editor.start')}
        </button>
        {live ? <StatusBadge status={live.status} /> : null}
        <span data-testid="run-status" className="sr-only" data-execution={executionId ?? ""}>
          {live?.status ?? ''}
        </span>
      </div>
      {breakpoint && live?.status === 'suspended' ? (
        <div className="row notice" role="status">
          <span>{t('editor.pausedAt', { node: paused![0] })}</span>
          <button type="button" data-testid="continue-run" onClick={() => resume().catch((e: Error) => toast(e.message, 'error'))}>
            {t('action.continue')}
          </button>
        </div>
      ) : null}
      {live?.error ? (
        <p className="error-text" role="alert">
          {t('exec.errorAt', { node: live.error.nodeId ?? '?', code: live.error.code ?? '' })} {errorText(live.error.message)}
        </p>
      ) : null}
    </section>
  );
}
