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
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FORM, launch, runAll, shot, type } from './helpers.mjs';
import { Server, finishInterview, freePort, recordState, syncNow, topShot } from './server.mjs';
import { ageChange, finalizeAgain, linkDevice, openConsole, openReturned, sendBack, setUpProject, showFailure } from './review.mjs';

const AGE_NOTE = 'Is this the age of the respondent or of the head of household?';
const COMMENT = 'Please check the age with the respondent';

async function story() {
  const server = new Server(await freePort());
  const code = setUpProject(server);
  await server.start();

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-sendback-')));
  const { browser, page, problems } = await openConsole(server).catch(async (e) => {
    await d.quit();
    await server.stop();
    throw e;
  });
  try {
    // The enumerator links the device, finishes an interview (age 34) and sends it.
    await linkDevice(d, code);
    const id = await finishInterview(d, FORM);
    await syncNow(d);
    await recordState(d, id, 'sent');
    assert.equal((await d.findAll('[data-testid="returned-count"]')).length, 0, 'nothing returned yet');

    // The coordinator, in the console, sends it back with a comment on the age.
    await sendBack(page, server, id, { comment: COMMENT, note: AGE_NOTE });
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
    await openReturned(d, id);
    assert.match(await (await d.find('[data-testid="returned-comment"]')).text(), new RegExp(COMMENT));
    const note = await d.find('[data-testid="field-comment"][data-path="/age"]');
    assert.match(await note.text(), /head of household/);
    await shot(d, 'sendback-field-comment');
    await type(d, '/age', '35');
    await finalizeAgain(d);
    await syncNow(d);
    await recordState(d, id, 'sent');
    await d.gone('[data-testid="returned-count"]');

    // The console shows what changed since it was sent back, and approves it.
    const changed = await ageChange(page, server, id);
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
    await showFailure(d, page, 'sendback-failure');
    throw e;
  } finally {
    await browser.close();
    await d.quit();
    await server.stop();
  }
}

const tests = [['send back: app window and console in Chromium, one story', story]];
process.exit((await runAll(tests)) ? 1 : 0);
