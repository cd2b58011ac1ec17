// The variable picker's offers: {{…}} paths from upstream nodes and their last run's output.
import type { FlowEdgeJson, FlowNodeJson } from '../api/types';
import { upstream } from './graph';

export interface VarOffer {
  path: string;
  source: string;
  sample?: string;
}

/** Paths into a value: `prefix`, `prefix.key`, `prefix.0` … down to `depth` levels. */
export function pathsOf(value: unknown, prefix: string, depth = 3): { path: string; value: unknown }[] {
  const out = [{ path: prefix, value }];
  if (depth <= 0 || value === null || typeof value !== 'object') return out;
  const entries = Array.isArray(value) ? value.slice(0, 3).map((v, i) => [String(i), v] as const) : Object.entries(value as object);
  for (const [k, v] of entries.slice(0, 30)) out.push(...pathsOf(v, `${prefix}.${k}`, depth - 1));
  return out;
}

function sample(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

export function variableOffers(
  nodeId: string,
  nodes: Pick<FlowNodeJson, 'id' | 'type' | 'data'>[],
  edges: Pick<FlowEdgeJson, 'source' | 'target'>[],
  lastOutputs: Record<string, unknown> = {},
): VarOffer[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ups = upstream(nodeId, edges);
  const offers: VarOffer[] = [];
  const seen = new Set<string>();
  const add = (path: string, source: string, v?: unknown) => {
    if (seen.has(path)) return;
    seen.add(path);
    offers.push({ path, source, sample: sample(v) });
  };
  if (ups.length) add('input', 'input', undefined);
  for (const id of ups) {
    const n = byId.get(id);
    if (!n) continue;
    const label = String(n.data.label ?? id);
    if (n.type === 'trigger') {
      const payload = lastOutputs[id];
      for (const p of pathsOf(payload ?? {}, 'trigger.payload')) add(p.path, label, payload === undefined ? undefined : p.value);
      continue;
    }
    if (n.type === 'loop-controller') {
      add('loop.item', label);
      add('loop.index', label);
    }
    if (n.type === 'set-variable') {
      if (typeof n.data.name === 'string' && n.data.name) add(`variables.${n.data.name}`, label, n.data.value);
      if (n.data.variables && typeof n.data.variables === 'object')
        for (const [k, v] of Object.entries(n.data.variables as object)) add(`variables.${k}`, label, v);
    }
    const out = lastOutputs[id];
    if (out === undefined) add(id, label);
    else for (const p of pathsOf(out, id)) add(p.path, label, p.value);
  }
  add('execution.id', 'execution');
  add('workflow.id', 'workflow');
  return offers;
}

/** Inserts `{{path}}` into `text` at `at` (a caret position). */
export function insertVariable(text: string, at: number, path: string): { text: string; caret: number } {
  const token = `{{${path}}}`;
  const pos = Math.max(0, Math.min(at, text.length));
  return { text: text.slice(0, pos) + token + text.slice(pos), caret: pos + token.length };
}
