// The executions table: status, duration, trigger, cost; filter by status, pages of 20 from the server.
import { useCallback, useEffect, useState } from 'react';
import { get, query } from '../../api/client';
import { useT, useUi } from '../../stores/ui';
import { Empty, ErrorState, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { fmtCost, fmtDate, fmtDuration } from '../../lib/format';

interface Row {
  id: string;
  status: string;
  triggerType: string;
  startedAt: string | null;
  durationMs: number | null;
  totalCost: number | null;
  errorCode: string | null;
}
const PAGE = 20;

export function ExecutionsTab({ workflowId, onOpen }: { workflowId: string; onOpen: (id: string) => void }) {
  const t = useT();
  const lang = useUi((s) => s.lang);
  const [status, setStatus] = useState('');
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      const r = await get<{ executions: Row[]; hasMore: boolean }>(
        `/api/workflows/executions/recent${query({ workflowId, status, limit: PAGE, offset: page * PAGE })}`,
      );
      setRows(r.executions);
      setHasMore(r.hasMore);
    } catch (e) {
      setError(e);
    }
  }, [workflowId, status, page]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div>
      <div className="toolbar">
        <label htmlFor="ex-status">{t('exec.status')}</label>
        <select id="ex-status" value={status} onChange={(e) => { setStatus(e.target.value); setPage(0); }}>
          <option value="">{t('pipelines.all')}</option>
          {['pending', 'running', 'success', 'error', 'suspended', 'cancelled'].map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}` as 'status.success')}
            </option>
          ))}
        </select>
      </div>
      {error ? <ErrorState error={error} onRetry={() => void load()} /> : null}
      {!rows && !error ? <Loading /> : null}
      {rows && rows.length === 0 && page === 0 ? <Empty>{t('exec.none')}</Empty> : null}
      {rows?.length ? (
        <table data-testid="executions-table">
          <thead>
            <tr>
              <th scope="col">{t('exec.status')}</th>
              <th scope="col">{t('exec.started')}</th>
              <th scope="col">{t('exec.duration')}</th>
              <th scope="col">{t('exec.trigger')}</th>
              <th scope="col">{t('exec.cost')}</th>
              <th scope="col">
                <span className="sr-only">{t('action.open')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <StatusBadge status={r.status} /> {r.errorCode ? <code className="small">{r.errorCode}</code> : null}
                </td>
                <td>{fmtDate(r.startedAt, lang)}</td>
                <td>{fmtDuration(r.durationMs)}</td>
                <td>{r.triggerType}</td>
                <td>{fmtCost(r.totalCost)}</td>
                <td>
                  <button type="button" className="small" onClick={() => onOpen(r.id)}>
                    {t('action.open')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {rows && (page > 0 || hasMore) ? (
        <div className="row">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)} data-testid="exec-prev">
            {t('exec.prev')}
          </button>
          <span>{t('exec.page', { n: String(page + 1) })}</span>
          <button type="button" disabled={!hasMore} onClick={() => setPage(page + 1)} data-testid="exec-next">
            {t('exec.nextPage')}
          </button>
        </div>
      ) : null}
    </div>
  );
}
