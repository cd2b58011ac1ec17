// Test run: the payload editor, the run's live status, continue at a breakpoint.
import { useState } from 'react';
import { useTestRun } from '../stores/testRun';
import { useLive, type ExecLive } from '../stores/live';
import { useT } from '../stores/ui';
import { toast } from '../stores/toasts';
import { CodeField } from './fields/CodeField';
import { StatusBadge } from '../components/StatusBadge';
import { errorText } from '../lib/format';

/** The node a suspended run waits at for a breakpoint, if any (a primitive: selected per event). */
function pausedNode(x: ExecLive | undefined): string | undefined {
  if (!x || x.status !== 'suspended') return undefined;
  for (const id in x.nodes) {
    const n = x.nodes[id];
    if (n.status === 'waiting' && (n.reason === 'breakpoint' || !n.reason)) return n.reason === 'breakpoint' ? id : undefined;
  }
  return undefined;
}

export function RunPanel({ workflowId, beforeRun }: { workflowId: string; beforeRun: () => Promise<boolean> }) {
  const t = useT();
  const [payload, setPayload] = useState('{\n  "amount": 1500\n}');
  const [err, setErr] = useState('');
  const executionId = useTestRun((s) => s.executionId);
  const start = useTestRun((s) => s.start);
  const resume = useTestRun((s) => s.resume);
  // only what the panel shows: not the execution object, which changes with every event
  const status = useLive((s) => (executionId ? s.executions[executionId]?.status : undefined));
  const error = useLive((s) => (executionId ? s.executions[executionId]?.error : undefined));
  const pausedAt = useLive((s) => (executionId ? pausedNode(s.executions[executionId]) : undefined));
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
        {status ? <StatusBadge status={status} /> : null}
        <span data-testid="run-status" className="sr-only" data-execution={executionId ?? ""}>
          {status ?? ''}
        </span>
      </div>
      {pausedAt !== undefined ? (
        <div className="row notice" role="status">
          <span>{t('editor.pausedAt', { node: pausedAt })}</span>
          <button type="button" data-testid="continue-run" onClick={() => resume().catch((e: Error) => toast(e.message, 'error'))}>
            {t('action.continue')}
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="error-text" role="alert">
          {t('exec.errorAt', { node: error.nodeId ?? '?', code: error.code ?? '' })} {errorText(error.message)}
        </p>
      ) : null}
    </section>
  );
}
