// One node on the canvas: label, type, live status, breakpoint, validation problems, handles.
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { useNodeTypes } from '../stores/nodeTypes';
import { useEditor, type FNode } from '../stores/editor';
import { useLive } from '../stores/live';
import { useTestRun } from '../stores/testRun';
import { useCost } from './cost';
import { hasInput, outputHandles } from '../lib/graph';
import { useT } from '../stores/ui';
import { isKey } from '../i18n/catalog';
import type { NodeType } from '../api/types';

// Text clipped only where it may not fit (a clip costs every repaint of the canvas, see styles.css):
// a label longer than this many characters, a second line wider than the node (at 7.5 px a
// character and 22 px a badge's padding and gap, of 176 px).
const LABEL_FITS = 12;
function subFits(type: string, status: string, cost: string | null): boolean {
  const chars = type.length + status.length + (cost?.length ?? 0);
  return chars * 7.5 + (status ? 22 : 0) + (cost ? 22 : 0) <= 176;
}

/** The node's live status and why it waits, as one string ("waiting\tdelay"): one subscription. */
function useRunStatus(id: string): [string | undefined, string | undefined] {
  const runId = useTestRun((s) => s.executionId);
  const key = useLive((s) => {
    const n = runId ? s.executions[runId]?.nodes[id] : undefined;
    return n ? `${n.status}\t${n.reason ?? ''}` : '';
  });
  if (!key) return [undefined, undefined];
  const [status, reason] = key.split('\t');
  return [status, reason || undefined];
}

// A live status re-renders FlowNode (its class, its badge) but not these: the label and the handles
// (React Flow's Handle components with their store subscriptions) only change with the node's data.
const Head = memo(function Head({ label, breakpoint }: { label: string; breakpoint: boolean }) {
  const t = useT();
  const long = label.length > LABEL_FITS;
  return (
    <div className="fnode-head">
      <span className={long ? 'fnode-label long' : 'fnode-label'} title={long ? label : undefined}>
        {label}
      </span>
      {breakpoint ? <span className="bp" title={t('editor.breakpoint')} aria-label={t('editor.breakpoint')} /> : null}
    </div>
  );
});

const Ports = memo(function Ports({ type, data, meta }: { type: string; data: FNode['data']; meta: NodeType | undefined }) {
  const handles = outputHandles({ type, data }, meta);
  return (
    <>
      {hasInput(type) ? <Handle type="target" position={Position.Left} id="in" /> : null}
      {handles.map((h, i) => (
        <Handle
          key={h}
          type="source"
          position={Position.Right}
          id={h}
          style={{ top: `${((i + 1) * 100) / (handles.length + 1)}%` }}
          title={h}
        >
          {handles.length > 1 ? <span className="handle-label">{h}</span> : null}
        </Handle>
      ))}
    </>
  );
});

export const FlowNode = memo(function FlowNode({ id, type, data, selected }: NodeProps<FNode>) {
  const t = useT();
  const meta = useNodeTypes((s) => s.byType[type]);
  const errors = useEditor((s) => s.errors[id]);
  const [status, reason] = useRunStatus(id);
  const cost = useCost(id);
  const label = String(data.label ?? meta?.label ?? type);
  const statusKey = status ? `status.${status}` : '';
  const statusText = status ? `${isKey(statusKey) ? t(statusKey) : status}${reason && status === 'waiting' ? ` · ${reason}` : ''}` : '';
  const typeText = meta?.label ?? type;
  return (
    <div
      className={`fnode cat-${meta?.category ?? 'other'}${status ? ` st-${status}` : ''}${errors?.length ? ' has-errors' : ''}${selected ? ' selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={status ?? ''}
    >
      <Head label={label} breakpoint={!!data.breakpoint} />
      <div className={subFits(typeText, statusText, cost) ? 'fnode-sub' : 'fnode-sub long'}>
        <span>{typeText}</span>
        {status ? <span className={`badge badge-${status}`}>{statusText}</span> : null}
        {cost ? <span className="badge cost">{cost}</span> : null}
      </div>
      {errors?.length ? (
        <div className="fnode-errors" role="note" title={errors.join('\n')}>
          ⚠ {errors[0]}
        </div>
      ) : null}
      <Ports type={type} data={data} meta={meta} />
    </div>
  );
});
