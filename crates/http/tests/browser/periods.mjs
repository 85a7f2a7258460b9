// Drives the period view (cadre evaluation, CONTRACT part A) in Debian's
// headless Chromium: every figure the sheet, the quota box and the products
// show equals what the API answers; then a cadre self-assesses, completes a
// milestone, and a standing-committee member reviews a product and decides
// an assessment (one refused above its ceiling) through the page's forms,
// and the open page follows each without a reload.
//
// Usage: COMMITTEE_TOKEN=... node periods.mjs URL CADRE_TOKEN SCREENSHOT_DIR
// (run by crates/http/tests/browser.rs against a freshly started app).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, cadreToken, shots] = process.argv.slice(2);
const committeeToken = process.env.COMMITTEE_TOKEN;
if (!url || !cadreToken || !shots || !committeeToken) {
  console.error('usage: COMMITTEE_TOKEN=... node periods.mjs URL CADRE_TOKEN SCREENSHOT_DIR');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

let step = 'start';
const problems = [];
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}
const started = Date.now();
function log(text) { console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`); }

// How the page writes numbers (vi-VN, at most two decimals for points and
// factors): the oracle for comparing what it shows with the API's answer.
const fmtNum = (v, digits) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('vi-VN', { maximumFractionDigits: digits }));
const fmtDate = (d) => { const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d || ''); return m ? `${m[3]}/${m[2]}/${m[1]}` : '—'; };
const RATING = { excellent: 'Hoàn thành xuất sắc nhiệm vụ', good: 'Hoàn thành tốt nhiệm vụ', completed: 'Hoàn thành nhiệm vụ', not_completed: 'Không hoàn thành nhiệm vụ' };
const text = async (locator) => ((await locator.textContent()) || '').trim();
async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const tok = localStorage.getItem('dotpha.token');
    const r = await fetch(p, { headers: tok ? { Authorization: 'Bearer ' + tok } : {} });
    return r.json();
  }, path);
}

/** Every figure the view of `period` shows equals the API's; returns the sheet. */
async function periodMatchesApi(page, period) {
  const sheet = await apiGet(page, `/api/v1/periods/${period}/assessments`);
  const quota = await apiGet(page, `/api/v1/periods/${period}/quota`);
  const rows = page.locator('[data-testid=assessment-row]');
  check(await rows.count() === sheet.assessments.length, `one row per cadre: ${await rows.count()} vs ${sheet.assessments.length}`);
  for (const [i, a] of sheet.assessments.entries()) {
    const row = rows.nth(i);
    check(await row.getAttribute('data-cadre') === a.cadre, `row ${i} is ${a.cadre}`);
    for (const [testid, member] of [['self-points', 'self_points'], ['general-points', 'general_points'], ['task-points', 'task_points'], ['total', 'total']]) {
      const shown = await text(row.locator(`[data-testid=${testid}]`));
      check(shown === fmtNum(a[member], 2), `${a.cadre} ${member}: ${shown} vs ${a[member]}`);
    }
    const rating = await text(row.locator('[data-testid=rating]'));
    check(a.rating ? rating.startsWith(RATING[a.rating]) : rating === 'Chưa quyết định', `${a.cadre} rating: ${rating}`);
    const ceiling = await text(row.locator('[data-testid=ceiling]'));
    check(a.ceiling ? ceiling.startsWith(RATING[a.ceiling]) : ceiling === '—', `${a.cadre} ceiling: ${ceiling}`);
    const reason = row.locator('[data-testid=ceiling-reason]');
    check(await reason.count() === (a.ceiling_reason ? 1 : 0), `${a.cadre}: the ceiling's reason shown exactly when there is one`);
    if (a.ceiling_reason) check(await reason.getAttribute('data-reason') === a.ceiling_reason, `${a.cadre} reason`);
    check(await text(row.locator('[data-testid=products-done]')) === `${a.products_done}/${a.products.length}`, `${a.cadre} products done`);
    check(await text(row.locator('[data-testid=products-on-time]')) === `${a.products_on_time} đúng hạn`, `${a.cadre} on time`);
    const products = page.locator(`[data-testid=products][data-cadre="${a.cadre}"] [data-testid=product]`);
    check(await products.count() === a.products.length, `${a.cadre}: every product listed`);
    for (const [j, p] of a.products.entries()) {
      const shown = products.nth(j);
      check(await shown.getAttribute('data-task-id') === p.task_id && await shown.getAttribute('data-milestone') === (p.milestone || ''), `${a.cadre} product ${j}`);
      check(await shown.getAttribute('data-status') === p.status, `${a.cadre} product ${j} status`);
      check(await text(shown.locator('[data-testid=product-due]')) === fmtDate(p.due), 'due');
      check(await text(shown.locator('[data-testid=product-done-on]')) === (p.done_on ? fmtDate(p.done_on) : '—'), 'done on');
      for (const f of ['q', 'l', 'p']) {
        check(await text(shown.locator(`[data-testid=product-${f}]`)) === fmtNum(p[f], 2), `${a.cadre} product ${j} ${f}`);
      }
    }
  }
  const groups = page.locator('[data-testid=quota-group]');
  check(await groups.count() === quota.groups.length, 'one line per quota group');
  for (const [i, g] of quota.groups.entries()) {
    const shown = groups.nth(i);
    check(await shown.getAttribute('data-unit') === g.evaluating_unit && await shown.getAttribute('data-group') === g.peer_group, `group ${i}`);
    check(await text(shown.locator('[data-testid=quota-line]')) === `${g.excellent} xuất sắc / ${g.good} tốt, giới hạn ${g.limit}`, `quota line of ${g.peer_group}`);
    check(await shown.getAttribute('data-exceeded') === String(g.exceeded), 'exceeded');
  }
  return sheet;
}

async function submit(page, type) {
  const slug = type.replace('.', '-');
  await page.click(`[data-testid=submit-${slug}]`);
  await page.locator(`#result-${slug} [data-testid=form-ok], #result-${slug} [data-testid=form-error]`).first().waitFor();
  return page.locator(`#result-${slug} [data-testid=form-ok]`).count();
}

async function waitForCell(page, cadre, testid, want) {
  await page.waitForFunction(([c, id, w]) => {
    const el = document.querySelector(`[data-testid=assessment-row][data-cadre="${c}"] [data-testid=${id}]`);
    return el && el.textContent.trim().startsWith(w);
  }, [cadre, testid, want], { timeout: 20000 });
}

const browser = await chromium.launch({
  executablePath,
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
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 422/.test(m.text())) problems.push(`console error: ${m.text()}`); });

  // ---- the quarter's sheet, quota and products
  step = 'quarter';
  await page.goto(url + '/#/periods');
  await page.evaluate((tok) => localStorage.setItem('dotpha.token', tok), cadreToken);
  await page.goto(url + '/#/period/2021-q2');
  await page.locator('[data-testid=assessment-row]').first().waitFor();
  check((await text(page.locator('h1'))).includes('Đánh giá cán bộ theo kỳ'), 'Vietnamese title');
  const sheet = await periodMatchesApi(page, '2021-q2');
  check(sheet.assessments.some((a) => a.rating === 'excellent' && a.quota_exceeded), 'an excellent rating over the quota in the data');
  check(await page.locator('[data-testid=quota-group][data-exceeded=true]').count() === 1, 'the group over the quota is flagged');
  await page.locator('[data-testid=products-row][data-cadre=hoang-the-manh] summary').click();
  await page.screenshot({ path: join(shots, 'period.png'), fullPage: true });
  log('quarter ok');

  // ---- the cadre self-assesses through the page; the sheet follows live
  step = 'self-assessment';
  await page.fill('#form-assessment-self_submitted [data-testid=field-general_points]', '28,5');
  check(await submit(page, 'assessment.self_submitted') === 1, 'the self-assessment is accepted');
  await waitForCell(page, 'hoang-the-manh', 'self-points', '28,5');
  log('self-assessment ok');

  // ---- a milestone completed, seen in the year
  step = 'milestone';
  await page.click('[data-testid="tab-milestone.completed"]');
  await page.locator('#form-milestone-completed').waitFor();
  await page.fill('#form-milestone-completed [data-testid=field-task_id]', 'ndp-2021-02');
  await page.fill('#form-milestone-completed [data-testid=field-milestone]', 'Tổng kết');
  await page.fill('#form-milestone-completed [data-testid=field-completed_on]', '20/11/2021');
  check(await submit(page, 'milestone.completed') === 1, 'the milestone is recorded');

  // ---- the committee reviews a product and decides
  step = 'committee';
  await page.evaluate((tok) => localStorage.setItem('dotpha.token', tok), committeeToken);
  await page.goto(url + '/#/period/2021?form=product.reviewed&task=ndp-2021-02&milestone=Tổng kết');
  await page.locator('#form-product-reviewed').waitFor();
  check(await page.inputValue('#form-product-reviewed [data-testid=field-milestone]') === 'Tổng kết', 'the product link fills the form');
  await page.fill('#form-product-reviewed [data-testid=field-major_errors]', '1');
  check(await submit(page, 'product.reviewed') === 1, 'the review is recorded');
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=products][data-cadre=hoang-the-manh] [data-testid=product][data-milestone="Tổng kết"] [data-testid=product-l]');
    return el && el.textContent.trim() === '0,75';
  }, null, { timeout: 20000 });
  await periodMatchesApi(page, '2021');
  log('review ok');

  await page.goto(url + '/#/period/2021-q2?form=assessment.decided');
  await page.locator('#form-assessment-decided').waitFor();
  await page.locator('[data-testid=assessment-row]').first().waitFor();
  const form = '#form-assessment-decided';
  await page.fill(`${form} [data-testid=field-cadre]`, 'chu-tich-tu-thinh');
  await page.fill(`${form} [data-testid=field-peer_group]`, 'chu-tich-xa');
  await page.fill(`${form} [data-testid=field-general_points]`, '22');
  await page.selectOption(`${form} [data-testid=field-rating]`, 'good');
  check(await submit(page, 'assessment.decided') === 0, 'a rating above the ceiling is refused');
  check(await page.locator(`${form} [data-testid=form-error]`).getAttribute('data-field') === 'data.rating', 'the refusal names the rating');
  check(await page.locator(`${form} [data-testid=field-error]`).count() === 1, 'shown beside the field');
  await page.selectOption(`${form} [data-testid=field-rating]`, '');
  check(await submit(page, 'assessment.decided') === 1, 'the decision is recorded');
  await waitForCell(page, 'chu-tich-tu-thinh', 'total', '22');
  await periodMatchesApi(page, '2021-q2');
  log('decision ok');

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
