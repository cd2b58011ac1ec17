// A form generated from a node type's configSchema, for the fields no hand-made editor covers.
import type { JsonSchema } from '../../api/types';
import { TextField } from './TextField';
import { JsonField } from './CodeField';

export const COMMON = new Set(['label', 'retry', 'timeoutMs', 'onError', 'breakpoint']);

function kind(s: JsonSchema): string {
  if (s.enum) return 'enum';
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  return t ?? 'json';
}

export function SchemaForm({ nodeId, schema, data, skip, onChange }: {
  nodeId: string;
  schema: JsonSchema | undefined;
  data: Record<string, unknown>;
  skip: Set<string>;
  onChange: (patch: Record<string, unknown>) => void;
}) {
  const props = Object.entries(schema?.properties ?? {}).filter(([k]) => !skip.has(k) && !COMMON.has(k));
  const required = new Set(schema?.required ?? []);
  return (
    <>
      {props.map(([name, s]) => {
        const id = `f-${nodeId}-${name}`;
        const v = data[name];
        const label = name;
        switch (kind(s)) {
          case 'enum':
            return (
              <div className="field" key={name}>
                <label htmlFor={id}>
                  {label}
                  {required.has(name) ? ' *' : ''}
                </label>
                <select id={id} value={v === undefined ? '' : String(v)} onChange={(e) => onChange({ [name]: e.target.value || undefined })} title={s.description}>
                  <option value="">{s.default !== undefined ? `(${String(s.default)})` : '—'}</option>
                  {s.enum!.map((o) => (
                    <option key={String(o)} value={String(o)}>
                      {String(o)}
                    </option>
                  ))}
                </select>
              </div>
            );
          case 'boolean':
            return (
              <div className="field check" key={name}>
                <input id={id} type="checkbox" checked={v === undefined ? s.default === true : v === true} onChange={(e) => onChange({ [name]: e.target.checked })} />
                <label htmlFor={id} title={s.description}>
                  {label}
                </label>
              </div>
            );
          case 'integer':
          case 'number':
            return (
              <div className="field" key={name}>
                <label htmlFor={id}>
                  {label}
                  {required.has(name) ? ' *' : ''}
                </label>
                <input
                  id={id}
                  type="text"
                  inputMode="numeric"
                  placeholder={s.default !== undefined ? String(s.default) : ''}
                  value={v === undefined ? '' : String(v)}
                  title={s.description}
                  onChange={(e) => {
                    const x = e.target.value.trim();
                    onChange({ [name]: x === '' ? undefined : /^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x });
                  }}
                />
              </div>
            );
          case 'string':
            return (
              <TextField
                key={name}
                nodeId={nodeId}
                name={name}
                label={label}
                required={required.has(name)}
                description={s.description}
                value={v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)}
                multiline={/prompt|message|text|html|body/i.test(name)}
                onChange={(x) => onChange({ [name]: x === '' ? undefined : x })}
              />
            );
          default:
            return (
              <div className="field" key={name}>
                <span className="label">
                  {label}
                  {required.has(name) ? ' *' : ''}
                </span>
                <JsonField id={id} label={label} value={v} onChange={(x) => onChange({ [name]: x })} height="80px" />
              </div>
            );
        }
      })}
    </>
  );
}
