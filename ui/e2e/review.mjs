// The send-back stories' shared steps (sendback.mjs, cutpull.mjs): a project on a real
// voices-server whose coordinator reviews in the console (Debian's Chromium through
// playwright-core from console/), the app linked to it, and the enumerator's fix of a
// returned response in the app window.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';
import { fillUntil, jump, onPage, shot } from './helpers.mjs';
import { PROJECT, ROOT, SERVER } from './server.mjs';

const { chromium } = createRequire(join(ROOT, 'console', 'package.json'))('playwright-core');
export const COORDINATOR = { user: 'cora', password: 'e2e-coordinator-pw-2' };

/** The project, its form, the coordinator and a device of enumerator Amina on `server`
 *  (not started yet), the device told to reach it at `deviceUrl`; the provisioning code. */
export function setUpProject(server, deviceUrl = server.url) {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  server.adminWith({ VOICES_PASSWORD: COORDINATOR.password }, 'user', 'add', COORDINATOR.user, '--role', 'coordinator', '--project', PROJECT);
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Amina', '--server', deviceUrl);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  return code;
}

/** The console in Chromium, signed in as the coordinator (the server started);
 *  `problems` collects the page's uncaught errors. */
export async function openConsole(server) {
  const home = await fetch(`${server.url}/`).then((r) => r.text());
  assert.match(home, /<script/i, `${SERVER} serves no console: build it with --features console`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`console page error: ${e.message}`));
  try {
    await page.goto(`${server.url}/`);
    await page.getByLabel('User name').fill(COORDINATOR.user);
    await page.getByLabel('Password').fill(COORDINATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
  } catch (e) {
    await browser.close();
    throw e;
  }
  return { browser, page, problems };
}

/** In the console: send response `id` back with `comment`, and `note` on the age. */
export async function sendBack(page, server, id, { comment, note }) {
  await page.goto(`${server.url}/p/${PROJECT}/responses/${id}`);
  await page.locator('[data-comment-on="/age"]').click();
  await page.locator('[data-note-for="/age"]').fill(note);
  await page.getByTestId('send-back-comment').fill(comment);
  await page.getByTestId('send-back').click();
  await page.getByTestId('resubmission').waitFor();
  await page.getByTestId('no-changes').waitFor();
}

/** In the console: the row saying the age changed since response `id` was sent back,
 *  once its resubmission is there (the page reloaded until then); `null` if it never is. */
export async function ageChange(page, server, id) {
  await page.goto(`${server.url}/p/${PROJECT}/responses/${id}`);
  for (let i = 0; i < 20; i++) {
    await page.getByTestId('resubmission').waitFor();
    const changed = page.locator('[data-changed="/age"]');
    if (await changed.count()) return changed;
    await sleep(500);
    await page.reload();
  }
  return null;
}

/** Response `id`'s history on the server as the coordinator reads it (oldest first). */
export async function history(page, server, id) {
  const r = await page.request.get(`${server.url}/api/v1/projects/${PROJECT}/responses/${id}/history`);
  assert.equal(r.status(), 200, `history of ${id}`);
  return r.json();
}

/** Link the app to the server with provisioning `code`. */
export async function linkDevice(d, code) {
  await (await d.find('[data-testid="tab-sync"]')).click();
  await (await d.find('[data-testid="sync-code"]')).type(code);
  await (await d.find('[data-testid="sync-link"]')).click();
  await d.find('[data-testid="sync-state"]', { timeout: 20000 });
}

/** Open returned response `id` from the Returned list, on the page with the age. */
export async function openReturned(d, id) {
  await (await d.find('[data-testid="tab-returned"]')).click();
  await (await d.find(`[data-testid="returned"] [data-response="${id}"] [data-testid="fix"]`)).click();
  await d.find('main[data-page]');
  await jump(d, 2);
  await onPage(d, '/respondent');
}

/** From an open interview: on to the review and finalize it again. */
export async function finalizeAgain(d) {
  await jump(d, -1);
  await fillUntil(d, '__review__');
  await (await d.find('[data-testid="review"]')).click();
  await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
  await d.find('main[data-mode="done"]');
  await (await d.find('main[data-mode="done"] button:last-child')).click();
}

/** After a failed step: a screenshot of the window, and what the window and the console
 *  showed, in the log. */
export async function showFailure(d, page, name) {
  await shot(d, name).catch(() => {});
  const html = await d.exec('return document.body.innerText').catch(() => '');
  console.log(`# the window showed:\n${String(html).slice(0, 1500)}`);
  const consoleText = await page.locator('body').innerText().catch(() => '');
  console.log(`# the console showed:\n${String(consoleText).slice(0, 1500)}`);
}
