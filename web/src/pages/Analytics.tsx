// /pipelines/analytics: executions over time, success rate, p50/p95, cost and tokens, slowest and failing nodes.
import { useCallback, useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get, query } from '../api/client';
import type { Analytics } from '../api/types';
import { usePipelines } from '../stores/pipelines';
import { useT } from '../stores/ui';
import { Empty, ErrorState, Loading } from '../components/States';
import { byDay } from '../lib/analytics';
import { fmtCost } from '../lib/format';

const iso = (d: Date) => d.toISOString().slice(0, 10);

export default function AnalyticsPage() {
  const t = useT();
  const { list, load: loadList } = usePipelines();
  const [workflowId, setWorkflowId] = useState('');
  const [from, setFrom] = useState(iso(new Date(Date.now() - 29 * 86400000)));
  const [to, setTo] = useState(iso(new Date()));
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setData(await get<Analytics>(`/api/pipelines/analytics${query({ from, to, workflowId })}`));
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [from, to, workflowId]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!list) void loadList();
  }, [list, loadList]);
  const days = data ? byDay(data.daily) : [];
  const names = new Map((list?.pipelines ?? []).map((p) => [p.id, p.name]));
  return (
    <div className="page">
      <h1>{t('analytics.title')}</h1>
      <div className="toolbar">
        <label htmlFor="an-wf">{t('analytics.workflow')}</label>
        <select id="an-wf" value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
          <option value="">{t('analytics.allWorkflows')}</option>
          {list?.pipelines.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <label htmlFor="an-from">{t('analytics.from')}</label>
        <input id="an-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="an-to">{t('analytics.to')}</label>
        <input id="an-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
      </div>
      {error ? <ErrorState error={error} onRetry={() => void load()} /> : null}
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <section className="stats" aria-label={t('analytics.title')}>
            <div className="card stat">
              <div className="stat-label">{t('stats.executions')}</div>
              <div className="stat-value" data-testid="an-executions">{data.totals.executions}</div>
            </div>
            <div className="card stat">
              <div className="stat-label">{t('analytics.successRate')}</div>
              <div className="stat-value">{data.totals.success_rate === null ? '—' : `${Math.round(data.totals.success_rate * 100)} %`}</div>
            </div>
            <div className="card stat">
              <div className="stat-label">p50 / p95</div>
              <div className="stat-value">
                {data.totals.p50_ms ?? '—'} / {data.totals.p95_ms ?? '—'} ms
              </div>
            </div>
            <div className="card stat">
              <div className="stat-label">{t('exec.cost')}</div>
              <div className="stat-value">
                {fmtCost(data.totals.cost_usd)} · {data.totals.tokens}
              </div>
            </div>
          </section>
          {days.length === 0 ? <Empty>{t('analytics.noData')}</Empty> : null}
          <div className="charts">
            <Chart title={t('analytics.overTime')}>
              <BarChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="successes" name={t('analytics.successes')} stackId="a" fill="var(--ok)" isAnimationActive={false} />
                <Bar dataKey="errors" name={t('analytics.failures')} stackId="a" fill="var(--err)" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title={t('analytics.successRate')}>
              <LineChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis domain={[0, 100]} unit="%" />
                <Tooltip />
                <Line dataKey="successPct" name={t('analytics.successRate')} stroke="var(--accent)" isAnimationActive={false} />
              </LineChart>
            </Chart>
            <Chart title={t('analytics.duration')}>
              <LineChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis />
                <Tooltip />
                <Legend />
                <Line dataKey="p50" name="p50" stroke="var(--accent)" isAnimationActive={false} />
                <Line dataKey="p95" name="p95" stroke="var(--warn)" isAnimationActive={false} />
              </LineChart>
            </Chart>
            <Chart title={t('analytics.cost')}>
              <BarChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis yAxisId="c" />
                <YAxis yAxisId="t" orientation="right" />
                <Tooltip />
                <Legend />
                <Bar yAxisId="c" dataKey="cost" name="USD" fill="var(--accent)" isAnimationActive={false} />
                <Bar yAxisId="t" dataKey="tokens" name={t('exec.tokens')} fill="var(--muted)" isAnimationActive={false} />
              </BarChart>
            </Chart>
          </div>
          <div className="two">
            <NodeTable
              title={t('analytics.slowest')}
              heads={[t('analytics.node'), t('analytics.workflow'), t('analytics.runs'), 'p95 ms', 'avg ms']}
              rows={data.slowest_nodes.map((n) => [`${n.node_id} (${n.node_type})`, names.get(n.workflow_id) ?? n.workflow_id.slice(0, 8), n.runs, n.p95_ms, Math.round(n.avg_ms)])}
            />
            <NodeTable
              title={t('analytics.failing')}
              heads={[t('analytics.node'), t('analytics.workflow'), t('analytics.runs'), t('analytics.errors'), t('analytics.errorRate')]}
              rows={data.failing_nodes.map((n) => [`${n.node_id} (${n.node_type})`, names.get(n.workflow_id) ?? n.workflow_id.slice(0, 8), n.runs, n.errors, `${Math.round(n.error_rate * 100)} %`])}
            />
          </div>
        </>
      ) : null}
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="card chart">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}

function NodeTable({ title, heads, rows }: { title: string; heads: string[]; rows: (string | number)[][] }) {
  const t = useT();
  return (
    <section className="card">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{t('state.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              {heads.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
