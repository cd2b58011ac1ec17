// Version history and a visual diff of any two versions.
import { useCallback, useEffect, useState } from 'react';
import { get, query } from '../../api/client';
import type { PipelineDetail, VersionGraph, VersionRow } from '../../api/types';
import { useT, useUi } from '../../stores/ui';
import { ErrorState, Loading } from '../../components/States';
import { MiniGraph } from '../../components/MiniGraph';
import { fmtDate } from '../../lib/format';
import { markGraph, showValue, type DiffResult, type MarkedGraph } from '../../lib/diff';

export function VersionsTab({ p }: { p: PipelineDetail }) {
  const t = useT();
  const lang = useUi((s) => s.lang);
  const [versions, setVersions] = useState<VersionRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  const [diff, setDiff] = useState<{ d: DiffResult; g: MarkedGraph } | null>(null);
  const [diffErr, setDiffErr] = useState<unknown>(null);
  useEffect(() => {
    get<{ versions: VersionRow[] }>(`/api/workflows/${p.id}/versions`)
      .then((r) => {
        setVersions(r.versions);
        setTo(r.versions[0]?.version ?? 0);
        setFrom(r.versions[1]?.version ?? r.versions[0]?.version ?? 0);
      })
      .catch(setError);
  }, [p.id]);
  const compare = useCallback(async () => {
    setDiffErr(null);
    try {
      const [d, graph] = await Promise.all([
        get<DiffResult>(`/api/workflows/${p.id}/diff${query({ from, to })}`),
        get<VersionGraph>(`/api/workflows/${p.id}/versions/${to}`),
      ]);
      setDiff({ d, g: markGraph(graph, d) });
    } catch (e) {
      setDiffErr(e);
    }
  }, [from, to, p.id]);
  if (error) return <ErrorState error={error} />;
  if (!versions) return <Loading />;
  return (
    <div className="versions">
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('exec.started')}</th>
            <th scope="col">{t('versions.by', { who: '' })}</th>
            <th scope="col">{t('settings.description')}</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}>
              <td>
                v{v.version} {v.published ? <span className="badge badge-active">{t('action.publish')}</span> : null}
              </td>
              <td>{fmtDate(v.createdAt, lang)}</td>
              <td>{v.createdBy}</td>
              <td>{v.message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="toolbar">
        <label htmlFor="v-from">{t('versions.from')}</label>
        <select id="v-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
            </option>
          ))}
        </select>
        <label htmlFor="v-to">{t('versions.to')}</label>
        <select id="v-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
            </option>
          ))}
        </select>
        <button type="button" className="primary" onClick={() => void compare()} data-testid="compare">
          {t('versions.compare')}
        </button>
      </div>
      {diffErr ? <ErrorState error={diffErr} /> : null}
      {diff ? (
        <div className="diff" data-testid="diff">
          <p>
            <span className="badge mark-added">
              {t('versions.added')}: {diff.d.summary.added}
            </span>{' '}
            <span className="badge mark-removed">
              {t('versions.removed')}: {diff.d.summary.removed}
            </span>{' '}
            <span className="badge mark-changed">
              {t('versions.changed')}: {diff.d.summary.changed}
            </span>
          </p>
          <MiniGraph nodes={diff.g.nodes} edges={diff.g.edges} title={`v${diff.d.fromVersion} → v${diff.d.toVersion}`} large />
          {diff.d.nodes.changed.length === 0 && diff.d.nodes.added.length === 0 && diff.d.nodes.removed.length === 0 ? <p className="muted">{t('versions.same')}</p> : null}
          <h3>{t('versions.fields')}</h3>
          <table>
            <tbody>
              {[...diff.d.nodes.changed, ...diff.d.edges.changed].flatMap((c) =>
                c.changes.map((f) => (
                  <tr key={`${c.id}-${f.field}`}>
                    <th scope="row">
                      {c.id}.{f.field}
                    </th>
                    <td className="diff-from">{showValue(f.from)}</td>
                    <td className="diff-to">{showValue(f.to)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
