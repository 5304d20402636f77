// The send-back story over a link that drops (issue 14): the real Voices window reaches a
// real `voices-server` through a loopback proxy (proxy.mjs) that cuts the connection in
// the middle of the device's pull of its feed, then in the middle of the upload of the
// resubmissions. The app says what went wrong without a word of the responses, loses
// nothing (the enumerator's unsent fix, the Returned list and its comments), and once the
// link is healthy the returned response and its field comment appear exactly once, the
// fixes go up exactly once and the console shows them. Prints "e2e: N passed, N failed".
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { FORM, launch, runAll, shot, type } from './helpers.mjs';
import { PROJECT, Server, finishInterview, freePort, recordState, syncNow, syncScreen, topShot } from './server.mjs';
import { CuttingProxy } from './proxy.mjs';
import {
  ageChange, finalizeAgain, history, linkDevice, openConsole, openReturned, sendBack, setUpProject, showFailure,
} from './review.mjs';

const FIRST = { comment: 'Please check the age with the respondent', note: 'Respondent or head of household?' };
const SECOND = { comment: 'The age looks like a typing slip', note: 'Was it 43 rather than 34?' };

const ageValue = (d) => d.exec('return document.querySelector(\'[data-path="/age"] input\').value');

/** The header's count of responses sent back ('' when there is none). */
const returnedCount = (d) =>
  d.exec('return document.querySelector(\'[data-testid="returned-count"]\')?.textContent.trim() ?? ""');

async function until(what, check, timeout = 30000) {
  for (const deadline = Date.now() + timeout; Date.now() < deadline; await sleep(200)) {
    if (await check()) return;
  }
  throw new Error(`never: ${what}`);
}

/** How many times response `id` is listed under Returned. */
async function listed(d, id) {
  await (await d.find('[data-testid="tab-returned"]')).click();
  await d.find('[data-testid="returned"]');
  return (await d.findAll(`[data-testid="returned"] [data-response="${id}"]`)).length;
}

async function story() {
  const server = new Server(await freePort());
  const proxy = new CuttingProxy(server.port, PROJECT);
  await proxy.start();
  // The device knows the server only through the proxy; the console reaches it directly.
  const code = setUpProject(server, proxy.url);
  await server.start();
  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-cutpull-')));
  const { browser, page, problems } = await openConsole(server).catch(async (e) => {
    await d.quit();
    await Promise.all([server.stop(), proxy.stop()]);
    throw e;
  });
  try {
    // Two interviews sent (age 34 each) through a healthy link.
    await linkDevice(d, code);
    const first = await finishInterview(d, FORM);
    const second = await finishInterview(d, FORM);
    await syncNow(d);
    await recordState(d, first, 'sent');
    await recordState(d, second, 'sent');

    // The first comes back; the enumerator starts fixing it and leaves it unfinished.
    await sendBack(page, server, first, FIRST);
    await syncNow(d);
    await until('the first response is counted as returned', async () => (await returnedCount(d)) === '1');
    await openReturned(d, first);
    await type(d, '/age', '35');
    await (await d.find('[data-testid="close"]')).click();
    await d.find('[data-testid="form-list"]');

    // The second is sent back; the link drops while the device pulls it.
    await sendBack(page, server, second, SECOND);
    proxy.cut('feed');
    await syncNow(d);
    const error = await d.find('[data-testid="sync-screen"] [data-testid="sync-error"][data-kind="offline"]', { timeout: 30000 });
    // The sentence in the app's language on screen; the app's own words under Details.
    const shown = await error.text();
    const said = await error.prop('textContent');
    assert.ok(proxy.cuts.feed >= 1, 'the proxy cut the pull of the feed');
    assert.match(shown, /could not be reached/, `a clear sentence: ${shown}`);
    assert.match(said, /connection broke off/, `a clear reason: ${said}`);
    for (const secret of [FIRST.comment, FIRST.note, SECOND.comment, SECOND.note, first, second]) {
      assert.ok(!said.includes(secret), `the error says nothing of the responses (found "${secret}")`);
    }
    await topShot(d, 'cutpull-feed-cut');

    // Nothing lost, nothing half-applied: one returned response with its comments, the
    // unfinished fix kept, the second not there yet.
    assert.equal(await returnedCount(d), '1', 'still one response returned');
    assert.equal(await listed(d, first), 1);
    assert.equal(await listed(d, second), 0, 'nothing of the cut page was applied');
    await openReturned(d, first);
    assert.equal(await ageValue(d), '35', 'the unsent fix is kept');
    assert.equal((await d.findAll('[data-testid="field-comment"][data-path="/age"]')).length, 1);
    assert.match(await (await d.find('[data-testid="field-comment"][data-path="/age"]')).text(), /head of household/);
    assert.match(await (await d.find('[data-testid="returned-comment"]')).text(), /check the age/);
    await (await d.find('[data-testid="close"]')).click();
    await d.find('[data-testid="form-list"]');

    // The link is healthy again: the next sync brings the second, exactly once.
    proxy.cut(null);
    await syncNow(d);
    await until('both responses are counted as returned', async () => (await returnedCount(d)) === '2');
    await syncScreen(d, 'idle');
    assert.equal(await listed(d, second), 1, 'the second is listed once');
    assert.equal(await listed(d, first), 1, 'the first is listed once');
    await topShot(d, 'cutpull-returned-after');
    await openReturned(d, second);
    const notes = await d.findAll('[data-testid="field-comment"][data-path="/age"]');
    assert.equal(notes.length, 1, 'the field comment is shown once');
    assert.match(await notes[0].text(), /43 rather than 34/);
    assert.match(await (await d.find('[data-testid="returned-comment"]')).text(), /typing slip/);
    await shot(d, 'cutpull-field-comment');

    // The fixes are finalized; the link drops as their upload's answer comes back (the
    // server has them, the device does not know yet), then heals.
    proxy.cut('upload');
    await type(d, '/age', '36');
    await finalizeAgain(d);
    await openReturned(d, first);
    assert.equal(await ageValue(d), '35', 'the pull kept the unsent fix');
    await finalizeAgain(d);
    await until('the proxy cut an upload', async () => proxy.cuts.upload >= 1);
    proxy.cut(null);
    await syncNow(d);
    await recordState(d, first, 'sent', 60000);
    await recordState(d, second, 'sent', 60000);
    await d.gone('[data-testid="returned-count"]', 30000);

    // The server holds each fix once: one response each, two revisions from the device.
    const rows = server.exported(FORM);
    for (const [id, age] of [[first, '35'], [second, '36']]) {
      const mine = rows.filter((r) => r.response.id === id);
      assert.equal(mine.length, 1, `${id} is one response`);
      assert.equal(mine[0].response.answers.age, age);
      const revisions = (await history(page, server, id)).filter((h) => h.kind === 'revision');
      assert.equal(revisions.length, 2, `${id}: the first revision and the fix, each once`);
      assert.equal(new Set(revisions.map((r) => r.revision)).size, 2);
    }
    // The console shows the resubmissions, what changed since they were sent back.
    for (const [id, age] of [[first, '35'], [second, '36']]) {
      const changed = await ageChange(page, server, id);
      assert.ok(changed, `the console lists the age of ${id} among the changes`);
      assert.match(await changed.innerText(), new RegExp(`34[\\s\\S]*${age}`), 'before and after');
    }
    await page.screenshot({ path: join(process.env.ARTIFACTS ?? 'artifacts', 'cutpull-console-diff.png') });
    assert.deepEqual(problems, []);
  } catch (e) {
    await showFailure(d, page, 'cutpull-failure');
    throw e;
  } finally {
    await browser.close();
    await d.quit();
    await Promise.all([server.stop(), proxy.stop()]);
  }
}

const tests = [['send back over a link cut during the pull and the upload: nothing lost, nothing twice', story]];
process.exit((await runAll(tests)) ? 1 : 0);
