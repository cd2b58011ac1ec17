// The core flow in a real browser against the real gateway, database and worker:
// sign in by URL, create with the wizard, drag three nodes, connect them, configure a condition,
// save, run, watch every node turn green live, approve from the inbox, see the run finish,
// a breakpoint and continue, a diff of two versions, analytics, German. axe-core on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TOKEN, api, axe, connect, dragFromPalette, launch, shot, until } from './lib.mjs';

let b;
let page;
let wfId;

before(async () => {
  assert.ok(TOKEN, 'WEB_TOKEN is set (test/scripts/web.sh makes one)');
  b = await launch();
  page = b.page;
});
after(async () => {
  await b?.browser.close();
});

const status = (id) => page.locator(`[data-testid="node-${id}"]`).getAttribute('data-status');

/** Records every data-status a node shows, as it happens (a MutationObserver in the page). */
async function recordStatuses() {
  await page.evaluate(() => {
    window.__seen = {};
    const note = (el) => {
      const id = el.dataset.testid?.slice(5);
      const s = el.dataset.status;
      if (!id || !s) return;
      const l = (window.__seen[id] ??= []);
      if (l[l.length - 1] !== s) l.push(s);
    };
    new MutationObserver((ms) =>
      ms.forEach((m) => {
        if (m.target instanceof HTMLElement && m.target.matches('.fnode')) note(m.target);
        for (const n of m.addedNodes) if (n instanceof HTMLElement) n.querySelectorAll('.fnode').forEach(note);
      }),
    ).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  });
}

test('the #token= URL signs in and leaves the address bar', async () => {
  await page.goto(`${BASE}/#token=${TOKEN}`);
  await page.waitForSelector('h1:has-text("Pipelines")');
  assert.equal(new URL(page.url()).hash, '');
  assert.equal(await page.evaluate(() => localStorage.getItem('flowent.token')), TOKEN);
  // an empty list offers the starter kits
  await page.waitForSelector('[data-testid="template-card"]');
  await shot(page, '01-pipelines-empty');
  await axe(page, '/pipelines (empty)');
});

test('the wizard creates a pipeline with a preview, then the editor opens', async () => {
  await page.click('button:has-text("New pipeline")');
  await page.fill('#wz-name', 'E2E order flow');
  await page.click('button:has-text("Next")');
  await page.check('input[value="manual"]');
  await page.click('button:has-text("Next")');
  await page.waitForSelector('.wizard-preview svg .mg-node');
  await shot(page, '02-wizard');
  await axe(page, 'create wizard');
  await page.click('.modal button:has-text("Create")');
  await page.waitForURL(/\/pipelines\/[0-9a-f-]+\/editor$/);
  wfId = page.url().split('/')[4];
  await page.waitForSelector('.react-flow__node[data-id="result"]');
});

test('drag three nodes from the palette, connect them, configure a condition, save', async () => {
  await page.click('.react-flow__node[data-id="result"]');
  await page.keyboard.press('Delete');
  await until(async () => (await page.locator('.react-flow__node[data-id="result"]').count()) === 0, 'the output node to go');
  await dragFromPalette(page, 'Condition', 200, 120);
  await dragFromPalette(page, 'Human Approval', 460, 120);
  await dragFromPalette(page, 'Output', 460, 520);
  for (const id of ['condition_1', 'human_approval_1', 'output_1']) await page.waitForSelector(`.react-flow__node[data-id="${id}"]`);
  await connect(page, 'start', 'out', 'condition_1');
  await connect(page, 'condition_1', 'true', 'human_approval_1');
  await connect(page, 'human_approval_1', 'approved', 'output_1');
  await until(async () => (await page.locator('.react-flow__edge').count()) === 3, 'three edges');

  await page.click('.react-flow__node[data-id="condition_1"]');
  await page.click('[data-testid="config-panel"] button:has-text("Add rule")');
  // the variable picker offers the trigger's payload
  await page.click('[aria-label="Variables for Left"]');
  await page.click('.varitem:has-text("{{trigger.payload}}")');
  assert.equal(await page.inputValue('#f-condition_1-c-0-left'), '{{trigger.payload}}');
  await page.fill('#f-condition_1-c-0-left', '{{trigger.payload.amount}}');
  await page.selectOption('#f-condition_1-c-0-op', 'gt');
  await page.fill('#f-condition_1-c-0-right', '100');
  await page.click('.react-flow__node[data-id="human_approval_1"]');
  // validation on the node as one edits: the approval has no title yet
  await until(async () => (await page.locator('[data-testid="node-human_approval_1"].has-errors').count()) === 1, 'a validation error on the approval');
  await page.fill('#f-human_approval_1-title', 'Approve the order');
  await page.fill('#f-human_approval_1-message', 'Amount over 100');
  await until(async () => (await page.locator('.fnode.has-errors').count()) === 0, 'no validation errors left');
  assert.equal(await page.locator('[data-testid="unsaved"]').count(), 1);
  await shot(page, '03-editor-built');
  await axe(page, 'editor');
  await page.click('[data-testid="save"]');
  await page.waitForSelector('.toast:has-text("Saved as version 2")');
  assert.equal(await page.locator('[data-testid="unsaved"]').count(), 0);
  const saved = await api('GET', `/api/pipelines/${wfId}`);
  const cond = saved.json.nodes.find((n) => n.id === 'condition_1');
  assert.deepEqual(cond.data.conditions, [{ left: '{{trigger.payload.amount}}', operator: 'gt', right: 100 }]);
  assert.equal(saved.json.edges.length, 3);
  assert.ok(saved.json.edges.some((e) => e.source === 'condition_1' && e.sourceHandle === 'true' && e.target === 'human_approval_1'));
});

test('run: each node turns green live, the approval waits', async () => {
  await recordStatuses();
  await page.click('button:has-text("Test run")');
  await page.click('[data-testid="start-run"]');
  await until(async () => (await status('human_approval_1')) === 'waiting', 'the approval to wait', 20000);
  assert.equal(await status('start'), 'success');
  assert.equal(await status('condition_1'), 'success');
  await shot(page, '04-editor-run-waiting');
  // clicking a node after the run shows its output
  await page.click('.react-flow__node[data-id="condition_1"]');
  await until(async () => (await page.locator('[data-testid="node-output"]').textContent())?.includes('"result": true'), 'the condition output');
});

test('approve from the inbox (count in the navigation); the run finishes live', async () => {
  await until(async () => (await page.locator('[data-testid="approvals-count"]').textContent()) === '1', 'the approvals count');
  await page.click('nav a:has-text("Approvals")');
  await page.waitForSelector('[data-testid="approval"]:has-text("Approve the order")');
  await shot(page, '05-approvals');
  await axe(page, '/approvals');
  await page.fill('[data-testid="approval"] textarea', 'looks fine');
  await page.click('[data-testid="approval"] button:has-text("Approve")');
  await page.waitForSelector('text=No approvals are waiting for you.');
  // the execution continues, live, right there
  await page.waitForSelector('[data-testid="decided"] [data-testid="execution-viewer"][data-status="success"]', { timeout: 20000 });
  await shot(page, '05b-approvals-decided');
  await axe(page, '/approvals (decided)');
  await page.goBack();
  await until(async () => (await status('output_1')) === 'success', 'the output node to succeed', 20000);
  assert.equal(await status('human_approval_1'), 'success');
  const seen = await page.evaluate(() => window.__seen);
  // the statuses came in as they happened (the observer saw them change), not from a reload
  assert.ok(seen.condition_1?.includes('success'), JSON.stringify(seen));
  assert.deepEqual(seen.human_approval_1?.slice(-1), ['success'], JSON.stringify(seen));
  await shot(page, '06-editor-run-finished');
  await page.goto(`${BASE}/pipelines/${wfId}`);
  await page.waitForSelector('[data-testid="execution-viewer"][data-status="success"]');
  await shot(page, '07-detail-overview');
  await axe(page, '/pipelines/:id overview');
});

test('a breakpoint pauses the test run; continue goes on', async () => {
  await page.goto(`${BASE}/pipelines/${wfId}/editor`);
  await page.click('.react-flow__node[data-id="condition_1"]');
  await page.check('#f-condition_1-bp');
  await page.waitForSelector('[data-testid="node-condition_1"] .bp');
  await page.click('[data-testid="save"]');
  await page.waitForSelector('.toast:has-text("Saved as version 3")');
  await page.click('button:has-text("Test run")');
  await page.click('[data-testid="start-run"]');
  await page.waitForSelector('[data-testid="continue-run"]', { timeout: 20000 });
  assert.equal(await status('condition_1'), 'waiting');
  assert.equal(await status('start'), 'success');
  await shot(page, '08-editor-breakpoint');
  await page.click('[data-testid="continue-run"]');
  await until(async () => (await status('human_approval_1')) === 'waiting', 'the run to go on to the approval', 20000);
  assert.equal(await status('condition_1'), 'success');
});

test('re-run from a node; copy, paste and undo on the canvas', async () => {
  const first = await page.locator('[data-testid="run-status"]').getAttribute('data-execution');
  await page.click('.react-flow__node[data-id="human_approval_1"]');
  await page.click('[data-testid="node-run"] button:has-text("Re-run from this node")');
  await until(async () => (await page.locator('[data-testid="run-status"]').getAttribute('data-execution')) !== first, 'a new execution');
  await until(async () => (await status('human_approval_1')) === 'waiting', 'the approval to wait again', 20000);
  const rerun = await page.locator('[data-testid="run-status"]').getAttribute('data-execution');
  const ctx = await api('GET', `/api/pipelines/context/${rerun}`);
  assert.equal(ctx.json.status, 'suspended');
  assert.deepEqual(ctx.json.waiting.map((w) => w.nodeId), ['human_approval_1']);
  // copy and paste the selected node, then undo it
  await page.click('.react-flow__node[data-id="output_1"]');
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await page.waitForSelector('.react-flow__node[data-id="output_2"]');
  await page.keyboard.press('Control+z');
  await until(async () => (await page.locator('.react-flow__node[data-id="output_2"]').count()) === 0, 'undo to take the copy back');
  await page.keyboard.press('Control+Shift+z');
  await page.waitForSelector('.react-flow__node[data-id="output_2"]');
  await page.keyboard.press('Control+z');
  // unsaved changes: leaving through the navigation asks first
  assert.equal(await page.locator('[data-testid="unsaved"]').count(), 1);
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.click('nav a:has-text("Pipelines")');
  await until(() => asked, 'the unsaved-changes question');
  assert.match(asked, /unsaved changes/);
  assert.match(page.url(), /\/editor$/);
});

test('versions: a visual diff of two versions', async () => {
  await page.goto(`${BASE}/pipelines/${wfId}?tab=versions`);
  await page.selectOption('#v-from', '2');
  await page.selectOption('#v-to', '3');
  await page.click('[data-testid="compare"]');
  await page.waitForSelector('[data-testid="diff"] .mg-node[data-node="condition_1"][data-mark="changed"]');
  assert.ok(await page.locator('[data-testid="diff"] th:has-text("condition_1.data.breakpoint")').count());
  await page.selectOption('#v-from', '1');
  await page.selectOption('#v-to', '2');
  await page.click('[data-testid="compare"]');
  await page.waitForSelector('[data-testid="diff"] .mg-node[data-node="result"][data-mark="removed"]');
  for (const id of ['condition_1', 'human_approval_1', 'output_1'])
    assert.equal(await page.locator(`[data-testid="diff"] .mg-node[data-node="${id}"]`).getAttribute('data-mark'), 'added');
  await shot(page, '09-detail-versions-diff');
  await axe(page, '/pipelines/:id versions');
});

test('the other tabs of a pipeline: executions, settings', async () => {
  await page.click('[role="tab"]:has-text("Executions")');
  await page.waitForSelector('[data-testid="executions-table"] tbody tr');
  assert.ok((await page.locator('[data-testid="executions-table"] tbody tr').count()) >= 2);
  await shot(page, '10-detail-executions');
  await axe(page, '/pipelines/:id executions');
  await page.click('[role="tab"]:has-text("Settings")');
  await page.selectOption('#s-trigger', 'schedule');
  await page.fill('#s-cron', '30 8 * * 1-5');
  await until(async () => (await page.locator('[data-testid="cron-preview"]').textContent())?.includes('08:30'), 'the cron preview');
  await page.selectOption('#s-trigger', 'webhook');
  await page.waitForSelector('pre:has-text("X-Flowent-Signature")');
  await shot(page, '11-detail-settings');
  await axe(page, '/pipelines/:id settings');
});

test('executions page on the server, twenty at a time', async () => {
  const nodes = [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { label: 'Start' } },
    { id: 'end', type: 'output', position: { x: 0, y: 120 }, data: { label: 'End' } },
  ];
  const wf = await api('POST', '/api/pipelines', { name: 'E2E paging', nodes, edges: [{ id: 'e', source: 'start', target: 'end' }] });
  assert.equal(wf.status, 201);
  const ids = [];
  for (let i = 0; i < 23; i++) {
    const r = await api('POST', `/api/pipelines/${wf.json.id}/execute`, { payload: { i } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    ids.push(r.json.executionId);
  }
  await page.goto(`${BASE}/pipelines/${wf.json.id}?tab=executions`);
  const rows = page.locator('[data-testid="executions-table"] tbody tr');
  await until(async () => (await rows.count()) === 20, 'the first page of 20');
  assert.equal(await page.locator('[data-testid="exec-prev"]').isDisabled(), true);
  await page.click('[data-testid="exec-next"]');
  await until(async () => (await rows.count()) === 3, 'the second page: the 3 oldest runs');
  assert.equal(await page.locator('[data-testid="exec-next"]').isDisabled(), true);
  await page.click('[data-testid="exec-prev"]');
  await until(async () => (await rows.count()) === 20, 'back to the first page');
  await api('DELETE', `/api/pipelines/${wf.json.id}`);
});

test('analytics shows the runs; the language switches to German', async () => {
  await page.click('nav a:has-text("Analytics")');
  await until(async () => Number(await page.locator('[data-testid="an-executions"]').textContent()) >= 2, 'two executions counted');
  await page.waitForSelector('.recharts-surface');
  await shot(page, '12-analytics');
  await axe(page, '/pipelines/analytics');
  await page.selectOption('#lang', 'de');
  await page.waitForSelector('h1:has-text("Analysen")');
  await page.waitForSelector('nav a:has-text("Freigaben")');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await page.click('nav a:has-text("Pipelines")');
  await page.waitForSelector('text=Gesamt Pipelines');
  await page.waitForSelector('text=Aktive Pipelines');
  await shot(page, '13-pipelines-de');
  await axe(page, '/pipelines (German)');
  await page.selectOption('#lang', 'en');
  await page.waitForSelector('text=Total pipelines');
});

test('the template gallery: preview and clone', async () => {
  await page.goto(`${BASE}/pipelines`);
  await page.click('button:has-text("Templates")');
  const card = page.locator('.modal [data-testid="template-card"]', { hasText: 'Ticket triage by priority' });
  await card.locator('button:has-text("Preview")').click();
  await card.locator('svg .mg-node').first().waitFor();
  await shot(page, '13b-templates');
  await axe(page, 'template gallery');
  await card.locator('button:has-text("Use template")').click();
  await page.waitForURL(/\/pipelines\/[0-9a-f-]+\/editor$/);
  await page.waitForSelector('.react-flow__node');
  const id = page.url().split('/')[4];
  const p = await api('GET', `/api/pipelines/${id}`);
  assert.equal(p.json.name, 'Ticket triage by priority');
  assert.ok(p.json.nodes.length >= 3);
  await page.goto(`${BASE}/pipelines`);
});

test('dark theme, the command palette, 1920x1080, sign-in page', async () => {
  await page.click('[data-testid="theme"]');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.waitForSelector('[data-testid="pipeline-card"]');
  await shot(page, '14-pipelines-dark');
  await axe(page, '/pipelines (dark)');
  await page.keyboard.press('Control+k');
  await page.fill('.palette-input', 'open e2e');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/pipelines/${wfId}$`));
  await page.click('[data-testid="theme"]');
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${BASE}/pipelines/${wfId}/editor`);
  await page.waitForSelector('.react-flow__node[data-id="output_1"]');
  await shot(page, '15-editor-1920');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('button:has-text("Sign out")');
  await page.waitForSelector('#token');
  await shot(page, '16-signin');
  await axe(page, 'sign-in');
  assert.deepEqual(b.errors, [], 'no uncaught errors in the page');
});
