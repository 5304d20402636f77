// The referral step in the real Voices window: the device takes the project's referral
// directory from a real `voices-server` at sync, then — with the server gone — lists the
// services that match the respondent's district and needs, says plainly when none does,
// and records the choice, which reaches the server as the step's answer.
// Prints "e2e: N passed, N failed"; screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { FORM, fillPage, fillUntil, launch, onPage, pick, runAll, saved, shot, start } from './helpers.mjs';
import { PROJECT, ROOT, SERVER, Server, freePort, recordState, syncNow, syncScreen } from './server.mjs';

const STEP = '/referral_services';

/** The services the step lists now, by id. */
async function listed(d) {
  return d.exec(`return [...document.querySelectorAll('[data-path="${STEP}"] [data-service]')]
    .map((e) => e.dataset.service);`);
}

async function story() {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  const server = new Server(await freePort());
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  server.admin('referrals', 'publish', join(ROOT, 'schemas/referrals/human-security-perceptions.json'), '--project', PROJECT);
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Amina', '--server', server.url);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  await server.start();

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-referral-')));
  try {
    // Link and sync once: the forms and the directory come down.
    await syncScreen(d, 'not_linked');
    await (await d.find('[data-testid="sync-code"]')).type(code);
    await (await d.find('[data-testid="sync-link"]')).click();
    await d.find('[data-testid="sync-state"]', { timeout: 20000 });
    await syncNow(d);
    await d.find('[data-testid="sync-screen"][data-phase="idle"]', { timeout: 30000 });

    // Offline from here on.
    await server.stop();
    await (await d.find('[data-testid="tab-forms"]')).click();
    await start(d, 'en');
    const responseId = await (await d.find('.interview[data-response]')).attr('data-response');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await pick(d, '/country', 'mex');
    await pick(d, '/region', 'mex_guerrero');
    await pick(d, '/district', 'mex_acapulco');
    await fillPage(d);
    await fillUntil(d, '/respondent');
    await (await d.find('[data-path="/age"] input')).type('34\uE004');
    await saved(d, '/age');
    await fillPage(d);
    await fillUntil(d, '/experiences');
    await (await d.find('[data-testid="privacy-yes"]')).click();
    await d.find('main[data-page="/experiences"][data-page-kind="questions"]');
    await pick(d, '/officials_abuse', 'yes');
    await pick(d, '/support_needs', 'legal');

    // Acapulco has no legal service on the list: said plainly, and recorded.
    await d.find(`[data-path="${STEP}"] [data-testid="referral-none"]`);
    assert.deepEqual(await listed(d), []);
    const none = await (await d.find(`[data-path="${STEP}"] [data-testid="referral-none"]`)).text();
    assert.match(none, /No service on the list matches/);
    await (await d.find(`[data-path="${STEP}"] [data-testid="referral-record-none"]`)).click();
    await saved(d, STEP);
    await d.find(`[data-path="${STEP}"] [data-testid="referral-recorded"]`);
    await shot(d, 'referral-none');

    // Someone to talk to instead: the national line serves Acapulco; accepted.
    await (await d.find('[data-path="/support_needs"] input[value="legal"]')).click();
    await saved(d, '/support_needs');
    await pick(d, '/support_needs', 'psychosocial');
    await d.find(`[data-path="${STEP}"] [data-service="mx_national_line"]`);
    assert.deepEqual(await listed(d), ['mx_national_line']);
    const card = await (await d.find(`[data-path="${STEP}"] [data-service="mx_national_line"]`)).text();
    assert.match(card, /800 108 4053/, 'the phone number is shown');
    assert.match(card, /Someone to talk to/, 'the kind is named by the form, in the interview language');
    // Nothing sensitive in the page title or the window title.
    const title = await (await d.find('main[data-page] h2, main[data-page] h1')).text();
    assert.doesNotMatch(`${title} ${await d.title()}`, /violence|abuse|GBV|referral/i);
    await pick(d, STEP, 'mx_national_line');
    const recorded = await (await d.find(`[data-path="${STEP}"] [data-testid="referral-recorded"]`)).text();
    assert.match(recorded, /accepted 1/);
    await shot(d, 'referral-accepted');
    await fillPage(d);

    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();

    // Back online: the choice reaches the server as the step's answer.
    await server.start();
    await syncNow(d);
    await recordState(d, responseId, 'sent', 60000);
    let answer;
    for (let deadline = Date.now() + 20000; Date.now() < deadline && !answer; await sleep(500)) {
      answer = server.exported(FORM).find((r) => r.response.id === responseId)?.response.answers.referral_services;
    }
    assert.equal(answer, 'accepted mx_national_line');
  } catch (e) {
    await shot(d, 'referral-failure').catch(() => {});
    const html = await d.exec('return document.body.innerText').catch(() => '');
    console.log(`# the window showed:\n${String(html).slice(0, 1500)}`);
    throw e;
  } finally {
    await d.quit();
    await server.stop();
  }
}

const tests = [['the referral step lists the matching services offline and records the choice', story]];
process.exit((await runAll(tests)) ? 1 : 0);
