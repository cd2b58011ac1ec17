// Shared by the browser tests: the browser, axe-core, screenshots, small waits.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
export const BASE = process.env.WEB_BASE ?? 'http://127.0.0.1:3911';
export const TOKEN = process.env.WEB_TOKEN ?? '';
const SHOTS = process.env.WEB_SHOTS ?? new URL('./screenshots', import.meta.url).pathname;
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(SHOTS, { recursive: true });

export async function launch(viewport = { width: 1280, height: 800 }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // no background networking: this machine's closed network refuses it
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // the gateway's CSP stays on: the app must work under it
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { browser, context, page, errors };
}

export async function api(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

/** axe-core on the page: no violation of impact serious or critical. */
export async function axe(page, name) {
  // evaluated through the DevTools protocol: the page's CSP refuses inline scripts, rightly
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${name}: ${JSON.stringify(bad, null, 1)}`);
  return res;
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Polls `f` until it returns a truthy value. */
export async function until(f, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Drags a palette item onto the canvas at (x, y) relative to the canvas. */
export async function dragFromPalette(page, label, x, y) {
  const item = page.locator('.palette-item', { hasText: new RegExp(`^${label}$`) }).first();
  const canvas = page.locator('.canvas .react-flow__pane');
  await item.dragTo(canvas, { targetPosition: { x, y } });
}

/** Connects a source handle of one node to the input of another with the mouse. */
export async function connect(page, fromNode, handle, toNode) {
  const src = page.locator(`.react-flow__node[data-id="${fromNode}"] .react-flow__handle.source[data-handleid="${handle}"]`);
  const dst = page.locator(`.react-flow__node[data-id="${toNode}"] .react-flow__handle.target`);
  const a = await src.boundingBox();
  const b = await dst.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}
