// Figures for bench/web.sh (not a test): initial JS of /pipelines gzipped, time until a 500-node
// workflow is interactive in the editor, frame times while a real run's events arrive.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BASE, TOKEN, api, launch, until } from './lib.mjs';

const DIST = process.env.WEB_DIST;
const N = Number(process.env.BENCH_NODES ?? 500);
const q = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const { browser, page } = await launch();
try {
  // 1. every script /pipelines loads, gzipped as the files in web/dist
  const js = new Set();
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('.js')) js.add(u.pathname);
  });
  await page.goto(`${BASE}/#token=${TOKEN}`);
  await page.waitForSelector('h1:has-text("Pipelines")');
  await page.waitForLoadState('networkidle');
  let gz = 0;
  let raw = 0;
  for (const p of js) {
    const b = readFileSync(`${DIST}${p}`);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  console.log(`initial JavaScript of /pipelines: ${js.size} files, ${(raw / 1024).toFixed(1)} KB, gzipped ${(gz / 1024).toFixed(1)} KB (target <= 300 KB)`);

  // 2. a 500-node workflow: a grid of set-variable nodes in a chain
  const nodes = [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'Start' } }];
  const edges = [];
  for (let i = 1; i < N - 1; i++) {
    nodes.push({ id: `n${i}`, type: 'set-variable', position: { x: (i % 25) * 240, y: Math.floor(i / 25) * 100 }, data: { label: `Step ${i}`, name: `v${i}`, value: i } });
    edges.push({ id: `e${i}`, source: i === 1 ? 'start' : `n${i - 1}`, target: `n${i}` });
  }
  nodes.push({ id: 'end', type: 'output', position: { x: 0, y: Math.ceil(N / 25) * 100 }, data: { label: 'End' } });
  edges.push({ id: 'eend', source: `n${N - 2}`, target: 'end' });
  const wf = await api('POST', '/api/pipelines', { name: `bench ${N} nodes`, nodes, edges });
  if (wf.status !== 201) throw new Error(`create: ${wf.status} ${JSON.stringify(wf.json)}`);
  const times = [];
  for (let k = 0; k < 3; k++) {
    await page.goto(`${BASE}/pipelines`);
    await page.waitForSelector('h1');
    const t0 = Date.now();
    await page.evaluate((id) => {
      history.pushState(null, '', `/pipelines/${id}/editor`);
      dispatchEvent(new PopStateEvent('popstate'));
    }, wf.json.id);
    await page.waitForSelector('.react-flow__node[data-id="start"]', { timeout: 20000 });
    await page.click('.react-flow__node[data-id="start"]');
    await page.waitForSelector('[data-testid="config-panel"]');
    times.push(Date.now() - t0);
  }
  console.log(`${N}-node workflow: editor interactive (route change to nodes drawn and a node click answered) in ${times.join(', ')} ms; median ${q(times, 0.5)} ms (target < 1500 ms)`);

  // 3. frame times while the run's events arrive over the WebSocket
  await page.click('button:has-text("Test run")');
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const loop = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__frames.length < 100000) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  // several runs back to back (each a new test run followed live), frames measured over all of them
  const RUNS = Number(process.env.BENCH_RUNS ?? 4);
  const ws0 = Date.now();
  const frames0 = await page.evaluate(() => window.__frames.length);
  for (let r = 0; r < RUNS; r++) {
    const prev = await page.locator('[data-testid="run-status"]').getAttribute('data-execution');
    await page.click('[data-testid="start-run"]');
    await until(async () => (await page.locator('[data-testid="run-status"]').getAttribute('data-execution')) !== prev, 'the new run to start', 20000);
    await until(async () => (await page.locator('[data-testid="run-status"]').textContent()) === 'success', 'the run to finish', 120000);
  }
  const secs = (Date.now() - ws0) / 1000;
  const frames = (await page.evaluate(() => window.__frames)).slice(frames0 + 1);
  const events = RUNS * (2 * N + 1); // step:started and step:completed per node, workflow:complete
  console.log(
    `${RUNS} runs of ${N} nodes, about ${events} events in ${secs.toFixed(1)} s (${Math.round(events / secs)} events/s): frame time p50 ${q(frames, 0.5).toFixed(1)} ms, p95 ${q(frames, 0.95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms over ${frames.length} frames`,
  );
  await api('DELETE', `/api/pipelines/${wf.json.id}`);
} finally {
  await browser.close();
}
