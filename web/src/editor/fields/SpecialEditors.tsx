// Hand-made editors: switch cases, the LLM model, the database query, the HTTP request, the approval.
import type { ReactNode } from 'react';
import { useT } from '../../stores/ui';
import { TextField } from './TextField';
import { CodeField, JsonField } from './CodeField';
import { OPERATORS, parseLoose } from './ConditionEditor';

type P = { nodeId: string; data: Record<string, unknown>; onChange: (p: Record<string, unknown>) => void };
const str = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function Labeled({ id, label, children }: { id?: string; label: string; children: ReactNode }) {
  return (
    <div className="field">
      {id ? <label htmlFor={id}>{label}</label> : <span className="label">{label}</span>}
      {children}
    </div>
  );
}

export function SwitchEditor({ nodeId, data, onChange }: P) {
  const t = useT();
  const cases = (Array.isArray(data.cases) ? data.cases : []) as { id?: string; operator?: string; right?: unknown }[];
  const set = (i: number, c: (typeof cases)[number]) => onChange({ cases: cases.map((x, j) => (j === i ? c : x)) });
  return (
    <>
      <TextField nodeId={nodeId} name="value" label="value" required value={str(data.value)} onChange={(v) => onChange({ value: v })} />
      {cases.map((c, i) => (
        <div className="cond-rule" key={i}>
          <Labeled id={`f-${nodeId}-case-${i}`} label={t('editor.caseId')}>
            <input id={`f-${nodeId}-case-${i}`} value={c.id ?? ''} onChange={(e) => set(i, { ...c, id: e.target.value })} />
          </Labeled>
          <Labeled id={`f-${nodeId}-caseop-${i}`} label={t('editor.operator')}>
            <select id={`f-${nodeId}-caseop-${i}`} value={c.operator ?? 'equals'} onChange={(e) => set(i, { ...c, operator: e.target.value })}>
              {OPERATORS.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </Labeled>
          <TextField nodeId={nodeId} name={`case-${i}-right`} label={t('editor.right')} value={str(c.right)} onChange={(v) => set(i, { ...c, right: parseLoose(v) })} />
          <button type="button" className="ghost small" onClick={() => onChange({ cases: cases.filter((_, j) => j !== i) })}>
            {t('editor.removeRule')}
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => onChange({ cases: [...cases, { id: `case${cases.length + 1}`, operator: 'equals', right: '' }] })}>
        {t('editor.addCase')}
      </button>
    </>
  );
}

export const MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'o3-mini', 'claude-3-5-sonnet', 'claude-3-5-haiku', 'llama3.1', 'mistral-small'];

export function ModelEditor({ nodeId, data, onChange }: P) {
  const t = useT();
  const id = `f-${nodeId}-model`;
  return (
    <Labeled id={id} label={`${t('editor.model')} *`}>
      <input id={id} list={`${id}-list`} value={str(data.model)} onChange={(e) => onChange({ model: e.target.value || undefined })} />
      <datalist id={`${id}-list`}>
        {MODELS.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
    </Labeled>
  );
}

export function QueryEditor({ nodeId, data, onChange }: P) {
  const t = useT();
  return (
    <>
      <Labeled label="query *">
        <CodeField id={`${nodeId}-query`} label="SQL" lang="sql" value={str(data.query)} onChange={(v) => onChange({ query: v })} />
      </Labeled>
      <Labeled label={t('editor.params')}>
        <JsonField id={`${nodeId}-params`} label={t('editor.params')} value={data.params} onChange={(v) => onChange({ params: v })} height="60px" />
      </Labeled>
    </>
  );
}

export function HttpEditor({ nodeId, data, onChange }: P) {
  const t = useT();
  const mid = `f-${nodeId}-method`;
  return (
    <>
      <div className="row">
        <Labeled id={mid} label="method">
          <select id={mid} value={str(data.method) || 'GET'} onChange={(e) => onChange({ method: e.target.value })}>
            {['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </Labeled>
        <TextField nodeId={nodeId} name="url" label="url" required value={str(data.url)} onChange={(v) => onChange({ url: v })} />
      </div>
      <Labeled label={t('editor.headers')}>
        <JsonField id={`${nodeId}-headers`} label={t('editor.headers')} value={data.headers} onChange={(v) => onChange({ headers: v })} height="60px" />
      </Labeled>
      <Labeled label={t('editor.body')}>
        <JsonField id={`${nodeId}-body`} label={t('editor.body')} value={data.body} onChange={(v) => onChange({ body: v })} height="80px" />
      </Labeled>
    </>
  );
}

export function ApprovalEditor({ nodeId, data, onChange }: P) {
  return (
    <>
      <TextField nodeId={nodeId} name="title" label="title" required value={str(data.title)} onChange={(v) => onChange({ title: v })} />
      <TextField nodeId={nodeId} name="message" label="message" multiline value={str(data.message)} onChange={(v) => onChange({ message: v || undefined })} />
      <TextField nodeId={nodeId} name="assignedUserId" label="assignedUserId" value={str(data.assignedUserId)} onChange={(v) => onChange({ assignedUserId: v || undefined })} />
      <Labeled label="contextData">
        <JsonField id={`${nodeId}-ctx`} label="contextData" value={data.contextData} onChange={(v) => onChange({ contextData: v })} height="60px" />
      </Labeled>
      <Labeled label="previewData">
        <JsonField id={`${nodeId}-prev`} label="previewData" value={data.previewData} onChange={(v) => onChange({ previewData: v })} height="60px" />
      </Labeled>
    </>
  );
}

/** Which fields each hand-made editor covers; the schema form shows the rest. */
export const SPECIAL: Record<string, { fields: string[]; Editor: (p: P) => ReactNode }> = {
  switch: { fields: ['value', 'cases'], Editor: SwitchEditor },
  'llm-agent': { fields: ['model'], Editor: ModelEditor },
  'database-query': { fields: ['query', 'params'], Editor: QueryEditor },
  'http-request': { fields: ['method', 'url', 'headers', 'body'], Editor: HttpEditor },
  'human-approval': { fields: ['title', 'message', 'assignedUserId', 'contextData', 'previewData'], Editor: ApprovalEditor },
};
