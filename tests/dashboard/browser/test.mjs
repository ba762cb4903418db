// dashboard.browser: Debian's Chromium, driven by playwright-core, against a real `pgflow
// dashboard` with runs in every state (run.sh prepares both). Loads every page, checks the DOM
// against the database, saves screenshots, and checks that a run started during the test turns
// green on an open run page without a reload. Any failed check, page error or console error fails.
//
//   node test.mjs   with BASE_URL, DATABASE_URL, SCREENSHOTS and PLAYWRIGHT_MODULES set
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run.sh sets it)`);
  return value;
};
const BASE_URL = env('BASE_URL');
const TOKEN = env('DASHBOARD_TOKEN');
const DATABASE_URL = env('DATABASE_URL');
const SCREENSHOTS = env('SCREENSHOTS');
const {chromium} = await import(pathToFileURL(join(env('PLAYWRIGHT_MODULES'), 'playwright-core', 'index.mjs')).href);

/** One SQL statement through psql; rows as arrays of text. */
function sql(text) {
  const out = execFileSync('psql', ['-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', DATABASE_URL, '-c', text], {encoding: 'utf8'});
  return out.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

let checks = 0;
let failures = 0;
function check(condition, what) {
  checks++;
  if (condition) {
    console.log(`ok ${checks} - ${what}`);
  } else {
    failures++;
    console.log(`not ok ${checks} - ${what}`);
  }
}
async function step(what, fn) {
  try {
    await fn();
  } catch (error) {
    checks++;
    failures++;
    console.log(`not ok ${checks} - ${what}: ${error.message.split('\n')[0]}`);
  }
}

const runs = Object.fromEntries(sql('SELECT kind, run_id FROM browser_test.runs'));
const stepStates = (runId) => Object.fromEntries(sql(`SELECT step_slug, status FROM pgflow.step_states WHERE run_id = '${runId}'`));
const TIMEOUT = 15000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // What works on this closed network: no sandbox as root, no GPU, and none of Chromium's own
  // connections to Google's services (refused here, and slow to fail).
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  timeout: 60000,
});
const problems = [];
const context = await browser.newContext({viewport: {width: 1280, height: 860}, deviceScaleFactor: 1});
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
});
page.on('response', (response) => {
  if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`);
});
mkdirSync(SCREENSHOTS, {recursive: true});
const shot = (name) => page.screenshot({path: join(SCREENSHOTS, `${name}.png`), fullPage: true});
const testid = (id) => `[data-testid="${id}"]`;
const timings = [];
const go = async (hash, ready) => {
  const start = Date.now();
  await page.goto(`${BASE_URL}/${hash}`);
  await page.waitForSelector(ready);
  timings.push(`${hash.replace(/[0-9a-f-]{36}/, '<id>')} ${Date.now() - start} ms`);
};

check((await fetch(`${BASE_URL}/api/overview`)).status === 401, 'the API refuses a request without the token');
const overview = await (await fetch(`${BASE_URL}/api/overview`, {headers: {Authorization: `Bearer ${TOKEN}`}})).json();
const actionsAllowed = overview.actions_allowed === true;
if (!('actions_allowed' in overview)) console.log('# /api/overview has no actions_allowed: the page treats actions as disabled');

await step('sign in', async () => {
  await page.goto(`${BASE_URL}/?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector(testid('flow-list'));
  check(!page.url().includes('token='), 'opening /?token= signs in and leaves the token out of the address');
});

await step('overview', async () => {
  await go('#/flows', testid('flow-card-browser_demo'));
  check(await page.locator(testid('flow-card-browser_slow')).count() === 1, 'overview shows both flows');
  for (const slug of ['fetch', 'translate', 'summarize', 'publish']) {
    check(await page.locator(`${testid('flow-card-browser_demo')} ${testid(`dag-node-${slug}`)}`).count() === 1, `overview graph has step ${slug}`);
  }
  check(await page.locator(`${testid('flow-card-browser_demo')} .dag-edge`).count() === 4, 'overview graph has the 4 edges of browser_demo');
  check(await page.locator(`${testid('flow-card-browser_demo')} ${testid('dag-node-translate')}.dag-map`).count() === 1, 'map step drawn as a map');
  const failed = Number((await page.locator(`${testid('overview-failed')} .card-value`).textContent()).replace(/,/g, ''));
  check(failed >= 2, `overview counts the failed runs (${failed})`);
  await shot('overview');
});

await step('flow page', async () => {
  await go('#/flows/browser_demo', testid('flow-steps'));
  check(await page.locator(`${testid('flow-steps')} tbody tr`).count() === 4, 'flow page lists 4 steps');
  check((await page.locator(testid('flow-step-translate')).textContent()).includes('map'), 'flow page marks the map step');
  check((await page.locator(testid('flow-step-summarize')).textContent()).includes('20 s'), 'flow page shows a step timeout');
  await shot('flow');
});

await step('runs list', async () => {
  await go('#/runs', testid('runs-table'));
  const ids = await page.locator(`${testid('run-row')}`).evaluateAll((rows) => rows.map((r) => r.dataset.runId));
  for (const [kind, id] of Object.entries(runs)) check(ids.includes(id), `runs list shows the ${kind} run`);
  await shot('runs');
  await go('#/runs?status=failed', testid('runs-table'));
  const statuses = await page.locator(testid('run-row')).evaluateAll((rows) => rows.map((r) => r.dataset.status));
  check(statuses.length === 2 && statuses.every((st) => st === 'failed'), `status filter: 2 failed runs (${statuses})`);
  await go('#/runs?flow=browser_slow', testid('runs-table'));
  check(await page.locator(testid('run-row')).count() === 1, 'flow filter: one run of browser_slow');
  // Keyset pages through the UI: two runs a page, Older until the end, each run once.
  const total = Number(sql('SELECT count(*) FROM pgflow.runs')[0][0]);
  await go('#/runs?limit=2', testid('runs-table'));
  const seen = [];
  for (let pageNo = 0; pageNo < 10; pageNo++) {
    seen.push(...await page.locator(testid('run-row')).evaluateAll((rows) => rows.map((r) => r.dataset.runId)));
    if (await page.locator(testid('runs-older')).count() === 0) break;
    const first = seen[seen.length - 1];
    await page.click(testid('runs-older'));
    // The next page has rendered when its rows are others (pages never share a run).
    await page.waitForFunction((last) => {
      const ids = [...document.querySelectorAll('[data-testid="run-row"]')].map((r) => r.dataset.runId);
      return ids.length > 0 && !ids.includes(last) && !document.getElementById('main').hasAttribute('aria-busy');
    }, first);
  }
  check(seen.length === total && new Set(seen).size === total, `paging two at a time shows each of the ${total} runs once (${seen.length} rows)`);
  await page.selectOption(testid('filter-flow'), 'browser_demo');
  await page.click('form[data-testid="runs-filters"] button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('flow=browser_demo'));
  await page.waitForSelector(`${testid('run-row')}`);
  check(await page.locator(testid('run-row')).count() >= 3, 'the filter form applies a flow');
});

const expectedRunStatus = {completed: 'completed', failed: 'failed', cancelled: 'cancelled', started: 'started'};
for (const [kind, id] of Object.entries(runs)) {
  await step(`run page (${kind})`, async () => {
    await go(`#/runs/${id}`, testid('steps'));
    check(await page.locator(testid('run-status')).textContent() === expectedRunStatus[kind], `${kind} run shows status ${expectedRunStatus[kind]}`);
    for (const [slug, status] of Object.entries(stepStates(id))) {
      const shown = kind === 'cancelled' && (status === 'created' || status === 'started') ? 'cancelled' : status;
      check(await page.locator(testid(`step-${slug}`)).getAttribute('data-status') === shown, `${kind} run: step ${slug} is ${shown}`);
      check(await page.locator(testid(`dag-node-${slug}`)).getAttribute('data-status') === shown, `${kind} run: graph node ${slug} is ${shown}`);
    }
    const canCancel = await page.locator(testid('action-cancel')).count();
    const canRetry = await page.locator(testid('action-retry')).count();
    if (kind === 'started') check(canCancel === (actionsAllowed ? 1 : 0), `cancel button ${actionsAllowed ? 'shown' : 'hidden'} as the server allows`);
    if (kind === 'failed') check(canRetry === (actionsAllowed ? 1 : 0), `retry button ${actionsAllowed ? 'shown' : 'hidden'} as the server allows`);
    if (kind === 'failed') {
      check((await page.locator(testid('step-error-summarize')).textContent()).includes('HTTP 503'), 'failed step shows its error');
      check(await page.locator(`${testid('tasks-summarize')} ${testid('task-0')}`).getAttribute('data-status') === 'failed', 'failed task listed');
    }
    if (kind === 'completed') {
      check(await page.locator(`${testid('tasks-translate')} tbody tr`).count() === 3, 'map step lists its 3 tasks');
      await page.click(`${testid('run-input')} > summary`);
      const load = page.locator(testid('run-input-load'));
      check(await load.count() === 1, 'the large input is truncated with a link to load it');
      if (await load.count()) {
        await load.click();
        await page.waitForFunction(() => document.querySelector('[data-testid="run-input"] pre')?.textContent.includes('lorem ipsum lorem'));
        check(true, 'the full input loads on demand');
      }
    }
    if (kind === 'started') {
      check(await page.evaluate(() => window.__xss === undefined && !document.querySelector('main img')), 'data is rendered as text, never as markup');
      check((await page.locator(testid('run-input')).textContent()).includes('<img'), 'the input with markup shows as text');
    }
    await shot(`run-${kind}`);
  });
}

await step('workers page', async () => {
  await go('#/workers', testid('throughput-chart'));
  check(await page.locator(testid('worker-row')).count() >= 1, 'workers table lists the worker');
  check((await page.locator(testid('queues-table')).textContent()).includes('browser_demo'), 'queues table lists browser_demo');
  check(await page.locator(`${testid('throughput-chart')} .bar-completed`).count() >= 1, 'throughput chart has completed tasks');
  await shot('workers');
});

await step('errors', async () => {
  const before = problems.length;
  await go('#/runs/00000000-0000-4000-8000-000000000000', testid('error'));
  check(true, 'an unknown run shows an error');
  await go('#/runs/not-a-uuid', testid('error'));
  check((await page.locator(testid('error')).textContent()).length > 10, 'an invalid run id shows the server\'s message');
  problems.splice(before); // the browser logs the 404 and 400 above as console errors
});

await step('live run page', async () => {
  const [[id]] = sql(`SELECT run_id FROM pgflow.start_flow('browser_demo', '{"url": "https://example.com/live"}')`);
  await go(`#/runs/${id}`, testid('steps'));
  await page.waitForSelector(`${testid('live-indicator')}[data-state="live"]`);
  await page.evaluate(() => {
    window.__noReload = true;
  });
  check(await page.locator(testid('run-status')).textContent() === 'started', 'live run starts as started');
  let waves = 0;
  while (sql(`SELECT browser_test.work('browser_demo')`)[0][0] !== '0' && waves < 20) {
    waves++;
    await page.waitForTimeout(500);
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'completed', null, {timeout: TIMEOUT});
  check(true, `live run turned completed on the open page (${waves} waves of tasks)`);
  for (const slug of ['fetch', 'translate', 'summarize', 'publish']) {
    check(await page.locator(testid(`dag-node-${slug}`)).getAttribute('data-status') === 'completed', `live run: node ${slug} turned green`);
  }
  check(await page.evaluate(() => window.__noReload === true), 'the page was not reloaded');
  await shot('run-live');
});

if (actionsAllowed) {
  await step('cancel action', async () => {
    await go(`#/runs/${runs.started}`, testid('action-cancel'));
    page.once('dialog', (dialog) => dialog.accept());
    await page.click(testid('action-cancel'));
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'cancelled');
    check(true, 'the cancel button cancels the run and the page shows it');
  });
}

check(problems.length === 0, `no page errors, console errors or 5xx responses${problems.length ? `: ${problems.join('; ')}` : ''}`);
await browser.close();
console.log(`# page load to its content: ${timings.join(', ')}`);
console.log(`${checks - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
