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

export const FlowNode = memo(function FlowNode({ id, type, data, selected }: NodeProps<FNode>) {
  const t = useT();
  const meta = useNodeTypes((s) => s.byType[type]);
  const errors = useEditor((s) => s.errors[id]);
  const runId = useTestRun((s) => s.executionId);
  const status = useLive((s) => (runId ? s.executions[runId]?.nodes[id]?.status : undefined));
  const reason = useLive((s) => (runId ? s.executions[runId]?.nodes[id]?.reason : undefined));
  const cost = useCost(id);
  const handles = outputHandles({ type, data }, meta);
  const label = String(data.label ?? meta?.label ?? type);
  const statusKey = status ? `status.${status}` : '';
  return (
    <div
      className={`fnode cat-${meta?.category ?? 'other'}${status ? ` st-${status}` : ''}${errors?.length ? ' has-errors' : ''}${selected ? ' selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={status ?? ''}
    >
      {hasInput(type) ? <Handle type="target" position={Position.Left} id="in" /> : null}
      <div className="fnode-head">
        <span className="fnode-label">{label}</span>
        {data.breakpoint ? <span className="bp" title={t('editor.breakpoint')} aria-label={t('editor.breakpoint')} /> : null}
      </div>
      <div className="fnode-sub">
        <span>{meta?.label ?? type}</span>
        {status ? <span className={`badge badge-${status}`}>{isKey(statusKey) ? t(statusKey) : status}{reason && status === 'waiting' ? ` · ${reason}` : ''}</span> : null}
        {cost ? <span className="badge cost">{cost}</span> : null}
      </div>
      {errors?.length ? (
        <div className="fnode-errors" role="note" title={errors.join('\n')}>
          ⚠ {errors[0]}
        </div>
      ) : null}
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
    </div>
  );
});
