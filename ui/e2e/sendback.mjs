// The send-back story end to end in one run: the real Voices window fills an interview
// and sends it to a real `voices-server`; the coordinator console, in Debian's Chromium
// (playwright-core from console/), sends it back with a comment on the response and one
// on the age; the app (same run) counts it in its header, lists it under Returned with
// neutral facts only and shows the comments next to the question; the enumerator fixes
// the age and finishes again; the console shows what changed since it was sent back and
// approves it; the app shows it approved. Then the respondent withdraws: the console marks
// it withdrawn while the app has it open for editing, and the app's next sync closes the
// interview with a neutral note and removes the response. Prints "e2e: N passed, N failed".
//
// The server must serve the console (built with `--features console`, as scripts/test.sh
// builds it and ui/e2e/run.sh does).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FORM, launch, runAll, shot, type } from './helpers.mjs';
import { PROJECT, Server, finishInterview, freePort, recordState, syncNow, topShot } from './server.mjs';
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

    // The respondent withdraws. The enumerator has the interview open for editing when
    // the coordinator marks it withdrawn in the console; the app's next sync closes the
    // interview with a neutral note and takes the response out of every list.
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find(`[data-testid="drafts"] [data-response="${id}"] [data-testid="edit"]`)).click();
    await d.find(`.interview[data-response="${id}"] main[data-page]`);
    await page.goto(`${server.url}/p/${PROJECT}/responses/${id}`);
    const panel = page.getByRole('region', { name: 'Respondent withdrew' });
    await panel.getByRole('button', { name: 'Mark withdrawn' }).click();
    await panel.getByText('Mark this response withdrawn?').waitFor();
    await panel.getByRole('button', { name: 'Mark withdrawn' }).click();
    await page.getByRole('heading', { name: 'Marked withdrawn' }).waitFor();
    // A sync while the interview is on screen (as the background sync would run it).
    await d.exec('return window.__TAURI_INTERNALS__.invoke("sync_now", {}).then(() => true)');
    const notice = await d.find('[data-testid="notice"]', { timeout: 30000 });
    assert.match(await notice.text(), /withdrawn by the coordinator/);
    await d.gone('.interview');
    await topShot(d, 'sendback-withdrawn');
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await d.find('[data-testid="drafts"]');
    assert.equal((await d.findAll(`[data-response="${id}"]`)).length, 0, 'not in the drafts');
    await (await d.find('[data-testid="tab-sync"]')).click();
    const withdrawn = await d.find('[data-count="withdrawn"]', { timeout: 30000 });
    assert.match(await withdrawn.text(), /^\s*1\b/);
    assert.equal((await d.findAll(`[data-testid="outbox"] [data-response="${id}"]`)).length, 0, 'not in the outbox');
    const screenText = await d.exec('return document.body.innerText');
    for (const secret of [AGE_NOTE, COMMENT]) {
      assert.ok(!String(screenText).includes(secret), `nothing of the response is shown (found "${secret}")`);
    }
    // The fixed age as a number of its own: not inside the server's port or a clock time.
    assert.doesNotMatch(String(screenText), /(?<![\d:.])35(?!\d)/, 'nothing of the response is shown (found the age 35)');
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
