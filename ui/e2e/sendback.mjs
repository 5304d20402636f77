// The send-back story end to end in one run: the real Voices window fills an interview
// and sends it to a real `voices-server`; the coordinator console, in Debian's Chromium
// (playwright-core from console/), sends it back with a comment on the response and one
// on the age; the app (same run) counts it in its header, lists it under Returned with
// neutral facts only and shows the comments next to the question; the enumerator fixes
// the age and finishes again; the console shows what changed since it was sent back and
// approves it; the app shows it approved. Prints "e2e: N passed, N failed".
//
// The server must serve the console (built with `--features console`, as scripts/test.sh
// builds it and ui/e2e/run.sh does).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FORM, fillUntil, jump, launch, onPage, runAll, shot, type } from './helpers.mjs';
import { PROJECT, ROOT, SERVER, Server, finishInterview, freePort, recordState, syncNow, topShot } from './server.mjs';

const { chromium } = createRequire(join(ROOT, 'console', 'package.json'))('playwright-core');
const COORDINATOR = { user: 'cora', password: 'e2e-coordinator-pw-2' };
const AGE_NOTE = 'Is this the age of the respondent or of the head of household?';
const COMMENT = 'Please check the age with the respondent';

async function story() {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  const server = new Server(await freePort());
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  server.adminWith({ VOICES_PASSWORD: COORDINATOR.password }, 'user', 'add', COORDINATOR.user, '--role', 'coordinator', '--project', PROJECT);
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Amina', '--server', server.url);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  await server.start();
  const home = await fetch(`${server.url}/`).then((r) => r.text());
  assert.match(home, /<script/i, `${SERVER} serves no console: build it with --features console`);

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-sendback-')));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`console page error: ${e.message}`));
  try {
    // The enumerator links the device, finishes an interview (age 34) and sends it.
    await (await d.find('[data-testid="tab-sync"]')).click();
    await (await d.find('[data-testid="sync-code"]')).type(code);
    await (await d.find('[data-testid="sync-link"]')).click();
    await d.find('[data-testid="sync-state"]', { timeout: 20000 });
    const id = await finishInterview(d, FORM);
    await syncNow(d);
    await recordState(d, id, 'sent');
    assert.equal((await d.findAll('[data-testid="returned-count"]')).length, 0, 'nothing returned yet');

    // The coordinator, in the console, sends it back with a comment on the age.
    await page.goto(`${server.url}/`);
    await page.getByLabel('User name').fill(COORDINATOR.user);
    await page.getByLabel('Password').fill(COORDINATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.goto(`${server.url}/p/${PROJECT}/responses/${id}`);
    await page.locator('[data-comment-on="/age"]').click();
    await page.locator('[data-note-for="/age"]').fill(AGE_NOTE);
    await page.getByTestId('send-back-comment').fill(COMMENT);
    await page.getByTestId('send-back').click();
    await page.getByTestId('resubmission').waitFor();
    await page.getByTestId('no-changes').waitFor();
    await page.screenshot({ path: join(process.env.ARTIFACTS ?? 'artifacts', 'sendback-console-sent-back.png') });

    // The app's next sync brings it back: a count in the header, a Returned list with
    // nothing sensitive in it.
    await syncNow(d);
    const count = await d.find('[data-testid="returned-count"]', { timeout: 30000 });
    assert.equal((await count.text()).trim(), '1');
    await (await d.find('[data-testid="tab-returned"]')).click();
    await d.find(`[data-testid="returned"] [data-response="${id}"]`);
    const listed = await (await d.find('[data-testid="returned"]')).text();
    for (const secret of [AGE_NOTE, COMMENT, '34']) {
      assert.ok(!listed.includes(secret), `the Returned list shows nothing of the response (found "${secret}")`);
    }
    await topShot(d, 'sendback-returned-list');

    // Opened: the coordinator's comment at the top, the age's comment under the age.
    await (await d.find(`[data-testid="returned"] [data-response="${id}"] [data-testid="fix"]`)).click();
    await d.find('main[data-page]');
    assert.match(await (await d.find('[data-testid="returned-comment"]')).text(), new RegExp(COMMENT));
    await jump(d, 2);
    await onPage(d, '/respondent');
    const note = await d.find('[data-testid="field-comment"][data-path="/age"]');
    assert.match(await note.text(), /head of household/);
    await shot(d, 'sendback-field-comment');
    await type(d, '/age', '35');
    await jump(d, -1);
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();
    await syncNow(d);
    await recordState(d, id, 'sent');
    await d.gone('[data-testid="returned-count"]');

    // The console shows what changed since it was sent back, and approves it.
    let changed = null;
    for (let i = 0; i < 20 && !changed; i++) {
      await page.reload();
      await page.getByTestId('resubmission').waitFor();
      if (await page.locator('[data-changed="/age"]').count()) changed = page.locator('[data-changed="/age"]');
      else await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(changed, 'the console lists the age among the changes');
    assert.match(await changed.innerText(), /34[\s\S]*35/, 'before and after');
    const paths = await page.locator('[data-changed]').evaluateAll((rows) => rows.map((r) => r.dataset.changed));
    assert.deepEqual(paths.filter((p) => p !== '/end'), ['/age'], 'only the age changed (and the time the interview ended)');
    await page.screenshot({ path: join(process.env.ARTIFACTS ?? 'artifacts', 'sendback-console-diff.png') });
    await page.getByTestId('approve').click();
    await page.getByTestId('resubmission').waitFor({ state: 'detached' });

    // The app shows it approved, and nothing is left to fix.
    await syncNow(d);
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await d.find(`[data-testid="drafts"] [data-response="${id}"] [data-testid="review-state"][data-review="approved"]`, { timeout: 30000 });
    await topShot(d, 'sendback-approved');
    await (await d.find('[data-testid="tab-returned"]')).click();
    assert.equal((await d.findAll(`[data-testid="returned"] [data-response="${id}"]`)).length, 0, 'it left the Returned list');
    assert.deepEqual(problems, []);
  } catch (e) {
    await shot(d, 'sendback-failure').catch(() => {});
    const html = await d.exec('return document.body.innerText').catch(() => '');
    console.log(`# the window showed:\n${String(html).slice(0, 1500)}`);
    const consoleText = await page.locator('body').innerText().catch(() => '');
    console.log(`# the console showed:\n${String(consoleText).slice(0, 1500)}`);
    throw e;
  } finally {
    await browser.close();
    await d.quit();
    await server.stop();
  }
}

const tests = [['send back: app window and console in Chromium, one story', story]];
process.exit((await runAll(tests)) ? 1 : 0);
