// Condition groups: rules {left, operator, right} and nested groups {combinator, conditions}.
import { useT } from '../../stores/ui';
import { TextField } from './TextField';

export const OPERATORS = ['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'contains', 'not_contains', 'starts_with', 'ends_with', 'matches', 'in', 'not_in', 'is_empty', 'is_not_empty', 'exists', 'not_exists'];
const UNARY = new Set(['is_empty', 'is_not_empty', 'exists', 'not_exists']);

export interface Rule {
  left?: unknown;
  operator?: string;
  right?: unknown;
}
export interface Group {
  combinator?: 'and' | 'or';
  conditions?: (Rule | Group)[];
}
const isGroup = (x: Rule | Group): x is Group => Array.isArray((x as Group).conditions);

/** Text typed into `right` as the JSON value it means: numbers and booleans stay typed. */
export function parseLoose(s: string): unknown {
  const x = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(x)) return Number(x);
  if (x === 'true' || x === 'false') return x === 'true';
  if (x === 'null') return null;
  if (/^[[{]/.test(x)) {
    try {
      return JSON.parse(x);
    } catch {
      return s;
    }
  }
  return s;
}
const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export function GroupEditor({ nodeId, group, onChange, path }: { nodeId: string; group: Group; onChange: (g: Group) => void; path: string }) {
  const t = useT();
  const items = group.conditions ?? [];
  const set = (i: number, v: Rule | Group) => onChange({ ...group, conditions: items.map((x, j) => (j === i ? v : x)) });
  const cid = `f-${nodeId}-${path}-comb`;
  return (
    <fieldset className="cond-group">
      <legend>
        <label htmlFor={cid}>{t('editor.combinator')} </label>
        <select id={cid} value={group.combinator ?? 'and'} onChange={(e) => onChange({ ...group, combinator: e.target.value as 'and' | 'or' })}>
          <option value="and">{t('editor.and')}</option>
          <option value="or">{t('editor.or')}</option>
        </select>
      </legend>
      {items.map((c, i) =>
        isGroup(c) ? (
          <div key={i} className="cond-nested">
            <GroupEditor nodeId={nodeId} group={c} path={`${path}-${i}`} onChange={(g) => set(i, g)} />
            <button type="button" className="ghost small" onClick={() => onChange({ ...group, conditions: items.filter((_, j) => j !== i) })}>
              {t('editor.removeRule')}
            </button>
          </div>
        ) : (
          <div key={i} className="cond-rule" data-testid="cond-rule">
            <TextField nodeId={nodeId} name={`${path}-${i}-left`} label={t('editor.left')} value={show(c.left)} onChange={(v) => set(i, { ...c, left: v })} />
            <div className="field">
              <label htmlFor={`f-${nodeId}-${path}-${i}-op`}>{t('editor.operator')}</label>
              <select id={`f-${nodeId}-${path}-${i}-op`} value={c.operator ?? 'equals'} onChange={(e) => set(i, { ...c, operator: e.target.value })}>
                {OPERATORS.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            </div>
            {UNARY.has(c.operator ?? '') ? null : (
              <TextField nodeId={nodeId} name={`${path}-${i}-right`} label={t('editor.right')} value={show(c.right)} onChange={(v) => set(i, { ...c, right: parseLoose(v) })} />
            )}
            <button type="button" className="ghost small" onClick={() => onChange({ ...group, conditions: items.filter((_, j) => j !== i) })}>
              {t('editor.removeRule')}
            </button>
          </div>
        ),
      )}
      <div className="row">
        <button type="button" className="small" onClick={() => onChange({ ...group, conditions: [...items, { left: '', operator: 'equals', right: '' }] })}>
          {t('editor.addRule')}
        </button>
        <button type="button" className="small" onClick={() => onChange({ ...group, conditions: [...items, { combinator: 'and', conditions: [] }] })}>
          {t('editor.addGroup')}
        </button>
      </div>
    </fieldset>
  );
}

export function ConditionEditor({ nodeId, data, onChange }: { nodeId: string; data: Record<string, unknown>; onChange: (p: Record<string, unknown>) => void }) {
  const group: Group = { combinator: (data.combinator as 'and' | 'or') ?? 'and', conditions: (data.conditions as Group['conditions']) ?? [] };
  return <GroupEditor nodeId={nodeId} group={group} path="c" onChange={(g) => onChange({ combinator: g.combinator, conditions: g.conditions })} />;
}
