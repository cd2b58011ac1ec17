// Loading, empty and error states, one look for every request.
import type { ReactNode } from 'react';
import { useT } from '../stores/ui';
import { ApiError } from '../api/client';

export function Loading({ label }: { label?: string }) {
  const t = useT();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('state.loading')}
    </div>
  );
}

export function Empty({ children }: { children?: ReactNode }) {
  const t = useT();
  return <div className="state state-empty">{children ?? t('state.empty')}</div>;
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  const e = error as Error;
  const code = e instanceof ApiError ? e.code : undefined;
  return (
    <div className="state state-error" role="alert">
      <strong>{t('state.error')}</strong>
      <span>
        {code ? <code>{code}</code> : null} {e?.message ?? String(error)}
      </span>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          {t('state.retry')}
        </button>
      ) : null}
    </div>
  );
}
