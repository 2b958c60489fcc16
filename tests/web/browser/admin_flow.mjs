// The administration pages in headless Chromium against web-api (started by
// tests/web/web_ui_browser_test.cpp with a throw-away Postgres). An administrator
// changes the default permission level; adds a user with every field and finds each
// one back through the API; edits and disables the user; imports two users from a CSV
// file (one row refused, by its line); makes a group with a member and changes its
// members; adds a route with two gateway addresses (their order and health shown);
// on the settings pages tries the mailbox (nothing saved when it fails),
// is stopped by a value out of the catalog's bounds, and saves two settings; reads the dashboard's chart data (the API's
// 24 hours) and sees its queue move as faxes are submitted; uploads a cover page (a script
// refused), sees its preview, makes it the default and deletes it; makes an API token for a
// user and revokes it; finds its own user changes in the audit log. A fax user sees no admin navigation and no admin page at its address.
// axe-core and screenshots on every page (common.mjs).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, base, checkPage, env, finish, launch, problems, signIn, signOut, stepper } from './common.mjs';

const step = stepper('admin_flow');
const administrator = { user: env('FAXBRIDGE_UI_ADMIN'), password: env('FAXBRIDGE_UI_PASSWORD') };
const faxUser = { user: env('FAXBRIDGE_UI_SENDER'), password: env('FAXBRIDGE_UI_PASSWORD') };
const json = async (page, path) => {
  const r = await page.request.get(base + path);
  assert.equal(r.status(), 200, path);
  return r.json();
};
const userNamed = async (page, username) =>
  (await json(page, `/api/v1/admin/users?q=${encodeURIComponent(username)}`)).users.find((u) => u.username === username);

const { browser, page } = await launch();
try {
  await page.goto(base + '/admin/users');
  step('sign in as administrator');
  await signIn(page, administrator);
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Users' }).getAttribute('aria-current'), 'page');

  // ---- the default permission level --------------------------------------------------
  await page.waitForSelector('#default-level:not([disabled])');
  assert.equal(await page.inputValue('#default-level'), String((await json(page, '/api/v1/admin/users/default-level')).level));
  await page.selectOption('#default-level', '0');
  await page.getByText('Default level saved.').waitFor();
  assert.equal((await json(page, '/api/v1/admin/users/default-level')).level, 0);
  await page.selectOption('#default-level', '2');
  await page.getByText('Default level saved.').waitFor();
  assert.equal((await json(page, '/api/v1/admin/users/default-level')).level, 2);

  // ---- add a user with every field --------------------------------------------------
  step('add a user');
  await page.getByRole('button', { name: 'Add a user' }).click();
  await page.getByRole('heading', { name: 'New user' }).waitFor();
  await page.fill('#user-username', 'carla');
  await page.fill('#user-password', 'carla-password-1');
  await page.fill('#user-name', 'Carla Verdi');
  await page.fill('#user-email', 'carla@example.test');
  await page.fill('#user-fax_number', '405');
  await page.fill('#user-phone', '+39 02 555 0101');
  await page.fill('#user-company', 'Imagicle');
  await page.selectOption('#user-level', '10');
  await page.selectOption('#user-language', 'it');
  await page.uncheck('#user-enable_send');
  await page.check('#user-fax_to_email');
  await page.fill('#user-fax_to_email_address', 'carla.fax@example.test');
  await page.uncheck('#user-fax_to_email_attach');
  await checkPage(page, 'admin-user-new', step);
  await page.getByRole('button', { name: 'Save user' }).click();
  const carlaRow = page.locator('table.users tr[data-username=carla]');
  await carlaRow.waitFor();
  assert.match(await carlaRow.textContent(), /Carla Verdi.*405.*10 · fax administrator/);
  const carla = await userNamed(page, 'carla');
  assert.deepEqual(
    { name: carla.name, email: carla.email, fax: carla.fax_number, phone: carla.phone, company: carla.company, level: carla.level,
      inherited: carla.level_inherited, lang: carla.language, send: carla.enable_send, receive: carla.enable_receive,
      f2e: carla.fax_to_email, f2eAddress: carla.fax_to_email_address, attach: carla.fax_to_email_attach, pw: carla.has_password },
    { name: 'Carla Verdi', email: 'carla@example.test', fax: '405', phone: '+39 02 555 0101', company: 'Imagicle', level: 10,
      inherited: false, lang: 'it', send: false, receive: true, f2e: true, f2eAddress: 'carla.fax@example.test', attach: false, pw: true },
  );
  await checkPage(page, 'admin-users', step);

  // ---- edit: only what changed is sent; the level back to the default ---------------
  step('edit and disable');
  await carlaRow.getByRole('button', { name: 'Edit carla' }).click();
  assert.equal(await page.inputValue('#user-name'), 'Carla Verdi');
  assert.equal(await page.inputValue('#user-password'), '', 'a password is never shown');
  await page.fill('#user-phone', '+39 02 555 0199');
  await page.selectOption('#user-level', '');
  await page.getByRole('button', { name: 'Save user' }).click();
  await page.getByRole('heading', { name: 'Edit carla' }).waitFor({ state: 'detached' });
  await carlaRow.filter({ hasText: '2 · fax user (default)' }).waitFor();
  const edited = await userNamed(page, 'carla');
  assert.equal(edited.phone, '+39 02 555 0199');
  assert.equal(edited.level_inherited, true);
  assert.equal(edited.name, 'Carla Verdi', 'a field not touched keeps its value');
  await carlaRow.getByRole('button', { name: 'Disable carla' }).click();
  await page.locator('table.users tr[data-username=carla][data-disabled=true]').waitFor();
  assert.equal((await userNamed(page, 'carla')).disabled, true);
  await carlaRow.getByRole('button', { name: 'Enable carla' }).click();
  await page.locator('table.users tr[data-username=carla][data-disabled=false]').waitFor();
  assert.equal((await userNamed(page, 'carla')).disabled, false);

  // ---- bulk import from CSV ----------------------------------------------------------
  step('import CSV');
  await page.setInputFiles('#users-csv', {
    name: 'users.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('username,name,email,fax_number,level,fax_to_email\r\ndario,"Neri, Dario",dario@example.test,406,2,yes\r\nelena,,,407,7,\r\nfranco,Franco,,405,,\r\n'),
  });
  await page.locator('.import-summary', { hasText: '1 added, 2 not added.' }).waitFor();
  const lines = await page.$$eval('.import-lines li', (l) => l.map((li) => [li.dataset.ok, li.textContent]));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], ['true', 'Line 2: dario added']);
  assert.deepEqual(lines.slice(1).map((l) => l[0]), ['false', 'false']);
  assert.match(lines[1][1], /^Line 3: level “7”/);
  assert.match(lines[2][1], /^Line 4: franco: /); // 405 is carla's: the server's own sentence
  const dario = await userNamed(page, 'dario');
  assert.equal(dario.name, 'Neri, Dario');
  assert.equal(dario.fax_number, '406');
  assert.equal(dario.fax_to_email, true);
  assert.equal(await userNamed(page, 'franco'), undefined);
  await page.locator('table.users tr[data-username=dario]').waitFor();
  await checkPage(page, 'admin-users-import', step);

  // ---- groups --------------------------------------------------------------------------
  step('groups');
  await nav.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
  await page.getByText('No groups yet.').waitFor();
  await page.fill('#group-name', 'Sales');
  await page.fill('#group-number', '480');
  await page.fill('#group-members', 'carla');
  await page.getByRole('button', { name: 'Add a group' }).click();
  const sales = page.locator('li.group[data-name=Sales]');
  await sales.waitFor();
  let groups = (await json(page, '/api/v1/admin/groups')).groups;
  assert.deepEqual(groups.map((g) => [g.name, g.fax_number, g.members.map((m) => m.username)]), [['Sales', '480', ['carla']]]);
  await sales.getByLabel('Members (usernames)').fill('carla, dario');
  await sales.getByRole('button', { name: 'Save members' }).click();
  await sales.getByText('Members saved.').waitFor();
  groups = (await json(page, '/api/v1/admin/groups')).groups;
  assert.deepEqual(groups[0].members.map((m) => m.username).sort(), ['carla', 'dario']);
  await sales.getByLabel('Members (usernames)').fill('carla, nobody');
  await sales.getByRole('button', { name: 'Save members' }).click();
  await sales.getByText('Members not saved: “nobody”?').waitFor();
  await checkPage(page, 'admin-groups', step);

  // ---- a route with two gateway addresses, in order ----------------------------------
  step('routes');
  await nav.getByRole('link', { name: 'Routes' }).click();
  await page.getByRole('heading', { level: 1, name: 'IP routes' }).waitFor();
  await page.getByRole('button', { name: 'Add a route' }).click();
  await page.fill('#route-new-prefix', '+3906');
  await page.fill('#route-new-description', 'Rome office');
  await page.selectOption('#route-new-policy', 'require');
  await page.fill('#route-new-gateways', 'pbx-b.example.test:5060 tcp\npbx-a.example.test:5070\nbad:1 sctp');
  await page.getByRole('button', { name: 'Save route' }).click();
  await page.getByText('line 3: transport “sctp” is not udp, tcp or tls').waitFor();
  await page.fill('#route-new-gateways', 'pbx-b.example.test:5060 tcp\npbx-a.example.test:5070');
  await page.getByRole('button', { name: 'Save route' }).click();
  const rome = page.locator('li.route[data-prefix="+3906"]');
  await rome.waitFor();
  assert.deepEqual(await rome.locator('.gateways li').evaluateAll((l) => l.map((li) => li.dataset.address)),
    ['pbx-b.example.test:5060', 'pbx-a.example.test:5070']);
  const routes = (await json(page, '/api/v1/admin/routes')).routes;
  const saved = routes.find((r) => r.prefix === '+3906');
  assert.deepEqual(saved.gateways.map((g) => [g.address, g.transport]), [['pbx-b.example.test:5060', 'tcp'], ['pbx-a.example.test:5070', 'udp']]);
  assert.equal(saved.t38_policy, 'require');
  assert.equal(saved.description, 'Rome office');
  // Each address shows its health as the API has it (no gateway pings here: not checked yet).
  assert.deepEqual(await rome.locator('[data-health]').evaluateAll((l) => l.map((b) => b.dataset.health)),
    saved.gateways.map((g) => g.health.state));
  await checkPage(page, 'admin-routes', step);

  // ---- settings, by the catalog ------------------------------------------------------
  step('settings');
  const setting = async (key) => (await json(page, `/api/v1/admin/settings/${key}`));
  await nav.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { level: 2, name: 'Outgoing faxes (mailbox)' }).waitFor();
  assert.equal(await page.getAttribute('#setting-mail-password', 'type'), 'password', 'a secret is a password field');
  assert.equal(await page.inputValue('#setting-mail-password'), '');
  // The Test button tries the form's values for real: no mailbox here, so it says why and saves nothing.
  await page.fill('#setting-mail-host', '127.0.0.1');
  await page.fill('#setting-mail-port', '1');
  await page.selectOption('#setting-mail-protocol', 'imap'); // nothing listens on port 1: refused at once
  await page.getByRole('button', { name: 'Test the mailbox and save' }).click();
  await page.locator('form.settings p[role=alert]:not(:empty)').waitFor();
  assert.equal((await setting('mail.host')).is_default, true, 'a failed test saves nothing');
  await checkPage(page, 'admin-settings-mailbox', step);
  await page.getByRole('link', { name: 'Service configuration' }).click();
  await page.getByRole('heading', { level: 2, name: 'Service configuration' }).waitFor();
  const attempts = await setting('fax.max_attempts');
  assert.equal(await page.getAttribute('#setting-fax-max-attempts', 'max'), String(attempts.constraints.maximum));
  await page.fill('#setting-fax-max-attempts', String(attempts.constraints.maximum + 1));
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('[data-key="fax.max_attempts"] .error', { hasText: `at most ${attempts.constraints.maximum}` }).waitFor();
  assert.equal((await setting('fax.max_attempts')).value, attempts.value, 'refused before it is sent');
  await page.fill('#setting-fax-max-attempts', '5');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.equal((await setting('fax.max_attempts')).value, 5);
  await checkPage(page, 'admin-settings-service', step);
  await page.getByRole('link', { name: 'Company info' }).click();
  await page.fill('#setting-company-name', 'Imagicle S.p.A.');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.equal((await setting('company.name')).value, 'Imagicle S.p.A.');
  await page.reload();
  assert.equal(await page.inputValue('#setting-company-name'), 'Imagicle S.p.A.');
  await checkPage(page, 'admin-settings-company', step);

  // ---- the dashboard: its figures are the API's, and move as faxes are submitted -----
  step('dashboard');
  await nav.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor();
  await page.waitForFunction(() => document.querySelector('.chart')?.__uplot?.data?.[0]?.length === 24);
  await page.evaluate(() => (window.__sameDocument = true));
  const chartData = () => page.evaluate(() => document.querySelector('.chart').__uplot.data.map((s) => [...s]));
  const stats = await json(page, '/api/v1/stats');
  const drawn = await chartData();
  assert.deepEqual(drawn[0], stats.hourly.map((h) => Date.parse(h.hour) / 1000), 'the chart shows the API\'s 24 hours');
  assert.deepEqual(drawn[1], stats.hourly.map((h) => h.sent + h.partially_sent));
  assert.deepEqual(drawn[2], stats.hourly.map((h) => h.failed));
  const queued = async () => Number(await page.getAttribute('table.queue tr[data-state=submitted]', 'data-count'));
  const before = await queued();
  assert.equal(before, stats.queue.submitted);
  await checkPage(page, 'admin-dashboard', step);
  // Three faxes through the API (no converter runs here, so they stay submitted): the
  // queue's bar and the waiting figure move on the next refresh, without a reload.
  const csrf = (await json(page, '/api/v1/me')).csrf_token;
  const upload = await page.request.post(base + '/api/v1/files', {
    headers: { 'X-CSRF-Token': csrf },
    multipart: { file: { name: 'memo.txt', mimeType: 'text/plain', buffer: Buffer.from('The dashboard test.\n') } },
  });
  assert.equal(upload.status(), 201, await upload.text());
  const submitted = await page.request.post(base + '/api/v1/faxes', {
    headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    data: { to: ['403', '404', '405'], files: [(await upload.json()).id], cover_page: '' },
  });
  assert.equal(submitted.status(), 201, await submitted.text());
  await page.waitForFunction((n) => Number(document.querySelector('table.queue tr[data-state=submitted]')?.dataset.count) === n, before + 3);
  assert.match(await page.textContent('[data-figure=oldest] .what'), /waiting longest: (\d{4}\.\d{8}|#\d+) \(submitted\)/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the dashboard updated without a reload');

  // ---- cover pages: upload an SVG, see its preview, make it the default, delete it ---
  step('cover pages');
  await nav.getByRole('link', { name: 'Cover pages' }).click();
  await page.getByRole('heading', { level: 1, name: 'Cover pages' }).waitFor();
  const svg = (body) => ({ name: 'memo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1728" height="2200" viewBox="0 0 1728 2200">${body}</svg>`) });
  await page.fill('#cover-name', 'memo');
  await page.setInputFiles('#cover-file', svg('<script>alert(1)</script><text x="100" y="200">x</text>'));
  await page.getByRole('button', { name: 'Upload a cover page' }).click();
  await page.locator('p[role=alert]:not(:empty)').first().waitFor(); // a script is refused, with the server's reason
  assert.equal((await json(page, '/api/v1/admin/cover-pages')).cover_pages.some((c) => c.name === 'memo'), false);
  await page.setInputFiles('#cover-file', svg('<rect x="80" y="80" width="1568" height="300" fill="none" stroke="#000" stroke-width="6"/><text x="120" y="260" font-size="96">Memo for {{recipient_name}}</text>'));
  await page.check('#cover-default');
  await page.getByRole('button', { name: 'Upload a cover page' }).click();
  const memo = page.locator('li.cover[data-name=memo][data-default=true]');
  await memo.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('li.cover[data-name=memo] img');
    return img && img.complete && img.naturalWidth > 0;
  });
  let covers = await json(page, '/api/v1/admin/cover-pages');
  assert.equal(covers.default, 'memo');
  await checkPage(page, 'admin-cover-pages', step);
  await memo.getByRole('button', { name: 'Delete the cover page memo' }).click();
  await page.locator('li.cover[data-name=memo]').waitFor({ state: 'detached' });
  covers = await json(page, '/api/v1/admin/cover-pages');
  assert.equal(covers.cover_pages.some((c) => c.name === 'memo'), false);
  assert.equal(covers.default, null, 'deleting the default leaves none, as the seed says');

  // ---- API tokens: made for a user, shown once, working until revoked ----------------
  step('tokens');
  await nav.getByRole('link', { name: 'API tokens' }).click();
  await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
  await page.fill('#token-user', 'carla');
  await page.fill('#token-name', 'ERP integration');
  await page.fill('#token-days', '30');
  await page.getByRole('button', { name: 'Make a token' }).click();
  const tokenText = await page.locator('code.token-text').textContent();
  assert.match(tokenText, /^fbx_[A-Za-z0-9_-]{43}$/);
  const tokenRow = page.locator('table.tokens tr[data-name="ERP integration"]');
  await tokenRow.waitFor();
  assert.match(await tokenRow.textContent(), /carla/);
  const asCarla = async () => (await fetch(base + '/api/v1/me', { headers: { Authorization: `Bearer ${tokenText}` } })).status;
  assert.equal(await asCarla(), 200, 'the new token signs carla in');
  await checkPage(page, 'admin-tokens', step);
  await tokenRow.getByRole('button', { name: 'Revoke the token ERP integration' }).click();
  await page.locator('table.tokens tr[data-name="ERP integration"][data-revoked=true]').waitFor();
  assert.equal(await asCarla(), 401, 'a revoked token is refused');

  // ---- the audit log: what this administrator just did, filtered by action -----------
  step('audit log');
  await nav.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await page.fill('#audit-action', 'user.');
  await page.press('#audit-action', 'Enter');
  const userEvents = (await json(page, '/api/v1/admin/audit?action=user.&limit=50')).events;
  assert.ok(userEvents.some((e) => e.object_id === String(carla.id)), 'carla\'s creation is audited');
  await page.waitForFunction((ids) => {
    const rows = [...document.querySelectorAll('table.audit tbody tr')];
    return rows.length === ids.length && rows.every((r) => r.dataset.action.startsWith('user.'));
  }, userEvents.map((e) => e.id));
  assert.match(await page.textContent('table.audit tbody tr'), new RegExp(administrator.user));
  await checkPage(page, 'admin-audit', step);
  await signOut(page);

  // ---- a fax user: no admin navigation, no admin page -------------------------------
  step('fax user');
  await signIn(page, faxUser); // on the admin page the administrator left: not for them
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  await page.goto(base + '/send');
  await page.getByRole('heading', { level: 1, name: 'Send a fax' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Groups' }).count(), 0);
  await page.goto(base + '/admin/users');
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  assert.equal((await page.request.get(base + '/api/v1/admin/users')).status(), 403);
  writeFileSync(join(artifacts, 'admin-result.json'), JSON.stringify({ users: ['carla', 'dario'], group: 'Sales' }));
} finally {
  for (const p of problems) console.error(`admin_flow: problem: ${p}`);
  await browser.close();
}
finish(step);
