// Drives dotpha's dashboard in Debian's headless Chromium, as a person would:
// search, open a task, report progress through the form, watch another open
// page update without a reload, export the evaluation table, switch the
// language, and read it on a phone-sized screen.
//
// With MODE=access the server runs with `--access` (every read needs a
// token) and a commune's token: the page must carry it on every read, on
// the live stream (EventSource cannot, so fetch does) and on exports.
//
// Usage: [MODE=access] node dashboard.mjs URL TOKEN SCREENSHOT_DIR
// (run by crates/http/tests/browser.rs against a freshly started app).

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, token, shots] = process.argv.slice(2);
if (!url || !token || !shots) {
  console.error('usage: node dashboard.mjs URL TOKEN SCREENSHOT_DIR');
  process.exit(2);
}
const TASK = 'ndp-2021-02';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

let step = 'start';
const problems = [];
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}
const started = Date.now();
function log(text) { console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`); }

// How the page writes numbers (vi-VN, one decimal at most): the oracle for
// comparing what it shows with what the API answers. The page computes no
// figure; it only formats the API's.
const fmtNum = (v, digits = 1) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('vi-VN', { maximumFractionDigits: digits }));
const fmtPct = (v) => (v === null || v === undefined ? '—' : fmtNum(v) + '%');
async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const tok = localStorage.getItem('dotpha.token');
    const r = await fetch(p, { headers: tok ? { Authorization: 'Bearer ' + tok } : {} });
    return r.json();
  }, path);
}
const text = async (locator) => ((await locator.textContent()) || '').trim();

/** Every figure the overview of `cycle` shows equals the dashboard answer's. */
async function overviewMatchesApi(page, cycle) {
  const d = await apiGet(page, '/api/v1/dashboard?cycle=' + encodeURIComponent(cycle));
  const kpi = (id) => text(page.locator(`[data-testid=${id}] .n`));
  check(await kpi('kpi-tasks') === String(d.tasks), `tasks: ${await kpi('kpi-tasks')} vs ${d.tasks}`);
  check(await kpi('kpi-cadres') === String(d.cadres), 'cadres');
  check(await kpi('kpi-overdue') === String(d.overdue), 'overdue');
  check(await kpi('kpi-due-soon') === String(d.due_soon), 'due soon');
  check(await kpi('kpi-evaluated') === String(d.by_status.evaluated || 0), 'evaluated');
  check(await kpi('kpi-mean') === fmtPct(d.mean_percent), `mean: ${await kpi('kpi-mean')} vs ${fmtPct(d.mean_percent)}`);
  check(await text(page.locator('[data-testid=not-rated]')) === String(d.open), 'not rated yet');
  for (const el of await page.locator('[data-testid=status-count]').all()) {
    const status = await el.getAttribute('data-status');
    check(await text(el.locator('b')) === String(d.by_status[status] || 0), 'status ' + status);
  }
  const ratings = await page.locator('[data-testid=ratings] tr td:nth-child(2)').allTextContents();
  const expected = [...Object.values(RATING_ORDER).map((r) => String(d.by_rating[r] || 0)), String(d.open)];
  check(JSON.stringify(ratings.map((t) => t.trim())) === JSON.stringify(expected), `ratings ${ratings} vs ${expected}`);
  for (const el of await page.locator('[data-testid=completion-bucket]').all()) {
    const band = await el.getAttribute('data-bucket');
    check((await el.locator('text').first().textContent()) === String(d.completion[band]), 'band ' + band);
  }
  check(await page.locator('[data-testid=unit-bar]').count() === d.by_unit.length, 'one bar per unit');
  for (const line of d.by_unit) {
    const title = await text(page.locator(`[data-testid=unit-bar][data-unit="${line.unit}"] title`));
    check(title.startsWith(`${line.name}: ${fmtPct(line.mean_percent)} · ${line.rollup.tasks} `), `unit ${line.unit}: ${title}`);
  }
  const flagged = await page.locator('[data-testid=quota-unit]').evaluateAll((els) => els.map((e) => e.dataset.unit));
  check(JSON.stringify(flagged) === JSON.stringify(d.excellent_quota_exceeded), 'the quota flags ' + flagged);
  for (const [list, tasks] of [['overdue-list', d.overdue_tasks], ['due-soon-list', d.due_soon_tasks]]) {
    const shown = await page.locator(`[data-testid=${list}] [data-testid=task-row]`).all();
    for (const [i, row] of shown.entries()) {
      const task = tasks[i];
      check((await row.getAttribute('data-task-id')) === task.task_id, `${list} order`);
      check(await text(row.locator('[data-testid=task-percent]')) === fmtPct(task.percent_complete), `${list} percent`);
      const days = task.days_left < 0 ? `quá ${-task.days_left} ngày` : `còn ${task.days_left} ngày`;
      check((await text(row)).includes(days), `${list} ${task.task_id} shows ${days}`);
    }
  }
  return d;
}
const RATING_ORDER = ['excellent', 'good', 'completed', 'not_completed'];

/** Every figure the task page shows equals the task answer's, and each chart runs forward in time. */
async function taskMatchesApi(page, taskId) {
  const t = await apiGet(page, '/api/v1/tasks/' + encodeURIComponent(taskId));
  check(await text(page.locator('#task-percent')) === fmtPct(t.percent_complete), 'the task\'s percent');
  for (const x of t.targets) {
    const card = page.locator(`[data-testid=target][data-metric="${x.metric}"]`);
    check(await text(card.locator('[data-testid=target-latest]')) === fmtNum(x.latest, 2), 'latest of ' + x.metric);
    const shown = await text(card.locator('[data-testid=target-percent]'));
    check(shown === (x.latest === null ? '—' : fmtPct(x.percent_complete)), `percent of ${x.metric}: ${shown}`);
    if (x.series.length > 1) {
      const xs = await card.locator('[data-testid=series-chart] circle').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cx'))));
      check(xs.length === x.series.length && xs.every((v, i) => i === 0 || v >= xs[i - 1]), `the chart of ${x.metric} runs forward: ${xs}`);
    }
  }
  return t;
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  // Nothing may load from anywhere but the app itself.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(url) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    problems.push('request to elsewhere: ' + u);
    return route.abort();
  });
  const watch = (page, name) => {
    page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
    page.on('console', (m) => {
      // The browser logs every non-2xx answer; the form's expected 422 is not a problem.
      if (m.type() === 'error' && !/status of 422/.test(m.text())) problems.push(`${name}: console error: ${m.text()}`);
    });
  };

  if (process.env.MODE === 'access') {
    await accessFlow(context, watch);
    step = 'end';
    check(problems.length === 0, 'problems:\n  ' + problems.join('\n  '));
    log('all checks passed');
    process.exit(0);
  }

  // ---- overview
  step = 'overview';
  const page = await context.newPage();
  watch(page, 'page');
  await page.goto(url + '/#/');
  await page.locator('[data-testid=kpi-tasks]').waitFor();
  await page.locator('[data-testid=unit-bar]').first().waitFor();
  check((await page.locator('h1').first().textContent()).includes('Tổng quan'), 'Vietnamese by default');
  check((await page.locator('[data-testid=kpi-tasks] .n').textContent()).trim() === '5', 'five tasks in the cycle');
  check(await page.locator('[data-testid=quota-unit][data-unit=son-duong]').count() === 1, 'the excellent quota flags the district, the evaluating body');
  await overviewMatchesApi(page, '2021');
  check(await page.locator('[data-testid=unit-bar]').count() === 4, 'one bar per unit with tasks');
  check(await page.locator('[data-testid=completion-bucket]').count() === 5, 'five completion buckets');
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('on'));
  await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
  log('overview ok');

  // ---- language switch, remembered
  step = 'language';
  await page.click('#lang-toggle');
  await page.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent.includes('Cycle overview'));
  check((await page.locator('#nav').textContent()).includes('Tasks'), 'English navigation');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent.includes('Cycle overview'));
  await page.screenshot({ path: join(shots, 'overview-en.png'), fullPage: true });
  await page.click('#lang-toggle');
  await page.waitForFunction(() => document.querySelector('h1').textContent.includes('Tổng quan'));
  log('language ok');

  // ---- search, ignoring case and diacritics
  step = 'search';
  await page.click('#nav a[data-nav=tasks]');
  await page.locator('[data-testid=search]').waitFor();
  await page.locator('[data-testid=task-row]').first().waitFor();
  check(await page.locator('[data-testid=task-row]').count() === 5, 'five tasks listed before searching');
  await page.locator('[data-testid=search]').fill('hop thanh');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid=task-row]')];
    return rows.length > 0 && rows.length < 5 && rows.every((r) => r.textContent.includes('Hợp Thành'));
  });
  check((await page.locator('[data-testid=search]').inputValue()) === 'hop thanh', 'the search box keeps its text');
  check(page.url().includes('q=hop+thanh') || page.url().includes('q=hop%20thanh'), 'the search is in the URL: ' + page.url());
  await page.selectOption('[data-testid=filter-status]', 'in_progress');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=task-row]').length === 1);
  await page.screenshot({ path: join(shots, 'tasks.png'), fullPage: true });
  log('search ok');

  // ---- the task page
  step = 'task page';
  await page.click(`[data-testid=task-row][data-task-id=${TASK}] [data-testid=task-link]`);
  await page.locator('[data-testid=task-title]').waitFor();
  check((await page.locator('[data-testid=task-title]').textContent()).includes('Hợp Thành'), 'the title');
  await page.locator('[data-testid=chain-status][data-ok=true]').waitFor();
  check(await page.locator('[data-testid=target]').count() === 2, 'two targets');
  check(await page.locator('[data-testid=target-chart] svg polyline').count() === 2, 'a line chart per target');
  check(await page.locator('[data-testid=history-event]').count() >= 5, 'the history');
  check((await page.locator('[data-testid=plan]').textContent()).includes('Đồng Diễn'), 'the plan');
  check((await page.locator('[data-testid=delegations]').textContent()).includes('Thôn Đồng Diễn'), 'the delegation');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history-event] .hash .small').length > 0
    && [...document.querySelectorAll('[data-testid=history-event] .hash .small')].every((e) => e.textContent.includes('✓')));
  // Each event says which signed checkpoint holds it (CONTRACT.md part B).
  check([...await page.locator('[data-testid=history-event] [data-testid=checkpoint]').allTextContents()]
    .some((x) => /đã có trong checkpoint [0-9.]+, 0 nhân chứng đồng ký/.test(x)), 'the history names the checkpoint that holds an event');
  const before = (await page.locator('#task-percent').textContent()).trim();
  log('task page shows ' + before);
  await taskMatchesApi(page, TASK);
  check(before !== '100%', 'the task is not complete yet');
  await page.screenshot({ path: join(shots, 'task.png'), fullPage: true });
  // A marker that a reload would wipe.
  await page.evaluate(() => { window.__notReloaded = true; });

  // ---- the progress form, on a second page
  step = 'progress form';
  const form = await context.newPage();
  watch(form, 'form page');
  await form.goto(`${url}/#/act?form=progress.reported&task=${TASK}`);
  await form.locator('#progress-form').waitFor();
  await form.locator('[data-testid=token]').fill(token);
  const values = form.locator('#progress-form [data-testid=field-value]');
  await values.nth(1).waitFor();
  check((await form.locator('[data-testid=field-as_of]').inputValue()) === '31/12/2021', 'as_of defaults into the cycle, as dd/mm/yyyy');
  // A value that is no number: the page refuses it before sending (the
  // submission's JSON Schema says "number"), in Vietnamese, next to that box.
  let posted = 0;
  form.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/api/v1/submissions')) posted++; });
  await values.nth(0).fill('ba mươi');
  await values.nth(1).fill('350');
  await form.click('[data-testid=submit-progress-reported]');
  await form.locator('[data-testid=field-error][data-field="data.values[0].value"]').waitFor();
  check(await form.locator('[data-testid=form-refused]').count() === 1, 'the refusal is shown');
  check((await text(form.locator('[data-testid=field-error]').first())).includes('phải là một số'), 'in Vietnamese');
  check(posted === 0, 'nothing was sent');
  check(await values.nth(0).getAttribute('aria-invalid') === 'true', 'the first value box is marked');
  const errorBelow = await form.evaluate(() => {
    const note = document.querySelector('[data-testid=field-error]');
    return note.previousElementSibling && note.previousElementSibling.contains(document.querySelector('[data-testid=field-value]'));
  });
  check(errorBelow, 'the error sits right after the first value box');
  await form.screenshot({ path: join(shots, 'form-error.png'), fullPage: true });
  await values.nth(0).fill('48');
  await form.locator('[data-testid=field-note]').fill('Hoàn thành thí điểm ở thôn Đồng Diễn');
  await form.selectOption('#progress-form select', 'high');
  await form.click('[data-testid=submit-progress-reported]');
  await form.locator('[data-testid=form-ok]').waitFor();
  check((await form.locator('[data-testid=form-ok]').textContent()).includes('Đã ghi nhận'), 'the receipt is shown');
  await form.screenshot({ path: join(shots, 'form-ok.png'), fullPage: true });
  log('progress recorded');

  // ---- the open task page follows, without a reload
  step = 'live update';
  // (Its tab stays in the background until the change is seen: live updates
  // must not depend on the page being looked at.)
  await page.waitForFunction(() => document.querySelector('#task-percent').textContent.trim() === '100%', null, { timeout: 15000 });
  check(await page.evaluate(() => window.__notReloaded === true), 'the page was not reloaded');
  check((await page.locator('[data-testid=history-event]').last().textContent()).includes('Hoàn thành thí điểm'), 'the history gained the report');
  await page.bringToFront();
  await page.screenshot({ path: join(shots, 'task-after.png'), fullPage: true });
  log('live update ok');

  // ---- export
  step = 'export';
  await page.click('#nav a[data-nav=overview]');
  await page.locator('[data-testid=export-xlsx]').waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-xlsx]')]);
  check(download.suggestedFilename() === 'danh-gia-2021.xlsx', 'file name ' + download.suggestedFilename());
  const saved = join(shots, 'danh-gia-2021.xlsx');
  await download.saveAs(saved);
  const bytes = readFileSync(saved);
  check(bytes.length > 1000 && bytes[0] === 0x50 && bytes[1] === 0x4b, 'the download is a zip (xlsx)');
  log(`exported ${bytes.length} bytes`);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
  check(csv.suggestedFilename() === 'danh-gia-2021.csv', 'file name ' + csv.suggestedFilename());
  const csvPath = join(shots, 'danh-gia-2021.csv');
  await csv.saveAs(csvPath);
  const csvText = readFileSync(csvPath, 'utf8');
  check(csvText.charCodeAt(0) === 0xfeff && csvText.includes('Hợp Thành'), 'the CSV has its BOM and Hợp Thành');

  // ---- unit drill-down
  step = 'units';
  await page.click('#nav a[data-nav=unit]');
  await page.locator('[data-testid=unit-name]').waitFor();
  log('root unit shown');
  check((await page.locator('[data-testid=unit-name]').textContent()).includes('Sơn Dương'), 'the root unit');
  await page.click('[data-testid=unit-child][data-unit=hop-thanh]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=unit-name]') || {}).textContent === 'Xã Hợp Thành');
  await page.click('[data-testid=view-as-was]');
  await page.waitForFunction(() => location.hash.includes('view=as_was') && document.querySelector('[data-testid=unit-child][data-unit=dong-dien]'));
  await page.screenshot({ path: join(shots, 'unit.png'), fullPage: true });
  log('units ok');

  // ---- a phone: no sideways scrolling
  step = 'phone';
  const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const small = await phone.newPage();
  watch(small, 'phone');
  for (const [hash, ready, name] of [
    ['#/', '[data-testid=unit-bar]', 'phone-overview'],
    ['#/tasks', '[data-testid=task-row]', 'phone-tasks'],
    [`#/task/${TASK}`, '[data-testid=history-event]', 'phone-task'],
    ['#/act', '#progress-form', 'phone-form'],
    ['#/unit/son-duong', '[data-testid=unit-child]', 'phone-unit'],
  ]) {
    await small.goto(`${url}/${hash}`);
    await small.locator(ready).first().waitFor();
    await small.waitForTimeout(150);
    const wide = await small.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 375, `${hash} is ${wide}px wide on a 375px screen`);
    await small.screenshot({ path: join(shots, name + '.png'), fullPage: true });
  }
  log('phone ok');
  await phone.close();

  // ---- the overview's figures come from the API (issue 11: the page
  // weighted each unit's mean by a count that included cancelled tasks)
  step = 'figures';
  await page.goto(url + '/#/?cycle=2020');
  await page.locator('[data-testid=unit-bar]').first().waitFor();
  const d2020 = await overviewMatchesApi(page, '2020');
  check(await text(page.locator('[data-testid=kpi-mean] .n')) === '33,3%',
    `one unit with a task at 100% and three cancelled, another with two at 0%: 33,3%, not 66,7% (API: ${d2020.mean_percent})`);
  await page.goto(url + '/#/task/ht-2020-bao-cao');
  await page.locator('[data-testid=target-chart] svg circle').first().waitFor();
  await taskMatchesApi(page, 'ht-2020-bao-cao');
  log('figures ok');

  step = 'end';
  check(problems.length === 0, 'problems:\n  ' + problems.join('\n  '));
  log('all checks passed');
} catch (e) {
  console.error(e.stack || String(e));
  if (problems.length) console.error('also:\n  ' + problems.join('\n  '));
  process.exitCode = 1;
} finally {
  await browser.close();
}

/** The page against a server whose reads need a token, with Hợp Thành's. */
async function accessFlow(context, watch) {
  step = 'access: no token';
  const page = await context.newPage();
  // 401 and 403 answers are this flow's point; the browser logs each.
  page.on('pageerror', (e) => problems.push(`access page: page error: ${e.message}`));
  await page.goto(url + '/#/');
  await page.locator('[data-testid=error] a[href="#/act"]').waitFor();
  step = 'access: token';
  await page.click('[data-testid=error] a[href="#/act"]');
  await page.locator('[data-testid=token]').fill(token);
  step = 'access: overview';
  await page.goto(url + '/#/');
  await page.locator('[data-testid=error]').waitFor();
  check((await page.locator('[data-testid=error]').textContent()).includes('chỉ xem được đơn vị của mình'), 'a commune token is told the dashboard is not its');
  step = 'access: tasks';
  await page.click('#nav a[data-nav=tasks]');
  await page.locator('[data-testid=task-row]').first().waitFor();
  const ids = await page.locator('[data-testid=task-row]').evaluateAll((rows) => rows.map((r) => r.dataset.taskId).sort());
  check(JSON.stringify(ids) === JSON.stringify(['ndp-2021-02', 'ndp-2021-03']), 'only Hợp Thành\'s tasks: ' + ids);
  step = 'access: task';
  await page.click(`[data-testid=task-row][data-task-id=${TASK}] [data-testid=task-link]`);
  await page.locator('[data-testid=chain-status][data-ok=true]').waitFor();
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('on'), null, { timeout: 10000 });
  const before = (await page.locator('#task-percent').textContent()).trim();
  check(before === '45%', 'the task at 45%: ' + before);
  const status = await page.evaluate(async ([tok, task]) => {
    const r = await fetch('/api/v1/submissions', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok },
      body: JSON.stringify({ type: 'progress.reported', data: { task_id: task, as_of: '2021-12-31',
        values: [{ metric: 'cam-ket-attp', value: 48 }, { metric: 'ho-phan-loai-rac', value: 350 }] } }),
    });
    return r.status;
  }, [token, TASK]);
  check(status === 200, 'the report is accepted: ' + status);
  step = 'access: live';
  await page.waitForFunction(() => document.querySelector('#task-percent').textContent.trim() === '100%', null, { timeout: 15000 });
  log('access: live update through the token-carrying stream');
  step = 'access: export';
  await page.click('#nav a[data-nav=overview]');
  await page.locator('[data-testid=export-csv]').waitFor();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
  const csvPath = join(shots, 'access-danh-gia-2021.csv');
  await csv.saveAs(csvPath);
  const text = readFileSync(csvPath, 'utf8');
  check(text.includes(TASK) && !text.includes('Tú Thịnh'), 'the export holds Hợp Thành\'s tasks only');
  step = 'access: units';
  await page.click('#nav a[data-nav=unit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=unit-name]') || {}).textContent === 'Xã Hợp Thành');
  await page.screenshot({ path: join(shots, 'access-unit.png'), fullPage: true });
  log('access: units ok');
}
