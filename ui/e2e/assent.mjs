// A minor's assent in the real Voices window: a 16-year-old whose guardian consented is
// asked their own assent. One says no: the interview ends there with the assent's own
// words and nothing further is asked, even though the guardian said yes. Another says
// yes: the interview goes on (without the adults' modules) and both text versions, the
// guardian's consent and the minor's assent, reach a real `voices-server`.
// Prints "e2e: N passed, N failed"; screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { FORM, fillPage, fillUntil, launch, onPage, runAll, shot, start, type } from './helpers.mjs';
import { PROJECT, ROOT, SERVER, Server, freePort, recordState, syncNow, syncScreen } from './server.mjs';

/** Start an interview, the guardian consents, the respondent is 16: up to the assent page. */
async function minorAtAssent(d) {
  await (await d.find('[data-testid="tab-forms"]')).click();
  await start(d, 'en');
  const id = await (await d.find('.interview[data-response]')).attr('data-response');
  await (await d.find('[data-testid="consent-yes"]')).click();
  await onPage(d, '/location');
  await fillUntil(d, '/respondent');
  await type(d, '/age', '16');
  await fillPage(d);
  // A minor is not asked the gender identity question.
  assert.equal((await d.findAll('[data-path="/gender_identity"]')).length, 0);
  await (await d.find('[data-testid="next"]')).click();
  await d.find('main[data-page="/assent"][data-page-kind="consent"]');
  // The enumerator is told whose answer this is; the page says nothing sensitive.
  const guidance = await (await d.find('[data-testid="assent-guidance"]')).text();
  assert.match(guidance, /ask the young person/i);
  const heading = await (await d.find('main[data-page] h2')).text();
  assert.equal(heading, 'Your own say');
  assert.doesNotMatch(`${heading} ${await d.title()}`, /violence|abuse|minor|child/i);
  // Nothing after the assent is reachable before the minor answers.
  assert.ok(await (await d.find('[data-testid="next"]')).attr('disabled') !== null, 'Next waits for the answer');
  return id;
}

/** The stored response `id` as the server exports it, once it arrived. */
async function arrived(server, id) {
  for (let deadline = Date.now() + 20000; Date.now() < deadline; await sleep(500)) {
    const found = server.exported(FORM).find((r) => r.response.id === id);
    if (found) return found.response;
  }
  throw new Error(`response ${id} never reached the server`);
}

async function story() {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  const server = new Server(await freePort());
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Amina', '--server', server.url);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  await server.start();

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-assent-')));
  try {
    await syncScreen(d, 'not_linked');
    await (await d.find('[data-testid="sync-code"]')).type(code);
    await (await d.find('[data-testid="sync-link"]')).click();
    await d.find('[data-testid="sync-state"]', { timeout: 20000 });
    await syncNow(d);
    await d.find('[data-testid="sync-screen"][data-phase="idle"]', { timeout: 30000 });
    // Offline from here on: the engine enforces the assent on the device.
    await server.stop();

    // 1. The guardian said yes, the young person says no: the interview ends there.
    const declined = await minorAtAssent(d);
    await shot(d, 'assent-page');
    await (await d.find('[data-testid="consent-no"]')).click();
    await d.find('main[data-mode="declined"]');
    const message = await (await d.find('[data-testid="declined"]')).text();
    assert.equal(message, 'That is fine. Thank you. The interview ends here.');
    assert.equal((await d.findAll('[data-testid="next"]')).length, 0, 'nothing further is asked');
    assert.equal((await d.findAll('main .field')).length, 0);
    await shot(d, 'assent-declined');
    await (await d.find('main[data-mode="declined"] button')).click();

    // 2. Another minor says yes: the interview goes on, past the adults' modules.
    const assented = await minorAtAssent(d);
    await (await d.find('[data-testid="consent-yes"]')).click();
    // The Washington Group questions are for adults: next is the household.
    await onPage(d, '/household');
    await fillUntil(d, '__review__');
    const asked = await d.exec('return document.body.innerText');
    assert.doesNotMatch(asked, /violence|abuse/i);
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();

    // Back online: both reach the server with the text versions heard.
    await server.start();
    await syncNow(d);
    await recordState(d, declined, 'sent', 60000);
    await recordState(d, assented, 'sent', 60000);
    const no = await arrived(server, declined);
    assert.equal(no.consent.given, true, 'the guardian consented');
    assert.equal(no.consent.text_version, '2026-12-v2');
    assert.deepEqual(
      { given: no.consent.assent.given, text_version: no.consent.assent.text_version },
      { given: false, text_version: '2026-12-minor-v1' },
    );
    assert.equal(no.answers.assent, 'no');
    for (const later of ['hh_size', 'safety_home', 'members']) {
      assert.equal(no.answers[later], undefined, `${later} is not kept after the refusal`);
    }
    const yes = await arrived(server, assented);
    assert.equal(yes.consent.text_version, '2026-12-v2');
    assert.equal(yes.consent.assent.given, true);
    assert.equal(yes.consent.assent.text_version, '2026-12-minor-v1');
    assert.equal(yes.answers.assent, 'yes');
    assert.equal(yes.answers.age, '16');
    assert.ok(yes.answers.hh_size, 'the household questions were asked');
    assert.equal(yes.answers.violence, undefined);
  } catch (e) {
    await shot(d, 'assent-failure').catch(() => {});
    const html = await d.exec('return document.body.innerText').catch(() => '');
    console.log(`# the window showed:\n${String(html).slice(0, 1500)}`);
    throw e;
  } finally {
    await d.quit();
    await server.stop();
  }
}

const tests = [['a minor is asked for assent after the guardian consents; a no ends the interview, a yes goes on', story]];
process.exit((await runAll(tests)) ? 1 : 0);
