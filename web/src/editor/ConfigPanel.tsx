// The configuration panel of the selected node: hand-made editors, the schema form, errors, breakpoint, last run.
import { useEditor } from '../stores/editor';
import { useNodeTypes } from '../stores/nodeTypes';
import { useT } from '../stores/ui';
import { SchemaForm } from './fields/SchemaForm';
import { ConditionEditor } from './fields/ConditionEditor';
import { SPECIAL } from './fields/SpecialEditors';
import { NodeRunView } from './NodeRunView';

export function ConfigPanel() {
  const t = useT();
  const id = useEditor((s) => s.selectedId);
  const node = useEditor((s) => s.nodes.find((n) => n.id === s.selectedId));
  const errors = useEditor((s) => (id ? s.errors[id] : undefined));
  const updateData = useEditor((s) => s.updateData);
  const toggleBreakpoint = useEditor((s) => s.toggleBreakpoint);
  const meta = useNodeTypes((s) => (node?.type ? s.byType[node.type] : undefined));
  if (!node || !id) {
    return (
      <aside className="config" aria-label={t('editor.config')}>
        <h2 className="panel-title">{t('editor.config')}</h2>
        <p className="muted">{t('editor.noSelection')}</p>
      </aside>
    );
  }
  const type = node.type ?? '';
  const onChange = (p: Record<string, unknown>) => updateData(id, p);
  const special = SPECIAL[type];
  const condition = type === 'condition' || type === 'filter';
  const skip = new Set([...(special?.fields ?? []), ...(condition ? ['conditions', 'combinator'] : [])]);
  const data = node.data;
  return (
    <aside className="config" aria-label={t('editor.config')} data-testid="config-panel">
      <h2 className="panel-title">
        {meta?.label ?? type} <span className="muted small">({id})</span>
      </h2>
      {meta?.description ? <p className="muted small">{meta.description}</p> : null}
      {errors?.length ? (
        <div className="errors" role="alert">
          <strong>{t('editor.errors')}</strong>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={`f-${id}-label`}>{t('editor.label')}</label>
        <input id={`f-${id}-label`} value={String(data.label ?? '')} onChange={(e) => onChange({ label: e.target.value })} />
      </div>
      <div className="field check">
        <input id={`f-${id}-bp`} type="checkbox" checked={data.breakpoint === true} onChange={() => toggleBreakpoint(id)} />
        <label htmlFor={`f-${id}-bp`}>{t('editor.breakpoint')}</label>
      </div>
      {condition ? <ConditionEditor nodeId={id} data={data} onChange={onChange} /> : null}
      {special ? <special.Editor nodeId={id} data={data} onChange={onChange} /> : null}
      <SchemaForm nodeId={id} schema={meta?.configSchema} data={data} skip={skip} onChange={onChange} />
      <details className="advanced">
        <summary>{t('editor.advanced')}</summary>
        <div className="field">
          <label htmlFor={`f-${id}-onerror`}>onError</label>
          <select id={`f-${id}-onerror`} value={String(data.onError ?? 'stop')} onChange={(e) => onChange({ onError: e.target.value === 'stop' ? undefined : e.target.value })}>
            <option value="stop">stop</option>
            <option value="continue">continue</option>
            <option value="branch">branch</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`f-${id}-timeout`}>timeoutMs</label>
          <input id={`f-${id}-timeout`} inputMode="numeric" value={data.timeoutMs === undefined ? '' : String(data.timeoutMs)} onChange={(e) => onChange({ timeoutMs: e.target.value ? Number(e.target.value) : undefined })} />
        </div>
      </details>
      <NodeRunView nodeId={id} />
    </aside>
  );
}
