// What the browser flows share (admin_flow.mjs; ui_flow.mjs keeps its own copy until
// it is moved over): the environment, launching Debian's Chromium, signing in and out
// with the keyboard, and checkPage: axe-core with no serious or critical violation, no
// Content-Security-Policy violation, no sideways scroll at phone width, and a
// screenshot at desktop and phone width into FAXBRIDGE_UI_ARTIFACTS.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`browser flow: ${name} is not set`);
  return v;
};
const require = createRequire(env('FAXBRIDGE_WEB_PACKAGE'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const base = env('FAXBRIDGE_UI_URL');
export const artifacts = env('FAXBRIDGE_UI_ARTIFACTS');
export const kDesktop = { width: 1280, height: 900 };
export const kPhone = { width: 390, height: 844 };
mkdirSync(artifacts, { recursive: true });

export const problems = [];
export const stepper = (flow) => (s) => console.log(`${flow}: ${s}`);

export async function checkPage(page, name, step) {
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

export async function signIn(page, who) {
  await page.waitForSelector('#username');
  await page.focus('#username');
  await page.keyboard.type(who.user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('header.top');
}

export async function signOut(page) {
  await page.getByRole('button', { name: /Sign out|Esci/ }).click();
  await page.waitForSelector('#username');
}

// A browser and a page that records script errors and policy violations as problems.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport: kDesktop, acceptDownloads: true, locale: 'en-GB' });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.log(`browser console: ${m.text()}`));
  return { browser, page };
}

// Ends the flow: every problem on stderr and exit 1, else "passed".
export function finish(step) {
  if (problems.length > 0) {
    for (const p of problems) console.error(`FAILED: ${p}`);
    process.exit(1);
  }
  step('passed');
}
