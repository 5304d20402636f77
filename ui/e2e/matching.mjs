// Enumerator–respondent matching and neutral presentation in the real Voices window
// against a real `voices-server` on loopback: the device is provisioned for a male
// enumerator and the project has a neutral name; after the first sync the app shows that
// name; the human-security form's violence section (female enumerator for a female
// respondent) stays closed: no question of it is reachable and Next is disabled; a
// hand-over to a male colleague is checked against the same rule and refused (the section
// stays closed); one to a female colleague is accepted, and the server holds the hand-over
// and the refusal with the response. Prints "e2e: N passed, N failed"; screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { FORM, fillPage, fillUntil, launch, onPage, pageKey, shot, runAll, start, type } from './helpers.mjs';
import { PROJECT, ROOT, SERVER, Server, freePort, recordState, syncNow, syncScreen } from './server.mjs';

async function handOverIsRecorded() {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  const server = new Server(await freePort());
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('project', 'presentation', PROJECT, '--neutral-name', 'Field notes');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Omar',
    '--server', server.url, '--sex', 'male', '--languages', 'en,ar', '--area', 'North');
  assert.match(added, /enumerator profile: sex male/);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  await server.start();

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-matching-')));
  try {
    await syncScreen(d, 'not_linked');
    await (await d.find('[data-testid="sync-code"]')).type(code);
    await (await d.find('[data-testid="sync-link"]')).click();
    await d.find('[data-testid="sync-state"]', { timeout: 20000 });
    await syncNow(d);
    await d.find('[data-testid="sync-screen"][data-phase="idle"]', { timeout: 30000 });

    // The neutral name replaces the app's own, in the header and the window title.
    await (await d.find('[data-testid="tab-forms"]')).click();
    for (let deadline = Date.now() + 15000; Date.now() < deadline; await sleep(200)) {
      if ((await (await d.find('[data-testid="app-name"]')).text()) === 'Field notes') break;
    }
    assert.equal(await (await d.find('[data-testid="app-name"]')).text(), 'Field notes');
    assert.equal(await d.exec('return document.title'), 'Field notes');

    // A female respondent (the first choice), a male enumerator: the section is blocked.
    await start(d, 'en');
    const responseId = await (await d.find('.interview[data-response]')).attr('data-response');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await fillUntil(d, '/respondent');
    await type(d, '/age', '34');
    await fillPage(d);
    await fillUntil(d, '/experiences', { handOver: false });
    await d.find('main[data-page="/experiences"][data-page-kind="match_check"]');
    await d.find('[data-testid="matching-blocked"]', { timeout: 10000 });
    assert.equal((await d.findAll('[data-testid="matching-no-profile"]')).length, 0, 'the device has a profile');
    assert.equal((await d.findAll('[data-path="/officials_abuse"]')).length, 0, 'no question of the section is shown');
    assert.equal(await (await d.find('[data-testid="next"]')).prop('disabled'), true, 'Next is disabled');
    assert.equal(await (await d.find('[data-testid="handover"]')).prop('disabled'), true, 'a hand-over names who and which sex');
    await shot(d, 'matching-blocked');

    // The rule reads only the enumerator's sex: the hand-over asks no languages or area.
    assert.equal((await d.findAll('[data-testid="handover-languages"]')).length, 0);
    assert.equal((await d.findAll('[data-testid="handover-area"]')).length, 0);
    // Offered to a male colleague: he does not meet the rule either, so it is refused.
    await (await d.find('[data-testid="handover-name"]')).type('Karim');
    await (await d.find('[data-testid="handover-sex-male"]')).click();
    await (await d.find('[data-testid="handover"]:not([disabled])')).click();
    await d.find('[data-testid="handover-refused"]', { timeout: 10000 });
    await d.find('main[data-page="/experiences"][data-page-kind="match_check"]');
    assert.equal((await d.findAll('[data-path="/officials_abuse"]')).length, 0, 'still no question of the section');
    assert.equal(await (await d.find('[data-testid="next"]')).prop('disabled'), true, 'Next is still disabled');
    await shot(d, 'matching-refused');

    // Handed over to a female colleague: the section opens at its privacy check.
    await d.exec(`const i = document.querySelector('[data-testid="handover-name"]'); i.value = ''; i.dispatchEvent(new Event('input', { bubbles: true }));`);
    await (await d.find('[data-testid="handover-name"]')).type('Amal');
    await (await d.find('[data-testid="handover-sex-female"]')).click();
    await (await d.find('[data-testid="handover"]:not([disabled])')).click();
    await d.find('main[data-page="/experiences"][data-page-kind="privacy_check"]');
    await (await d.find('[data-testid="privacy-yes"]')).click();
    await d.find('main[data-page="/experiences"] [data-path="/officials_abuse"]');
    await shot(d, 'matching-handed-over');
    assert.equal(await pageKey(d), '/experiences');
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();

    // The server holds the hand-over with the response.
    await syncNow(d);
    await recordState(d, responseId, 'sent');
    const stored = server.exported(FORM).find((r) => r.response.id === responseId);
    assert.ok(stored, 'the response reached the server');
    const record = stored.response.matching?.['/experiences'];
    assert.equal(record?.outcome, 'handed_over', JSON.stringify(stored.response.matching));
    assert.equal(record.by, 'Amal');
    assert.equal(record.sex, 'female');
    assert.deepEqual(
      record.refused?.map((r) => [r.by, r.sex]),
      [['Karim', 'male']],
      JSON.stringify(record),
    );
  } finally {
    await d.quit();
    await server.stop();
  }
}

const failed = await runAll([['a mismatched enumerator hands the violence section over, checked against the rule', handOverIsRecorded]]);
process.exit(failed ? 1 : 0);
