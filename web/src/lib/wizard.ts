// The create wizard's graph: a trigger, the chosen steps in a row, an output.
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';
import { edgeId } from './graph';

export const WIZARD_BLOCKS = ['condition', 'data-transform', 'http-request', 'llm-agent', 'human-approval'] as const;
export type WizardBlock = (typeof WIZARD_BLOCKS)[number];

const DEFAULTS: Record<WizardBlock, Record<string, unknown>> = {
  condition: { label: 'Condition', combinator: 'and', conditions: [{ left: '{{trigger.payload.amount}}', operator: 'gt', right: 100 }] },
  'data-transform': { label: 'Transform', language: 'sql', expression: 'input' },
  'http-request': { label: 'HTTP Request', method: 'GET', url: 'https://example.com' },
  'llm-agent': { label: 'LLM Agent', model: 'gpt-4o-mini', prompt: '{{input}}' },
  'human-approval': { label: 'Approval', title: 'Please approve', message: '' },
};
const OUT: Partial<Record<WizardBlock, string>> = { condition: 'true', 'human-approval': 'approved' };

export function wizardGraph(triggerType: string, blocks: WizardBlock[]): { nodes: FlowNodeJson[]; edges: FlowEdgeJson[] } {
  const nodes: FlowNodeJson[] = [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'Trigger', triggerType } }];
  const handles: (string | undefined)[] = [undefined];
  blocks.forEach((b, i) => {
    nodes.push({ id: `${b.replace(/-/g, '_')}_${i + 1}`, type: b, position: { x: 260 * (i + 1), y: 0 }, data: { ...DEFAULTS[b] } });
    handles.push(OUT[b]);
  });
  nodes.push({ id: 'result', type: 'output', position: { x: 260 * (blocks.length + 1), y: 0 }, data: { label: 'Output' } });
  const edges: FlowEdgeJson[] = [];
  for (let i = 0; i + 1 < nodes.length; i++) {
    const e: FlowEdgeJson = { id: edgeId(nodes[i].id, handles[i], nodes[i + 1].id), source: nodes[i].id, target: nodes[i + 1].id };
    if (handles[i]) e.sourceHandle = handles[i];
    edges.push(e);
  }
  return { nodes, edges };
}
