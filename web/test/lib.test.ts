import { describe, expect, it } from 'vitest';
import { insertVariable, pathsOf, variableOffers } from '../src/lib/variables';
import { markGraph, type DiffResult } from '../src/lib/diff';
import { describeCron } from '../src/lib/cron';
import { upstream, outputHandles } from '../src/lib/graph';
import { wizardGraph } from '../src/lib/wizard';
import { byDay } from '../src/lib/analytics';
import { curlExample } from '../src/lib/webhook';

const nodes = [
  { id: 'start', type: 'trigger', data: { label: 'T' } },
  { id: 'setv', type: 'set-variable', data: { name: 'prio', value: 'high' } },
  { id: 'loop', type: 'loop-controller', data: {} },
  { id: 'x', type: 'data-transform', data: {} },
  { id: 'side', type: 'output', data: {} },
];
const edges = [
  { source: 'start', target: 'setv' },
  { source: 'setv', target: 'loop' },
  { source: 'loop', target: 'x' },
  { source: 'start', target: 'side' },
];

describe('variable picker', () => {
  it('offers paths from upstream nodes only, with their last output', () => {
    const offers = variableOffers('x', nodes, edges, { start: { amount: 5, customer: { name: 'A' } }, setv: 'high' });
    const paths = offers.map((o) => o.path);
    expect(paths).toContain('trigger.payload.amount');
    expect(paths).toContain('trigger.payload.customer.name');
    expect(paths).toContain('variables.prio');
    expect(paths).toContain('loop.item');
    expect(paths).toContain('setv');
    expect(paths).not.toContain('side');
    expect(paths).not.toContain('x');
    expect(offers.find((o) => o.path === 'trigger.payload.amount')?.sample).toBe('5');
  });

  it('offers nothing upstream for the trigger itself', () => {
    expect(variableOffers('start', nodes, edges).map((o) => o.path)).toEqual(['execution.id', 'workflow.id']);
  });

  it('walks arrays by index and stops at the depth', () => {
    expect(pathsOf({ a: [{ b: 1 }] }, 'n').map((p) => p.path)).toEqual(['n', 'n.a', 'n.a.0', 'n.a.0.b']);
    expect(pathsOf({ a: { b: { c: { d: 1 } } } }, 'n', 2).map((p) => p.path)).toEqual(['n', 'n.a', 'n.a.b']);
  });

  it('inserts {{path}} at the caret', () => {
    expect(insertVariable('Hello !', 6, 'name')).toEqual({ text: 'Hello {{name}}!', caret: 14 });
    expect(insertVariable('', 99, 'a').text).toBe('{{a}}');
  });
});

const v2 = {
  nodes: [
    { id: 't', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'T2' } },
    { id: 'n', type: 'output', position: { x: 1, y: 1 }, data: {} },
  ],
  edges: [{ id: 'e2', source: 't', target: 'n' }],
};
const d12: DiffResult = {
  workflowId: 'w',
  fromVersion: 1,
  toVersion: 2,
  summary: { added: 2, changed: 1, removed: 2 },
  nodes: {
    added: [v2.nodes[1]],
    removed: [{ id: 'old', type: 'delay', position: { x: 5, y: 5 }, data: {} }],
    changed: [
      {
        id: 't',
        changes: [
          { field: 'data.label', from: 'T1', to: 'T2' },
          { field: 'data.triggerType', from: 'manual', to: null },
        ],
      },
    ],
  },
  edges: { added: [v2.edges[0]], removed: [{ id: 'e1', source: 't', target: 'old' }], changed: [] },
};

describe('version diff', () => {
  it('marks added, removed and changed nodes and edges on the newer graph', () => {
    const g = markGraph(v2, d12);
    expect(Object.fromEntries(g.nodes.map((n) => [n.id, n.mark]))).toEqual({ t: 'changed', n: 'added', old: 'removed' });
    expect(Object.fromEntries(g.edges.map((e) => [e.id, e.mark]))).toEqual({ e2: 'added', e1: 'removed' });
  });
});

describe('cron preview', () => {
  it('describes five-field expressions in English and German', () => {
    const en = describeCron('30 8 * * 1-5', 'en');
    expect(en.ok && en.text).toMatch(/08:30/);
    expect(en.ok && en.text).toMatch(/Monday through Friday/);
    const de = describeCron('0 9 * * *', 'de');
    expect(de.ok && de.text).toMatch(/09:00/);
  });

  it('refuses what pg_cron would not take', () => {
    expect(describeCron('* * * *', 'en').ok).toBe(false);
    expect(describeCron('0 0 0 * * *', 'en').ok).toBe(false);
    expect(describeCron('61 * * * *', 'en').ok).toBe(false);
    expect(describeCron('hello world * * *', 'en').ok).toBe(false);
  });
});

describe('graph helpers', () => {
  it('lists ancestors nearest first', () => {
    expect(upstream('x', edges)).toEqual(['loop', 'setv', 'start']);
  });

  it('gives switch cases and the error branch as handles', () => {
    expect(outputHandles({ type: 'switch', data: { cases: [{ id: 'a' }, { id: 'b' }] } })).toEqual(['a', 'b', 'default']);
    expect(outputHandles({ type: 'x', data: { onError: 'branch' } })).toEqual(['out', 'error']);
  });

  it('builds the wizard graph as a chain through the live handles', () => {
    const g = wizardGraph('webhook', ['condition', 'human-approval']);
    expect(g.nodes.map((n) => n.type)).toEqual(['trigger', 'condition', 'human-approval', 'output']);
    expect(g.edges.map((e) => e.sourceHandle ?? null)).toEqual([null, 'true', 'approved']);
    expect(g.nodes[0].data.triggerType).toBe('webhook');
  });

  it('sums analytics rows per day', () => {
    const row = { workflow_name: null, cancelled: 0, success_rate: null, tokens: 1, cost_usd: 0.5, p50_ms: 10, p95_ms: 20 };
    const days = byDay([
      { ...row, day: '2026-01-02', workflow_id: 'a', executions: 2, successes: 1, errors: 1 },
      { ...row, day: '2026-01-01', workflow_id: 'a', executions: 1, successes: 1, errors: 0 },
      { ...row, day: '2026-01-02', workflow_id: 'b', executions: 2, successes: 2, errors: 0, p95_ms: 50 },
    ]);
    expect(days.map((d) => d.day)).toEqual(['2026-01-01', '2026-01-02']);
    expect(days[1]).toMatchObject({ executions: 4, successes: 3, errors: 1, successPct: 75, p95: 50, cost: 1, tokens: 2 });
  });

  it('writes a signed curl example with both headers', () => {
    const c = curlExample('http://h', '/api/hooks/1', 'abc');
    expect(c).toContain("-hmac 'abc'");
    expect(c).toContain('X-Flowent-Timestamp: $TS');
    expect(c).toContain('X-Flowent-Signature: sha256=$SIG');
    expect(c).toContain("'http://h/api/hooks/1'");
  });
});
