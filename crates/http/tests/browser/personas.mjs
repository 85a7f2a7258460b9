// The people issue 14 names, in Debian's headless Chromium, against a fresh
// `dotpha up --demo` and the tokens it printed (run by tests/personas.rs).
//
// MODE=clerk: the new commune's chair finds his tasks from his token, sees
// only the forms his role may use, types an impossible date (31/02/2026)
// and a percentage over 100 and is refused in Vietnamese before anything is
// sent, then reports progress in Vietnamese number format; a plan revision
// starts from the current plan; the history names places and shows what a
// revision changed.
// MODE=secretary: the district secretary sees what needs attention first,
// units in Vietnamese alphabetical order, a closed year that no longer
// counts days, and a warning before closing a cycle with unevaluated tasks.
//
// Usage: MODE=clerk|secretary node personas.mjs URL TOKEN SCREENSHOT_DIR

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, token, shots] = process.argv.slice(2);
const mode = process.env.MODE;
if (!url || !token || !shots || !['clerk', 'secretary'].includes(mode)) {
  console.error('usage: MODE=clerk|secretary node personas.mjs URL TOKEN SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const CHAIR_TASK = 'ndp-2026-02';
let step = 'start';
const problems = [];
const check = (ok, what) => { if (!ok) throw new Error(`${step}: ${what}`); };
const started = Date.now();
const log = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);
const text = async (locator) => ((await locator.textContent()) || '').trim();
/** Today in Vietnam as dd/mm/yyyy, as a clerk types it. */
function todayVi() {
  const d = new Date(Date.now() + 7 * 3600e3);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}
async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const tok = localStorage.getItem('dotpha.token');
    const r = await fetch(p, { headers: tok ? { Authorization: 'Bearer ' + tok } : {} });
    return r.json();
  }, path);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(url) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    problems.push('request to elsewhere: ' + u);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`); });
  let posted = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/api/v1/submissions')) posted++; });
  if (mode === 'clerk') await clerk(page, () => posted);
  else await secretary(page);
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

async function clerk(page, posts) {
  step = 'clerk: token';
  await page.goto(url + '/#/act');
  await page.locator('[data-testid=token]').fill(token);
  await page.locator('[data-testid=me-name]').waitFor();
  const me = await apiGet(page, '/api/v1/me');
  check((await text(page.locator('[data-testid=me-name]'))) === me.cadre.full_name, 'the page says who the token acts as');
  check(me.unit === 'son-duong-xa', 'the chair of the new commune: ' + me.unit);
  await page.locator(`[data-testid=my-task][data-task-id=${CHAIR_TASK}]`).waitFor();
  // Only the forms his role may use: no assigning or evaluating.
  check(await page.locator('[data-testid="tab-progress.reported"]').isVisible(), 'the progress form is offered');
  for (const f of ['task.assigned', 'task.evaluated', 'cycle.closed']) {
    check(!(await page.locator(`[data-testid="tab-${f}"]`).isVisible()), `${f} is not offered to a commune chair`);
  }
  await page.screenshot({ path: join(shots, 'clerk-my-tasks.png'), fullPage: true });
  log('my tasks ok');

  step = 'clerk: refused before sending';
  await page.click(`[data-testid=my-task][data-task-id=${CHAIR_TASK}] [data-testid=my-task-report]`);
  await page.locator('#progress-form [data-testid=field-value]').nth(1).waitFor();
  const task = await apiGet(page, '/api/v1/tasks/' + CHAIR_TASK);
  const form = await text(page.locator('#progress-form [data-testid=values]'));
  check(form.includes('(%)') && /khoảng 0[–-]100/.test(form), 'the target shows its unit and range: ' + form);
  const values = page.locator('#progress-form [data-testid=field-value]');
  const percentAt = task.targets.findIndex((x) => x.unit === '%');
  await page.locator('[data-testid=field-as_of]').fill('31/02/2026');
  await values.nth(percentAt).fill('150');
  await values.nth(1 - percentAt).fill('40');
  await page.click('[data-testid=submit-progress-reported]');
  const dateError = page.locator('[data-testid=field-error][data-field="data.as_of"]');
  await dateError.waitFor();
  check((await text(dateError)).includes('ngày có thật'), 'the date is refused in Vietnamese: ' + await text(dateError));
  const over = page.locator(`[data-testid=field-error][data-field="data.values[${percentAt}].value"]`);
  check((await text(over)).includes('không được lớn hơn 100'), 'a percentage over 100 is refused: ' + await text(over));
  check(await page.locator('[data-testid=form-refused]').count() === 1, 'the form says it sent nothing');
  const shown = await text(page.locator('#view'));
  check(!/invalid type|expected f64|is not a date/.test(shown), 'no programmer English');
  check(posts() === 0, 'nothing was sent, so no rejection is logged');
  await page.screenshot({ path: join(shots, 'clerk-refused.png'), fullPage: true });
  log('refused before sending');

  step = 'clerk: report';
  await page.locator('[data-testid=field-as_of]').fill(todayVi());
  await values.nth(percentAt).fill('85,5');
  await page.click('[data-testid=submit-progress-reported]');
  await page.locator('[data-testid=form-ok]').waitFor({ timeout: 15000 });
  check(posts() === 1, 'one submission sent');
  let latest;
  for (let i = 0; i < 50 && latest !== 85.5; i++) {
    latest = (await apiGet(page, '/api/v1/tasks/' + CHAIR_TASK)).targets[percentAt].latest;
    if (latest !== 85.5) await page.waitForTimeout(100);
  }
  check(latest === 85.5, '"85,5" is 85.5: ' + latest);
  log('progress recorded');

  step = 'clerk: plan revision';
  await page.goto(`${url}/#/act?form=plan.submitted&task=${CHAIR_TASK}`);
  await page.locator('[data-testid=plan-prefilled]:not(:empty)').waitFor();
  const solutions = await page.locator('[data-testid=field-solutions]').inputValue();
  check(solutions.split('\n').length === task.plan.solutions.length, 'the revision starts from the current plan');
  log('plan prefilled');

  step = 'clerk: history';
  await page.goto(`${url}/#/task/${CHAIR_TASK}`);
  await page.locator('[data-testid=plan-changes]').first().waitFor();
  check((await text(page.locator('[data-testid=plan-changes]').first())).includes('Nhân rộng mô hình Đồng Diễn'), 'the revision shows what it added');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=history] [data-code]')].every((e) => e.textContent !== e.dataset.code));
  check((await text(page.locator('[data-testid=history]'))).includes('Thôn Đồng Diễn'), 'names, not codes');
  // The charts count in the targets' units (from the API, not re-spelled).
  const charted = task.targets.filter((x) => x.unit && x.series.length);
  check(charted.length > 0, 'the task has a charted target with a unit');
  await page.locator('[data-testid=series-unit]').first().waitFor();
  const units = await page.locator('[data-testid=series-unit]').allTextContents();
  check(charted.every((x) => units.includes(`(${x.unit})`)), 'each chart names its unit: ' + units.join(', '));
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=history-event] .hash .small')].some((e) => e.textContent.includes('✓')));
  await page.screenshot({ path: join(shots, 'clerk-task.png'), fullPage: true });
  log('history ok');
}

async function secretary(page) {
  step = 'secretary: overview';
  await page.goto(url + '/#/act');
  await page.locator('[data-testid=token]').fill(token);
  await page.locator('[data-testid=me-name]').waitFor();
  check(await page.locator('[data-testid="tab-cycle.closed"]').isVisible(), 'the secretary may close a cycle');
  await page.goto(url + '/#/');
  await page.locator('[data-testid=attention]').waitFor();
  check(await page.locator('[data-testid=cycle-select]').inputValue() === '2026', 'the open cycle is shown first');
  const first = await page.evaluate(() => document.querySelector('#overview > div').firstElementChild.dataset.testid);
  check(first === 'attention', 'the attention list comes first: ' + first);
  const [aTop, kTop] = await page.evaluate(() => ['[data-testid=attention]', '[data-testid=kpi-tasks]'].map((q) => document.querySelector(q).getBoundingClientRect().top));
  check(aTop < kTop && aTop < 300, `attention at ${aTop}px, before the figures at ${kTop}px`);
  const d = await apiGet(page, '/api/v1/dashboard?cycle=2026');
  const weak = await page.locator('[data-testid=weak-unit]').evaluateAll((els) => els.map((e) => e.dataset.unit));
  check(JSON.stringify(weak) === JSON.stringify(d.attention.weakest_units.map((u) => u.unit)), 'the weakest units, as the API lists them');
  for (const [testid, tasks] of [['attention-overdue', d.overdue_tasks], ['attention-stale', d.attention.stale_tasks], ['attention-low-confidence', d.attention.low_confidence_tasks]]) {
    check(tasks.length > 0, `${testid}: the demo has some`);
    const ids = await page.locator(`[data-testid=${testid}] [data-testid=attention-task]`).evaluateAll((els) => els.map((e) => e.dataset.taskId));
    check(JSON.stringify(ids) === JSON.stringify(tasks.slice(0, 6).map((x) => x.task_id)), `${testid} as the API lists it: ${ids}`);
  }
  // Full names, not cut.
  for (const u of d.attention.weakest_units) {
    check((await text(page.locator(`[data-testid=weak-unit][data-unit="${u.unit}"] a`))) === u.name, 'the whole name of ' + u.unit);
  }
  await page.locator('[data-testid=unit-bar]').first().waitFor();
  await page.screenshot({ path: join(shots, 'secretary-overview.png'), fullPage: true });
  log('attention first');

  step = 'secretary: Vietnamese order';
  const names = await page.locator('[data-testid=unit-bar] text:first-of-type').allTextContents();
  const collator = new Intl.Collator('vi');
  const sorted = [...names].sort(collator.compare);
  check(names.length === d.by_unit.length, 'one bar per unit');
  check(JSON.stringify(names) === JSON.stringify(sorted), 'units in Vietnamese order:\n' + names.join('\n'));
  const x = names.findIndex((n) => n.startsWith('Xã'));
  check(x >= 0 && names.slice(x).every((n) => n.startsWith('Xã')), '"Đ…", "Ủ…" come before every "Xã …"');
  log('Vietnamese order ok');

  step = 'secretary: communes only';
  await page.click('[data-testid=attention-filter] a[data-filter=communes]');
  const kinds = new Map(d.by_unit.map((u) => [u.unit, u.kind]));
  const shownUnits = await page.locator('[data-testid=weak-unit]').evaluateAll((els) => els.map((e) => e.dataset.unit));
  check(shownUnits.every((u) => ['commune', 'ward', 'town'].includes(kinds.get(u))), 'only communes: ' + shownUnits);
  await page.click('[data-testid=attention-filter] a[data-filter=all]');

  step = 'secretary: a closed year';
  await page.goto(url + '/#/?cycle=2021');
  await page.locator('[data-testid=overdue-list] [data-testid=task-row]').first().waitFor();
  const rows = await page.locator('[data-testid=overdue-list] [data-testid=task-row]').allTextContents();
  check(rows.length === 2 && rows.every((r) => r.includes('chưa được đánh giá khi chu kỳ kết thúc') && !/quá \d+ ngày/.test(r)), 'the closed year stops counting: ' + rows);
  log('closed year ok');

  step = 'secretary: closing warns';
  await page.goto(url + '/#/act?form=cycle.closed');
  await page.locator('[data-testid=close-warning] .error-box').waitFor();
  check((await text(page.locator('[data-testid=close-warning]'))).includes(`${d.open} nhiệm vụ chưa đánh giá`), 'the warning counts the open tasks');
  log('closing warns');
}
