// The web UI in Debian's headless Chromium (playwright-core, executablePath) against
// the real suite that tests/web/web_ui_browser_test.cpp starts (Postgres, bus, router,
// converter, two media gateways on the loopback line, web-api serving the built UI).
// One user's day, as the issue asks: sign in (keyboard only); send two PDFs (one picked,
// one dropped) to a number checked as typed and watch the fax reach "sent" in the
// outbox without a page load; read its attempts and thumbnails; find it by reference;
// schedule a second fax for tomorrow and cancel it; change preferences and see them after a reload (and the pages turn Italian); then the
// receiving user finds the fax unread in their inbox with a thumbnail, downloads the
// PDF (which the C++ test decodes) and marks it read; a level-0 user sees no fax pages;
// and the sender sends the cancelled fax again. Meanwhile an administrator's dashboard,
// open in a second session, shows the sent fax in its chart's data by its own refresh.
// On every page: axe-core with no serious or critical violation, no Content-Security-
// Policy violation, no script error, no horizontal scroll at phone width, and a
// screenshot at desktop and phone width into FAXBRIDGE_UI_ARTIFACTS.
// Waits are for states (a selector, an event), with deadlines only against a hang.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`ui_flow: ${name} is not set`);
  return v;
};
const require = createRequire(env('FAXBRIDGE_WEB_PACKAGE'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = env('FAXBRIDGE_UI_URL');
const artifacts = env('FAXBRIDGE_UI_ARTIFACTS');
const pdfPath = env('FAXBRIDGE_UI_PDF');
const sender = { user: env('FAXBRIDGE_UI_SENDER'), password: env('FAXBRIDGE_UI_PASSWORD') };
const receiver = { user: env('FAXBRIDGE_UI_RECEIVER'), password: env('FAXBRIDGE_UI_PASSWORD'), number: env('FAXBRIDGE_UI_RECEIVER_NUMBER') };
const noAccess = { user: env('FAXBRIDGE_UI_NO_ACCESS'), password: env('FAXBRIDGE_UI_PASSWORD') };
const administrator = { user: env('FAXBRIDGE_UI_ADMIN'), password: env('FAXBRIDGE_UI_PASSWORD') };
const expectedPolicy = env('FAXBRIDGE_UI_POLICY');
// A fax call runs in real time (~10-30 s a page); this is for a hung test only.
const kFaxDeadlineMs = 15 * 60 * 1000;
const kDesktop = { width: 1280, height: 900 };
const kPhone = { width: 390, height: 844 };
mkdirSync(artifacts, { recursive: true });

const step = (s) => console.log(`ui_flow: ${s}`);
const problems = [];

// axe on the page as it is; screenshots at both widths; no sideways scroll on a phone.
async function checkPage(page, name) {
  await page.evaluate(axeSource); // CDP evaluation: not subject to the page's CSP
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) problems.push(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  for (const v of await page.evaluate(() => window.__cspViolations ?? [])) {
    problems.push(`${name}: Content-Security-Policy violation: ${v}`);
  }
  step(`${name}: axe ${result.passes.length} rules passed, ${result.violations.length} violations (${bad.length} serious or critical)`);
  await page.setViewportSize(kPhone);
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (sideways > 0) problems.push(`${name}: scrolls sideways by ${sideways}px at phone width`);
  await page.screenshot({ path: join(artifacts, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(kDesktop);
  await page.screenshot({ path: join(artifacts, `${name}-desktop.png`), fullPage: true });
}

async function signIn(page, who) {
  await page.waitForSelector('#username');
  // Keyboard only: focus the field, type, Tab to the password, Enter submits.
  await page.focus('#username');
  await page.keyboard.type(who.user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('header.top');
}

async function signOut(page) {
  await page.getByRole('button', { name: /Sign out|Esci/ }).click();
  await page.waitForSelector('#username');
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const context = await browser.newContext({ viewport: kDesktop, acceptDownloads: true, locale: 'en-GB' });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.log(`ui_flow: console: ${m.text()}`));

  // ---- the page as served: its policy and cache headers --------------------------
  const first = await page.goto(base + '/outbox');
  assert.equal(first.status(), 200);
  assert.equal(first.headers()['content-security-policy'], expectedPolicy);
  assert.equal(first.headers()['cache-control'], 'no-cache');
  const scriptUrl = await page.getAttribute('script[type=module]', 'src');
  assert.match(scriptUrl, /^\/assets\/.+\.js$/);
  const script = await page.request.get(base + scriptUrl);
  assert.equal(script.headers()['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await page.$$('script:not([src])')).length, 0, 'no inline script in the page');

  // ---- sign in ----------------------------------------------------------------------
  step('sign in');
  await page.waitForSelector('#username');
  await checkPage(page, 'sign-in');
  await signIn(page, sender);
  // The page asked for (/outbox) is the page shown after signing in.
  await page.getByRole('heading', { level: 1, name: 'Outbox' }).waitFor();
  await page.evaluate(() => (window.__sameDocument = true)); // gone if the page reloads

  // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

  // ---- an administrator's dashboard, open beside the sender (its own session) --------
  const adminContext = await browser.newContext({ viewport: kDesktop, locale: 'en-GB' });
  const dashboard = await adminContext.newPage();
  dashboard.on('pageerror', (e) => problems.push(`dashboard script error: ${e.message}`));
  await dashboard.goto(base + '/admin/dashboard');
  await signIn(dashboard, administrator);
  await dashboard.getByRole('heading', { level: 1, name: 'Operations' }).waitFor();
  await dashboard.waitForFunction(() => document.querySelector('.chart')?.__uplot?.data?.[0]?.length === 24);
  // What the chart draws (not pixels): the sum of its "sent" series over the 24 hours.
  const drawnSent = () => dashboard.evaluate(() => document.querySelector('.chart').__uplot.data[1].reduce((a, b) => a + b, 0));
  const sentBefore = await drawnSent();

  // ---- send a fax ---------------------------------------------------------------------
  step('send');
  await page.getByRole('link', { name: 'Send a fax' }).click();
  await page.getByRole('heading', { level: 1, name: 'Send a fax' }).waitFor();
  // The numbers are checked as they are typed.
  await page.fill('#numbers', `${receiver.number}, 40x`);
  await page.waitForSelector('#numbers-check li[data-valid=false]');
  assert.match(await page.textContent('#numbers-check li[data-valid=false]'), /40x: has the letter “x”/);
  assert.equal(await page.getAttribute('#numbers', 'aria-invalid'), 'true');
  await page.fill('#numbers', receiver.number);
  await page.waitForSelector('#numbers-check li[data-valid=true]');
  assert.equal(await page.$$eval('#numbers-check li', (l) => l.length), 1);
  // The cover page drop-down is there exactly when the server has cover pages.
  const covers = await (await page.request.get(base + '/api/v1/cover-pages')).json();
  const coverSelect = await page.$('#cover');
  if (covers.cover_pages.length === 0) assert.equal(coverSelect, null, 'no cover pages: no drop-down');
  else {
    assert.equal(await page.$$eval('#cover option', (o) => o.length), covers.cover_pages.length + 2);
    // The page chosen is previewed (drawn by the server in the sender's language's copy).
    await page.selectOption('#cover', covers.cover_pages[0].name);
    await page.waitForFunction((name) => {
      const img = document.querySelector('img.cover-preview');
      return img && img.alt.endsWith(name) && img.complete && img.naturalWidth > 0;
    }, covers.cover_pages[0].name);
    await page.selectOption('#cover', '');
    assert.equal(await page.locator('img.cover-preview').count(), 0, 'no cover page: no preview');
    await page.selectOption('#cover', { index: 0 }); // back to the default
  }
  // One document picked, one dropped.
  await page.setInputFiles('#files', pdfPath);
  const pdfBase64 = readFileSync(pdfPath).toString('base64');
  const dropped = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], 'dropped.pdf', { type: 'application/pdf' }));
    return dt;
  }, pdfBase64);
  await page.dispatchEvent('.drop', 'drop', { dataTransfer: dropped });
  await page.waitForFunction(() => document.querySelectorAll('.uploads li[data-state=ready]').length === 2);
  assert.match(await page.textContent('.uploads'), /dropped\.pdf/);
  await page.fill('#contact', 'Christian Bianchi');
  await page.fill('#company', 'Imagicle');
  await page.fill('#subject', 'Browser test');
  await page.fill('#note', 'Sent from the web UI by the browser test.');
  await checkPage(page, 'send');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const done = page.locator('p.done', { hasText: /Sent to the outbox: \d{4}\.\d{8}/ });
  await done.waitFor();
  const reference = (await done.textContent()).match(/\d{4}\.\d{8}/)[0];
  step(`sent as ${reference}`);

  // ---- the outbox, live -------------------------------------------------------------
  await page.getByRole('link', { name: 'Outbox', exact: true }).first().click();
  const row = page.locator(`li.fax[data-reference="${reference}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Christian Bianchi · Imagicle/);
  await checkPage(page, 'outbox');
  step('waiting for "Sent"');
  await row.locator('[data-status=sent]').waitFor({ timeout: kFaxDeadlineMs });
  assert.equal(await row.locator('.badge').textContent(), 'Sent');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the outbox updated without a reload');
  // The dashboard's chart moved with it, by its own refresh.
  await dashboard.waitForFunction((n) => document.querySelector('.chart').__uplot.data[1].reduce((a, b) => a + b, 0) > n,
    sentBefore, { timeout: kFaxDeadlineMs });
  const stats = await (await dashboard.request.get(base + '/api/v1/stats')).json();
  assert.equal(await drawnSent(), stats.hourly.reduce((n, h) => n + h.sent + h.partially_sent, 0), 'the chart draws the API\'s figures');
  step(`dashboard: sent per hour went from ${sentBefore} to ${await drawnSent()}`);
  await adminContext.close();
  await row.getByRole('button', { name: 'Details' }).click();
  const attempts = row.locator('.attempts li');
  await attempts.first().waitFor();
  const attemptText = await attempts.first().textContent();
  step(`attempt: ${attemptText}`);
  assert.match(attemptText, /^Attempt 1 at .+: sent\./);
  assert.match(attemptText, /pages? sent at \d+ bit\/s over (T\.38|G\.711)/);
  await page.waitForFunction(
    (ref) => {
      const imgs = [...document.querySelectorAll(`li.fax[data-reference="${ref}"] .thumbs img`)];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    reference,
  );
  // Send again is offered for a sent fax, cancel is not.
  assert.equal(await row.getByRole('button', { name: 'Send again' }).count(), 1);
  assert.equal(await row.getByRole('button', { name: 'Cancel' }).count(), 0);
  await checkPage(page, 'outbox-details');

  // ---- a fax scheduled for tomorrow, cancelled ---------------------------------------
  step('schedule and cancel');
  await page.getByRole('link', { name: 'Send a fax' }).click();
  await page.fill('#numbers', receiver.number);
  await page.setInputFiles('#files', pdfPath);
  await page.waitForSelector('.uploads li[data-state=ready]');
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  await page.fill('#send-at', `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}T09:30`);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const scheduledDone = page.locator('p.done', { hasText: /Sent to the outbox: \d{4}\.\d{8}/ });
  await scheduledDone.waitFor();
  const scheduledRef = (await scheduledDone.textContent()).match(/\d{4}\.\d{8}/)[0];
  assert.notEqual(scheduledRef, reference);
  await page.getByRole('link', { name: 'Outbox', exact: true }).first().click();
  const scheduledRow = page.locator(`li.fax[data-reference="${scheduledRef}"]`);
  await scheduledRow.locator('.scheduled', { hasText: /scheduled for .*09:30/ }).waitFor();
  await scheduledRow.getByRole('button', { name: 'Cancel' }).click();
  await scheduledRow.locator('[data-status=cancelled]').waitFor();
  assert.equal(await scheduledRow.locator('.badge').textContent(), 'Cancelled');
  assert.equal(await scheduledRow.getByRole('button', { name: 'Cancel' }).count(), 0);

  // ---- search by reference, number and day ------------------------------------------
  // Two faxes in the outbox now (both to the same number, made today).
  const shown = (refs) =>
    page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('li.fax')].map((li) => li.dataset.reference).sort();
      return JSON.stringify(got) === JSON.stringify([...want].sort());
    }, refs);
  await page.fill('#outbox-search-reference', reference);
  await page.press('#outbox-search-reference', 'Enter');
  await shown([reference]);
  await page.fill('#outbox-search-reference', '1999.00000001');
  await page.press('#outbox-search-reference', 'Enter');
  await page.getByText('No fax matches this search.').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
  await shown([reference, scheduledRef]);
  // The day the faxes were made, from the API (not the clock now: midnight may have passed).
  const listed = await (await page.request.get(`${base}/api/v1/faxes?reference=${reference}`)).json();
  const today = new Date(listed.faxes[0].created_at);
  const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  await page.fill('#outbox-search-number', receiver.number);
  await page.fill('#outbox-search-fromDay', day(today));
  await page.fill('#outbox-search-toDay', day(today));
  await page.press('#outbox-search-number', 'Enter');
  await shown([reference, scheduledRef]);
  await page.fill('#outbox-search-toDay', day(new Date(today.getTime() - 2 * 24 * 3600 * 1000)));
  await page.press('#outbox-search-number', 'Enter');
  await page.getByText('No fax matches this search.').waitFor();
  await page.fill('#outbox-search-toDay', '');
  await page.fill('#outbox-search-number', '999');
  await page.press('#outbox-search-number', 'Enter');
  await page.getByText('No fax matches this search.').waitFor();
  await checkPage(page, 'outbox-search');

  // ---- preferences ------------------------------------------------------------------
  step('preferences');
  await page.getByRole('link', { name: 'Preferences' }).click();
  await page.waitForSelector('#fax-to-email');
  const wasOn = await page.isChecked('#fax-to-email');
  if (!wasOn) await page.check('#fax-to-email');
  await page.fill('#fax-to-email-address', 'alice.fax@example.test');
  await page.uncheck('#attach-fax');
  await checkPage(page, 'preferences');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload(); // a new page load: what shows now comes from the server
  await page.waitForSelector('#fax-to-email');
  assert.equal(await page.isChecked('#fax-to-email'), true);
  assert.equal(await page.inputValue('#fax-to-email-address'), 'alice.fax@example.test');
  assert.equal(await page.isChecked('#attach-fax'), false);
  // The language: the pages turn Italian at once, and stay so after a reload.
  await page.selectOption('#language', 'it');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Salvato.').waitFor();
  await page.waitForFunction(() => document.documentElement.lang === 'it'); // screen readers switch voice
  await page.reload();
  await page.getByRole('link', { name: 'Fax ricevuti' }).waitFor();
  await checkPage(page, 'preferences-italian');
  await page.selectOption('#language', 'en');
  await page.getByRole('button', { name: 'Salva' }).click();
  await page.getByRole('link', { name: 'Inbox' }).waitFor();
  await signOut(page);

  // ---- the receiving user's inbox ----------------------------------------------------
  step('inbox');
  await signIn(page, receiver);
  await page.getByRole('link', { name: 'Inbox' }).click();
  const entry = page.locator('ul.inbox li.fax').first();
  await entry.waitFor({ timeout: kFaxDeadlineMs }); // the inbox polls: no reload needed
  assert.equal(await entry.getAttribute('data-read'), 'false');
  assert.equal(await entry.locator('.badge', { hasText: 'New' }).count(), 1);
  const inboundReference = await entry.getAttribute('data-reference');
  await page.waitForFunction(() => {
    const img = document.querySelector('ul.inbox li.fax img.thumb');
    return img && img.complete && img.naturalWidth > 0;
  });
  await checkPage(page, 'inbox');
  // Every page (up to six) as a thumbnail on demand.
  await entry.getByRole('button', { name: 'Show pages' }).click();
  await page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll('ul.inbox li.fax .thumbs img')];
    return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, Math.min(6, Number((await entry.locator('.pages').textContent()).match(/\d+/)[0])));
  await checkPage(page, 'inbox-pages');
  await entry.getByRole('button', { name: 'Hide pages' }).click();
  await page.fill('#inbox-search-reference', inboundReference);
  await page.press('#inbox-search-reference', 'Enter');
  await page.waitForFunction((ref) => {
    const all = [...document.querySelectorAll('ul.inbox li.fax')];
    return all.length === 1 && all[0].dataset.reference === ref;
  }, inboundReference);
  const pagesText = await entry.locator('.pages').textContent();
  const inboxPages = Number(pagesText.match(/\d+/)[0]);
  const [download] = await Promise.all([page.waitForEvent('download'), entry.getByRole('link', { name: 'Download PDF' }).click()]);
  const pdfOut = join(artifacts, 'received.pdf');
  await download.saveAs(pdfOut);
  assert.match(download.suggestedFilename(), /^fax-\d{4}\.\d{8}\.pdf$/);
  await page.locator('ul.inbox li.fax[data-read=true]').waitFor(); // opening it marked it read
  await entry.getByRole('button', { name: 'Mark unread' }).click();
  await page.locator('ul.inbox li.fax[data-read=false]').waitFor();
  await entry.getByRole('button', { name: 'Mark read' }).click();
  await page.locator('ul.inbox li.fax[data-read=true]').waitFor();
  await checkPage(page, 'inbox-read');
  await signOut(page);

  // ---- a user without fax access ---------------------------------------------------
  step('level 0');
  await signIn(page, noAccess);
  await page.getByRole('heading', { level: 1, name: 'No fax access' }).waitFor();
  assert.equal(await page.locator('nav').count(), 0);
  await page.goto(base + '/inbox'); // a fax page by its address: still none
  await page.getByRole('heading', { level: 1, name: 'No fax access' }).waitFor();
  await checkPage(page, 'no-access');
  await signOut(page);

  // ---- the cancelled fax sent again ---------------------------------------------------
  step('send again');
  await signIn(page, sender);
  await page.getByRole('link', { name: 'Outbox', exact: true }).first().click();
  const cancelledRow = page.locator(`li.fax[data-reference="${scheduledRef}"]`);
  await cancelledRow.getByRole('button', { name: 'Send again' }).click();
  await page.getByText('Sent again as a new fax.').waitFor();
  // A third fax, newest first, not scheduled (a resend goes now).
  const newest = page.locator('li.fax').first();
  await page.waitForFunction((refs) => {
    const r = document.querySelector('li.fax')?.dataset.reference;
    return r && !refs.includes(r);
  }, [reference, scheduledRef]);
  assert.equal(await newest.locator('.scheduled').count(), 0);
  assert.equal(await page.locator('li.fax').count(), 3);

  writeFileSync(join(artifacts, 'result.json'),
    JSON.stringify({ outbound_reference: reference, inbound_reference: inboundReference, inbox_pages: inboxPages, pdf: pdfOut }));
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const p of problems) console.error(`ui_flow: FAILED: ${p}`);
  process.exit(1);
}
step('passed');
