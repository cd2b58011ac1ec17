// Settings: name, description, trigger type, schedule with cron preview, webhook with curl, publish, duplicate, delete.
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { del, get, patch, post } from '../../api/client';
import type { PipelineDetail } from '../../api/types';
import { useT, useUi } from '../../stores/ui';
import { usePipelines } from '../../stores/pipelines';
import { toast } from '../../stores/toasts';
import { describeCron } from '../../lib/cron';
import { curlExample } from '../../lib/webhook';
import type { Key } from '../../i18n/catalog';

const TRIGGERS = ['manual', 'schedule', 'webhook', 'table'] as const;
interface TableTrigger {
  id: string;
  table: string;
  events: string[];
  fires: number;
  executions: number;
  last_fired_at: string | null;
  waiting: number;
  failed: number;
}

export function SettingsTab({ p, onSaved, onDeleted }: { p: PipelineDetail; onSaved: (p: PipelineDetail) => void; onDeleted: () => void }) {
  const t = useT();
  const lang = useUi((s) => s.lang);
  const nav = useNavigate();
  const create = usePipelines((s) => s.create);
  const trigger = p.nodes.find((n) => n.type === 'trigger');
  const [name, setName] = useState(p.name);
  const [description, setDescription] = useState(p.description ?? '');
  const [triggerType, setTriggerType] = useState(String(trigger?.data.triggerType ?? 'manual'));
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [tables, setTables] = useState<TableTrigger[] | null>(null);
  const preview = describeCron(cron, lang);
  useEffect(() => {
    get<{ triggers: TableTrigger[] }>(`/api/workflows/${p.id}/table-triggers`)
      .then((r) => setTables(r.triggers))
      .catch(() => setTables(null));
  }, [p.id]);
  const act = (f: () => Promise<void>) => () => void f().catch((e: Error) => toast(e.message, 'error'));

  const save = act(async () => {
    const nodes = p.nodes.map((n) => (n.type === 'trigger' ? { ...n, data: { ...n.data, triggerType } } : n));
    const r = await patch<PipelineDetail>(`/api/pipelines/${p.id}`, { name, description, nodes, expectedVersion: p.version });
    onSaved(r);
    toast(t('toast.saved', { v: r.version }));
  });
  const publish = act(async () => {
    const r = await post<{ publishedVersion: number; webhookSecret: string | null }>(`/api/workflows/${p.id}/deploy`, {});
    if (r.webhookSecret) setSecret(r.webhookSecret);
    toast(t('toast.published', { v: r.publishedVersion }));
    onSaved(await get<PipelineDetail>(`/api/pipelines/${p.id}`));
  });
  const rotate = act(async () => {
    const r = await post<{ webhookSecret: string }>(`/api/pipelines/${p.id}/webhooks`, {});
    setSecret(r.webhookSecret);
  });
  const schedule = act(async () => {
    await post(`/api/pipelines/${p.id}/schedule`, { cron });
    toast(t('settings.schedule'));
  });
  const unschedule = act(async () => {
    await del(`/api/pipelines/${p.id}/schedule`);
    toast(t('settings.unschedule'));
  });
  const duplicate = act(async () => {
    const c = await create({ name: `${p.name} (copy)`, description: p.description ?? undefined, nodes: p.nodes, edges: p.edges });
    nav(`/pipelines/${c.id}`);
  });
  const remove = act(async () => {
    if (!window.confirm(t('confirm.delete', { name: p.name }))) return;
    await del(`/api/pipelines/${p.id}`);
    toast(t('toast.deleted'));
    onDeleted();
  });
  const curl = curlExample(window.location.origin, p.webhook?.url ?? `/api/hooks/${p.id}`, secret);
  return (
    <div className="settings">
      <section className="card">
        <div className="field">
          <label htmlFor="s-name">{t('settings.name')}</label>
          <input id="s-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="s-desc">{t('settings.description')}</label>
          <textarea id="s-desc" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="s-trigger">{t('settings.triggerType')}</label>
          <select id="s-trigger" value={triggerType} onChange={(e) => setTriggerType(e.target.value)}>
            {TRIGGERS.map((x) => (
              <option key={x} value={x}>
                {t(`trigger.${x}` as Key)}
              </option>
            ))}
          </select>
        </div>
        <div className="row">
          <button type="button" className="primary" onClick={save}>
            {t('action.save')}
          </button>
          <button type="button" onClick={publish} data-testid="publish">
            {t('action.publish')}
          </button>
          <button type="button" onClick={duplicate}>
            {t('action.duplicate')}
          </button>
        </div>
      </section>
      {triggerType === 'schedule' ? (
        <section className="card">
          <div className="field">
            <label htmlFor="s-cron">{t('settings.cron')}</label>
            <input id="s-cron" value={cron} onChange={(e) => setCron(e.target.value)} aria-describedby="s-cron-preview" />
            <p id="s-cron-preview" className={preview.ok ? 'muted' : 'error-text'} data-testid="cron-preview">
              {preview.ok ? t('settings.cronPreview', { text: preview.text }) : t('settings.cronInvalid')}
            </p>
          </div>
          <div className="row">
            <button type="button" disabled={!preview.ok} onClick={schedule}>
              {t('settings.schedule')}
            </button>
            <button type="button" onClick={unschedule}>
              {t('settings.unschedule')}
            </button>
          </div>
        </section>
      ) : null}
      {triggerType === 'webhook' ? (
        <section className="card">
          <div className="field">
            <span className="label">{t('settings.webhookUrl')}</span>
            <code>{`${window.location.origin}${p.webhook?.url ?? ''}`}</code>
          </div>
          {!p.webhook?.published ? <p className="muted">{t('settings.notPublished')}</p> : null}
          <div className="field">
            <span className="label">{t('settings.webhookSecret')}</span>
            {secret ? (
              <>
                <code data-testid="webhook-secret">{secret}</code>
                <span className="muted small">{t('settings.secretOnce')}</span>
              </>
            ) : (
              <span className="muted">••••••••</span>
            )}
            <button type="button" onClick={rotate}>
              {t('settings.rotate')}
            </button>
          </div>
          <div className="field">
            <span className="label">{t('settings.curl')}</span>
            <pre className="json">{curl}</pre>
            <button
              type="button"
              onClick={() =>
                void navigator.clipboard?.writeText(curl).then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 1500);
                })
              }
            >
              {copied ? t('action.copied') : t('action.copy')}
            </button>
          </div>
        </section>
      ) : null}
      {triggerType === 'table' ? (
        <section className="card">
          <h2>{t('settings.tableTriggers')}</h2>
          {tables && tables.length ? (
            <ul>
              {tables.map((x) => (
                <li key={x.id}>
                  <code>{x.table}</code> ({x.events.join(', ')}) ·{' '}
                  {t('settings.tableCounts', { fires: x.fires, executions: x.executions })}
                  {x.waiting > 0 ? <> · {t('settings.tableWaiting', { n: x.waiting })}</> : null}
                  {x.failed > 0 ? <span className="error-text"> · {t('settings.tableFailed', { n: x.failed })}</span> : null}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{t('settings.noTableTriggers')}</p>
          )}
        </section>
      ) : null}
      <section className="card danger-zone">
        <h2>{t('settings.danger')}</h2>
        <button type="button" className="danger" onClick={remove}>
          {t('action.delete')}
        </button>
      </section>
    </div>
  );
}
