// The {{…}} picker: paths from upstream nodes and their last run's output.
import { useMemo, useState } from 'react';
import { useEditor } from '../../stores/editor';
import { useLive } from '../../stores/live';
import { useTestRun } from '../../stores/testRun';
import { useT } from '../../stores/ui';
import { variableOffers } from '../../lib/variables';

export function useOffers(nodeId: string) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const runId = useTestRun((s) => s.executionId);
  const live = useLive((s) => (runId ? s.executions[runId]?.nodes : undefined));
  const logs = useTestRun((s) => s.logs);
  return useMemo(() => {
    const outs: Record<string, unknown> = {};
    for (const [id, l] of Object.entries(logs)) outs[id] = l.output;
    for (const [id, r] of Object.entries(live ?? {})) if (r.output !== undefined) outs[id] = r.output;
    return variableOffers(nodeId, nodes as never, edges, outs);
  }, [nodeId, nodes, edges, live, logs]);
}

export function VariablePicker({ nodeId, field, onPick }: { nodeId: string; field: string; onPick: (path: string) => void }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <span className="varpicker">
      <button type="button" className="ghost small" aria-expanded={open} aria-label={t('editor.variablesFor', { field })} onClick={() => setOpen(!open)}>
        {'{{…}}'}
      </button>
      {open ? <Offers nodeId={nodeId} field={field} onPick={onPick} close={() => setOpen(false)} /> : null}
    </span>
  );
}

// Subscribed to the graph and the run's outputs only while the list is open (not on every live event).
function Offers({ nodeId, field, onPick, close }: { nodeId: string; field: string; onPick: (path: string) => void; close: () => void }) {
  const t = useT();
  const offers = useOffers(nodeId);
  return (
    <ul className="varlist" role="listbox" aria-label={t('editor.variablesFor', { field })}>
      {offers.length === 0 ? <li className="muted">{t('editor.noVariables')}</li> : null}
      {offers.map((o) => (
        <li key={o.path} role="option" aria-selected="false">
          <button
            type="button"
            className="varitem"
            onClick={() => {
              onPick(o.path);
              close();
            }}
          >
            <code>{`{{${o.path}}}`}</code>
            <span className="muted small">{o.sample ?? o.source}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
