import { describe, expect, it } from 'vitest';
import { usePipelines } from '../src/stores/pipelines';
import { useApprovals } from '../src/stores/approvals';
import { consumeHashToken, useAuth } from '../src/stores/auth';
import { detectLang, useUi } from '../src/stores/ui';
import { get, ApiError } from '../src/api/client';
import { fakeFetch } from './fakeFetch';
import type { Approval } from '../src/api/types';

describe('auth store', () => {
  it('takes #token= from the address and removes it', () => {
    let replaced = '';
    const loc = { hash: '#token=flw_abc', pathname: '/pipelines', search: '?x=1' } as Location;
    const hist = { replaceState: (_a: unknown, _b: string, url: string) => (replaced = url) } as unknown as History;
    expect(consumeHashToken(loc, hist)).toBe(true);
    expect(useAuth.getState().token).toBe('flw_abc');
    expect(localStorage.getItem('flowent.token')).toBe('flw_abc');
    expect(replaced).toBe('/pipelines?x=1');
    expect(consumeHashToken({ ...loc, hash: '' } as Location, hist)).toBe(false);
  });

  it('a 401 signs out, and the error carries code and message', async () => {
    useAuth.getState().signIn('flw_old');
    fakeFetch({ 'GET /api/x': () => [401, { error: { code: 'UNAUTHORIZED', message: 'API token revoked', details: null } }] });
    const e = await get('/api/x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('UNAUTHORIZED');
    expect(useAuth.getState().token).toBeNull();
  });
});

describe('ui store', () => {
  it('picks the language from the browser and switches it', () => {
    expect(detectLang(['de-AT', 'en'])).toBe('de');
    expect(detectLang(['fr-FR', 'en-US'])).toBe('en');
    expect(detectLang([])).toBe('en');
    useUi.getState().setLang('de');
    expect(useUi.getState().t('stats.total')).toBe('Gesamt Pipelines');
    expect(document.documentElement.lang).toBe('de');
    useUi.getState().setLang('en');
    expect(useUi.getState().t('stats.active')).toBe('Active pipelines');
    expect(useUi.getState().t('pipelines.runs', { n: 3 })).toBe('3 runs');
    useUi.getState().setTheme('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
  });
});

describe('pipelines store', () => {
  it('loads with the filter and search in the query, and reports errors', async () => {
    useAuth.getState().signIn('flw_t');
    const calls = fakeFetch({
      'GET /api/pipelines': () => [200, { pipelines: [], meta: { total: 0, running: 0, limit: 200, offset: 0 } }],
    });
    usePipelines.setState({ status: 'active', search: 'ord er' });
    await usePipelines.getState().load();
    expect(calls[0].path).toBe('/api/pipelines?status=active&search=ord+er&limit=200');
    expect(usePipelines.getState().list?.meta.total).toBe(0);
    fakeFetch({ 'GET /api/pipelines': () => [500, { error: { code: 'INTERNAL', message: 'down' } }] });
    await usePipelines.getState().load();
    expect(usePipelines.getState().error?.message).toBe('down');
  });

  it('runs a pipeline and answers the execution id', async () => {
    const calls = fakeFetch({
      'POST /api/pipelines/p1/execute': () => [200, { success: true, executionId: 'e1', status: 'pending' }],
      'GET /api/pipelines': () => [200, { pipelines: [], meta: { total: 0, running: 1, limit: 200, offset: 0 } }],
    });
    expect(await usePipelines.getState().run('p1', { a: 1 })).toBe('e1');
    expect(calls[0].body).toEqual({ payload: { a: 1 } });
  });
});

describe('approvals store', () => {
  it('decides an approval of its pipeline and drops it from the list', async () => {
    const a = { id: 'ap1', workflowId: 'w1', executionId: 'e1', title: 'T' } as Approval;
    const calls = fakeFetch({
      'POST /api/pipelines/w1/approve': () => [200, { success: true, status: 'pending' }],
      'GET /api/workflows/approvals': () => [200, { approvals: [] }],
    });
    useApprovals.setState({ items: [a] });
    await useApprovals.getState().decide(a, true, 'ok');
    expect(calls[0].body).toEqual({ approvalId: 'ap1', approved: true, comment: 'ok' });
    expect(useApprovals.getState().items).toEqual([]);
  });
});

describe('leave guard', async () => {
  const { mayLeave, setLeaveQuestion } = await import('../src/stores/leaveGuard');
  it('asks only while something is unsaved', () => {
    const asked: string[] = [];
    expect(mayLeave((q) => (asked.push(q), false))).toBe(true);
    setLeaveQuestion('Leave?');
    expect(mayLeave((q) => (asked.push(q), false))).toBe(false);
    expect(mayLeave(() => true)).toBe(true);
    setLeaveQuestion(null);
    expect(asked).toEqual(['Leave?', ]);
  });
});
