// End-to-end sync in the real Voices window against a real `voices-server` on loopback
// (temporary SQLite data directory): link the device from a picture of its QR code,
// finish interviews, Sync now, check on the server that each response arrived exactly
// once, a new form version offered, a quarantined record's reason, the server going away
// and coming back. Prints "e2e: N passed, N failed"; screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { FORM, fillUntil, jump, launch, onPage, shot, runAll, type } from './helpers.mjs';
import { PROJECT, ROOT, SERVER, Server, finishInterview, freePort, recordState, syncNow, syncScreen, topShot } from './server.mjs';

async function noSidewaysOverflow(d, where) {
  const overflow = await d.exec('return document.documentElement.scrollWidth > window.innerWidth + 1');
  assert.equal(overflow, false, `nothing overflows sideways: ${where}`);
}

async function story() {
  assert.ok(existsSync(SERVER), `voices-server binary missing: ${SERVER} (set VOICES_SERVER_BIN)`);
  const server = new Server(await freePort());
  server.admin('project', 'add', PROJECT, '--title', 'Field test');
  server.admin('form', 'publish', join(ROOT, 'schemas/forms/human-security-perceptions.json'), '--project', PROJECT);
  const picture = join(server.data, 'device-qr.png');
  const added = server.admin('device', 'add', '--project', PROJECT, '--enumerator', 'Amina',
    '--server', server.url, '--qr-png', picture);
  const code = added.match(/^voices1:\S+$/m)?.[0];
  assert.ok(code, `device add printed a provisioning code:\n${added}`);
  assert.ok(existsSync(picture), 'device add --qr-png wrote the picture');
  await server.start();

  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-sync-')));
  try {
    // Not linked yet: the header says so on every screen.
    await d.find('[data-testid="sync-indicator"][data-phase="not_linked"]');
    await syncScreen(d, 'not_linked');

    // A damaged code is refused with a message; nothing is linked.
    await (await d.find('[data-testid="sync-code"]')).type('voices1:this-is-not-a-code');
    await (await d.find('[data-testid="sync-link"]')).click();
    const refusal = await d.find('.error[role="alert"]');
    assert.ok((await refusal.text()).length > 10, 'the refusal says why');
    await (await d.find('.error button')).click();
    await (await d.find('[data-testid="sync-code"]')).clear();

    // The code read from a picture of the QR code that `device add --qr-png` wrote.
    await (await d.find('[data-testid="sync-picture"]', { visible: false })).type(picture);
    await d.find('#sync-code + [role="status"]', { timeout: 15000 });
    assert.equal(await (await d.find('[data-testid="sync-code"]')).prop('value'), code, 'the picture gives the printed code');
    assert.match(await (await d.find('[data-testid="code-preview"]')).text(), new RegExp(`${server.url}[\\s\\S]*${PROJECT}`), 'where the code points is shown before linking');
    await shot(d, 'sync-link-from-picture');
    await (await d.find('[data-testid="sync-link"]')).click();
    await d.find('[data-testid="sync-state"]', { timeout: 20000 });
    assert.equal(await (await d.find('[data-testid="link-server"]')).text(), server.url);

    // An interview finished and sent: the record turns "sent", the server has it once.
    const first = await finishInterview(d, FORM);
    await syncNow(d);
    await recordState(d, first, 'sent');
    await d.find('[data-testid="sync-indicator"][data-pending="0"]');
    await topShot(d, 'sync-sent');
    const countOf = (id) => server.exported(FORM).filter((r) => r.response.id === id).length;
    assert.equal(countOf(first), 1, 'the response arrived exactly once');
    // Syncing again sends nothing twice.
    await syncNow(d);
    await d.find('[data-testid="sync-screen"][data-phase="idle"]', { timeout: 30000 });
    assert.equal(countOf(first), 1, 'a second sync stores nothing again');

    // A sent interview edited on the device goes as a new revision of the same response.
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find(`[data-testid="drafts"] [data-response="${first}"] [data-testid="edit"]`)).click();
    await d.find('main[data-page]');
    await jump(d, 2);
    await onPage(d, '/respondent');
    await type(d, '/age', '35');
    await jump(d, -1);
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();
    await syncNow(d);
    let edited = [];
    for (let deadline = Date.now() + 30000; Date.now() < deadline; await sleep(500)) {
      edited = server.exported(FORM).filter((r) => r.response.id === first);
      if (edited[0]?.response.answers.age === '35') break;
    }
    assert.equal(edited.length, 1, 'the edit did not make a second response');
    assert.equal(edited[0].response.answers.age, '35', 'the server has the edited answer');
    await recordState(d, first, 'sent');

    // A new version published on the server is pulled by sync and offered on the forms list.
    const form = JSON.parse(readFileSync(join(ROOT, 'schemas/forms/human-security-perceptions.json'), 'utf8'));
    form.version = '2026112699';
    const newVersion = join(server.data, 'community-life-v2.json');
    writeFileSync(newVersion, JSON.stringify(form, null, 2));
    server.admin('form', 'publish', newVersion, '--project', PROJECT);
    await syncNow(d);
    await d.find('[data-testid="sync-screen"][data-phase="idle"]', { timeout: 30000 });
    await (await d.find('[data-testid="tab-forms"]')).click();
    const offer = await d.find(`[data-testid="form-offers"] [data-offer="${FORM}"]`, { timeout: 15000 });
    assert.match(await offer.text(), /2026112699/);
    await topShot(d, 'sync-new-version-offer');
    await (await d.find('[data-testid="offers-ok"]')).click();
    await d.gone('[data-testid="form-offers"]');
    const version = await (await d.find(`[data-form="${FORM}"] .meta`)).text();
    assert.match(version, /2026112699/, 'the forms list shows the newest version');

    // A record the server quarantines (its form was never published there) shows why.
    const orphan = await finishInterview(d, 'minimal');
    await syncNow(d);
    const flagged = await recordState(d, orphan, 'quarantined');
    await (await d.find(`[data-response="${orphan}"] [data-testid="reasons"] summary`)).click();
    assert.match(await flagged.text(), /no published version/, 'the quarantine reason is shown');
    await shot(d, 'sync-quarantined');

    // The server goes away: a finished interview waits, with the next attempt shown...
    await server.stop();
    const offline = await finishInterview(d, FORM);
    await syncScreen(d);
    await d.find('[data-testid="sync-screen"][data-phase="waiting"] [data-testid="next-attempt"]', { timeout: 60000 });
    // ...Sync now tries at once and starts the backoff again from its first step (≤ 5 s).
    // Read in the page: the countdown redraws every second, so element handles go stale.
    const nextAt = () => d.exec('return document.querySelector(\'[data-testid="next-attempt"]\')?.dataset.at ?? null');
    const before = await nextAt();
    await (await d.find('[data-testid="sync-now"]:not([disabled])')).click();
    let soon = null;
    for (let deadline = Date.now() + 20000; !soon && Date.now() < deadline; await sleep(200)) {
      const at = await nextAt();
      if (at && at !== before && (Date.parse(at) - Date.now()) / 1000 <= 6) soon = at;
    }
    assert.ok(soon, `after Sync now the next attempt comes within the first backoff step (was ${before})`);
    await recordState(d, offline, 'pending', 5000).catch(() => recordState(d, offline, 'failed', 5000));
    await d.find('[data-testid="sync-indicator"][data-phase="waiting"]:not([data-pending="0"])');
    await topShot(d, 'sync-waiting');
    // ...and goes out by itself once the server is back (no Sync now).
    await server.start();
    const t0 = Date.now();
    await recordState(d, offline, 'sent', 120000);
    console.log(`# the waiting record went out ${((Date.now() - t0) / 1000).toFixed(1)} s after the server came back`);
    assert.equal(countOf(offline), 1, 'the record sent after the outage arrived exactly once');
    assert.equal(countOf(first), 1, 'the first record is still there exactly once');

    // Arabic, right to left; then the phone-sized window.
    await (await d.find('[data-testid="app-language"]')).click();
    await (await d.find('[data-testid="app-language"] option[value="ar"]')).click();
    await d.find('html[dir="rtl"] [data-testid="sync-screen"]');
    assert.equal(await d.exec('return document.getElementById("app-language").value'), 'ar');
    assert.equal(await d.exec('return document.documentElement.lang'), 'ar');
    // WebKit keeps drawing the old choice while the (invisible, under Xvfb) list is open.
    await d.exec('document.activeElement.blur()');
    await topShot(d, 'sync-ar');
    await d.setWindow(360, 640);
    await sleep(300);
    await noSidewaysOverflow(d, 'sync screen, Arabic, 360 px');
    await topShot(d, 'sync-phone-ar');
    await (await d.find('[data-testid="app-language"] option[value="en"]')).click();
    await d.find('html[dir="ltr"] [data-testid="sync-screen"]');
    await d.exec('document.activeElement.blur()');
    await noSidewaysOverflow(d, 'sync screen, English, 360 px');
    await topShot(d, 'sync-phone');
    await d.setWindow(1280, 800);

    // Safe exit shows nothing of Voices, not even the sync indicator.
    await d.keys('\uE00C');
    await d.find('[data-testid="decoy"]');
    assert.equal((await d.findAll('[data-testid="sync-indicator"]')).length, 0, 'no sync indicator behind the decoy');
    await (await d.find('[data-testid="safe-options"]')).click();
    await (await d.find('[data-testid="safe-return"]')).click();

    // Settings: automatic sync off and a proxy, kept by the app.
    await syncScreen(d);
    await (await d.find('[data-testid="auto-sync"]')).click();
    await (await d.find('[data-testid="proxy"]')).type('http://proxy.example.org:3128');
    await (await d.find('[data-testid="save-settings"]')).click();
    await d.find('[data-testid="save-settings"] + [role="status"]');
    await (await d.find('[data-testid="tab-forms"]')).click();
    await syncScreen(d);
    assert.equal(await (await d.find('[data-testid="auto-sync"]')).prop('checked'), false, 'automatic sync stays off');
    assert.equal(await (await d.find('[data-testid="proxy"]')).prop('value'), 'http://proxy.example.org:3128');

    // Unlinking asks first and deletes nothing.
    await (await d.find('[data-testid="unlink"]')).click();
    await (await d.find('[data-testid="unlink-confirm"]')).click();
    await d.find('[data-testid="sync-screen"][data-phase="not_linked"] [data-testid="sync-code"]', { timeout: 10000 });
    await (await d.find('[data-testid="tab-drafts"]')).click();
    for (const id of [first, orphan, offline]) await d.find(`[data-testid="drafts"] [data-response="${id}"]`);
  } catch (e) {
    await shot(d, 'sync-failure').catch(() => {});
    const html = await d.exec('return document.body.innerText').catch(() => '');
    console.log(`# the window showed:\n${String(html).slice(0, 1500)}`);
    throw e;
  } finally {
    await d.quit();
    await server.stop();
  }
}

const tests = [['sync with a real server: link, send, new version, quarantine, outage', story]];
process.exit((await runAll(tests)) ? 1 : 0);
