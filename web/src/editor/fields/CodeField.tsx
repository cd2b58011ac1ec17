// CodeMirror 6 for SQL and JSON fields.
import { memo, useCallback, useMemo, useRef } from 'react';
import CodeMirror from '@uiw/react-codemirror';
import { sql } from '@codemirror/lang-sql';
import { json } from '@codemirror/lang-json';
import { EditorView } from '@codemirror/view';
import { useUi } from '../../stores/ui';

// @uiw/react-codemirror reconfigures the whole editor (and reads the DOM selection, a forced
// layout of the page) whenever basicSetup, extensions or onChange change identity: keep them stable.
const BASIC = { lineNumbers: false, foldGutter: false };

export const CodeField = memo(function CodeField({ value, onChange, lang, label, id, height = '120px' }: { value: string; onChange: (v: string) => void; lang: 'sql' | 'json'; label: string; id: string; height?: string }) {
  const theme = useUi((s) => s.theme);
  // the editable element itself carries the name (axe: aria-input-field-name)
  const ext = useMemo(() => [lang === 'sql' ? sql() : json(), EditorView.contentAttributes.of({ 'aria-label': label })], [lang, label]);
  const latest = useRef(onChange);
  latest.current = onChange;
  const change = useCallback((v: string) => latest.current(v), []);
  return (
    <div className="codefield" data-testid={`code-${id}`}>
      <CodeMirror value={value} onChange={change} extensions={ext} theme={theme} height={height} basicSetup={BASIC} />
    </div>
  );
});

/** A JSON value edited as text; `onChange` gets the parsed value only when it parses. */
export function JsonField({ value, onChange, label, id, height }: { value: unknown; onChange: (v: unknown) => void; label: string; id: string; height?: string }) {
  const text = value === undefined ? '' : JSON.stringify(value, null, 2);
  return (
    <CodeField
      id={id}
      label={label}
      lang="json"
      height={height}
      value={text}
      onChange={(v) => {
        if (!v.trim()) return onChange(undefined);
        try {
          onChange(JSON.parse(v));
        } catch {
          /* keep editing until it parses */
        }
      }}
    />
  );
}
