// A streamed model answer in the editor, against the real gateway, worker and the fake
// OpenAI-style server (test/fake/api_server.py, model "stream-slow": 4 characters every 0.25 s):
// a test run of trigger -> llm-agent -> output shows the agent's text growing in its run panel
// while the model writes, then the whole answer as the node's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN, api, launch, shot, until } from './lib.mjs';

const LLM = process.env.WEB_LLM_BASE;
// long enough to stream for about 8 s: a browser slow to join the execution still sees it grow
const PROMPT = 'write a short poem about postgres: its write-ahead log, its vacuum, its planner and its many workers, in four lines';
const ANSWER = `echo: ${PROMPT}`;
let b;
let page;

before(async () => {
  b = await launch();
  page = b.page;
});
after(async () => {
  await b?.browser.close();
});

test('a streamed answer grows in the run panel while the model writes', { skip: !LLM && 'WEB_LLM_BASE is not set' }, async () => {
  const r = await api('POST', '/api/pipelines', {
    name: 'Streamed poem',
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'ai', type: 'llm-agent', position: { x: 260, y: 0 },
        data: { model: 'stream-slow', baseUrl: LLM, credential: 'openai', prompt: PROMPT } },
      { id: 'end', type: 'output', position: { x: 520, y: 0 }, data: {} },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'ai' }, { id: 'e2', source: 'ai', target: 'end' }],
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const id = r.json.id ?? r.json.pipeline?.id;
  assert.ok(id, JSON.stringify(r.json));
  await page.goto(`${BASE}/#token=${TOKEN}`);
  await page.waitForSelector('h1:has-text("Pipelines")');
  await page.goto(`${BASE}/pipelines/${id}/editor`);
  await page.click('.react-flow__node[data-id="ai"]');
  await page.click('button:has-text("Test run")');
  await page.click('[data-testid="start-run"]');
  const seen = new Set();
  await until(async () => {
    const t = await page.locator('[data-testid="node-run"] pre.stream').textContent().catch(() => null);
    if (t) seen.add(t);
    return [...seen].some((s) => s.length > 6 && s.length < ANSWER.length);
  }, 'a partial answer in the run panel', 20000);
  await shot(page, '20-editor-streaming');
  await until(async () => (await page.locator('[data-testid="node-ai"]').getAttribute('data-status')) === 'success',
    'the agent to finish', 20000);
  for (const s of seen) assert.ok(ANSWER.startsWith(s), `a streamed text that is no prefix of the answer: ${s}`);
  await until(async () => (await page.locator('[data-testid="node-output"]').textContent())?.includes(ANSWER),
    'the whole answer as the output', 10000);
});
