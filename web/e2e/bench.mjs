// Figures for bench/web.sh (not a test): initial JS of /pipelines gzipped, time until a 500-node
// workflow is interactive in the editor, frame times while a real run's events arrive: paced (a
// chain of delay nodes, about 100 events/s) and in a burst (a run of set-variable nodes).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BASE, TOKEN, api, launch, until } from './lib.mjs';

const DIST = process.env.WEB_DIST;
const N = Number(process.env.BENCH_NODES ?? 500);
const q = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const { browser, page } = await launch();
try {
  // every WebSocket message the app receives, with its time (the event rate the page sees)
  await page.addInitScript(() => {
    const Base = window.WebSocket;
    window.__ws = [];
    window.WebSocket = class extends Base {
      constructor(...a) {
        super(...a);
        this.addEventListener('message', () => window.__ws.push(performance.now()));
      }
    };
  });
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

  // 3. frame times while a run's events arrive over the WebSocket, measured from the first to
  // the last message of each run, with the rate the page saw
  async function followRuns(id, runs, label) {
    await page.goto(`${BASE}/pipelines`);
    await page.waitForSelector('h1');
    await page.evaluate((wid) => {
      history.pushState(null, '', `/pipelines/${wid}/editor`);
      dispatchEvent(new PopStateEvent('popstate'));
    }, id);
    await page.waitForSelector('.react-flow__node[data-id="start"]', { timeout: 20000 });
    await page.evaluate(() => {
      window.__frames = [];
      let last = performance.now();
      const loop = (t) => {
        window.__frames.push([t, t - last]);
        last = t;
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    });
    await page.click('button:has-text("Test run")');
    const frames = [];
    let events = 0;
    let secs = 0;
    for (let r = 0; r < runs; r++) {
      const prev = await page.locator('[data-testid="run-status"]').getAttribute('data-execution');
      const w0 = await page.evaluate(() => window.__ws.length);
      await page.click('[data-testid="start-run"]');
      await until(async () => (await page.locator('[data-testid="run-status"]').getAttribute('data-execution')) !== prev, 'the new run to start', 20000);
      await until(async () => (await page.locator('[data-testid="run-status"]').textContent()) === 'success', 'the run to finish', 300000);
      const got = await page.evaluate((from) => {
        const ws = window.__ws.slice(from);
        const t0 = ws[0];
        const t1 = ws[ws.length - 1];
        return { n: ws.length, t0, t1, frames: window.__frames.filter(([t]) => t >= t0 && t <= t1).map(([, d]) => d) };
      }, w0);
      events += got.n;
      secs += (got.t1 - got.t0) / 1000;
      frames.push(...got.frames.slice(1));
    }
    console.log(
      `${label}: ${runs} runs, ${events} WebSocket messages in ${secs.toFixed(1)} s (${Math.round(events / secs)} events/s): frame time p50 ${q(frames, 0.5).toFixed(1)} ms, p95 ${q(frames, 0.95).toFixed(1)} ms, p99 ${q(frames, 0.99).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms over ${frames.length} frames`,
    );
  }

  // paced: a chain of delay nodes, each a timer the worker fires, so the events come step by step
  const P = Number(process.env.BENCH_PACED_NODES ?? 300);
  const D = Number(process.env.BENCH_DELAY_MS ?? 20);
  const pn = [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'Start' } }];
  const pe = [];
  for (let i = 1; i <= P; i++) {
    pn.push({ id: `d${i}`, type: 'delay', position: { x: (i % 25) * 240, y: Math.floor(i / 25) * 100 }, data: { label: `Wait ${i}`, durationMs: D } });
    pe.push({ id: `e${i}`, source: i === 1 ? 'start' : `d${i - 1}`, target: `d${i}` });
  }
  const paced = await api('POST', '/api/pipelines', { name: `bench paced ${P} delays`, nodes: pn, edges: pe });
  if (paced.status !== 201) throw new Error(`create: ${paced.status} ${JSON.stringify(paced.json)}`);
  await followRuns(paced.json.id, Number(process.env.BENCH_PACED_RUNS ?? 1), `paced, ${P} delay nodes of ${D} ms`);
  // a burst: runs of the 500-node workflow, each one transaction whose events arrive together
  await followRuns(wf.json.id, Number(process.env.BENCH_RUNS ?? 4), `burst, ${N} set-variable nodes`);
  await api('DELETE', `/api/pipelines/${paced.json.id}`);
  await api('DELETE', `/api/pipelines/${wf.json.id}`);
} finally {
  await browser.close();
}
