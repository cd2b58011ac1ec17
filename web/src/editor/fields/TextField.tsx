// A text field with the variable picker; inserts {{path}} at the caret.
import { useRef } from 'react';
import { insertVariable } from '../../lib/variables';
import { VariablePicker } from './VariablePicker';

export function TextField({ nodeId, name, label, value, onChange, multiline, required, description }: {
  nodeId: string;
  name: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  multiline?: boolean;
  required?: boolean;
  description?: string;
}) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const id = `f-${nodeId}-${name}`;
  const pick = (path: string) => {
    const at = ref.current?.selectionStart ?? value.length;
    onChange(insertVariable(value, at, path).text);
  };
  return (
    <div className="field">
      <div className="row spread">
        <label htmlFor={id}>
          {label}
          {required ? ' *' : ''}
        </label>
        <VariablePicker nodeId={nodeId} field={label} onPick={pick} />
      </div>
      {multiline ? (
        <textarea id={id} ref={ref} rows={3} value={value} onChange={(e) => onChange(e.target.value)} title={description} />
      ) : (
        <input id={id} ref={ref} value={value} onChange={(e) => onChange(e.target.value)} title={description} />
      )}
    </div>
  );
}
