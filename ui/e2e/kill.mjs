// Kill test: answer questions in the real app, SIGKILL it at random moments (≥ 20 times),
// restart it, and check that every answer the UI showed as saved is still there and that
// the database passes PRAGMA integrity_check. Prints "e2e: N passed, N failed".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { launch, PIN, TAB } from './helpers.mjs';
import { sleep } from './webdriver.mjs';

const ROUNDS = Number(process.env.KILL_ROUNDS ?? 20);
const data = mkdtempSync(join(tmpdir(), 'voices-kill-'));

/** The app process started for this test: the one given our data dir. */
function appPid() {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      if (cmd[0].endsWith('voices-app') && cmd.includes(data)) return Number(pid);
    } catch {
      // Processes come and go while we look.
    }
  }
  return null;
}

/** The store's integrity_check, through the app (the file is encrypted). */
function integrity() {
  return execFileSync(process.env.VOICES_APP, ['check', '--data-dir', data], {
    env: { ...process.env, VOICES_PIN: PIN },
  }).toString().trim();
}

/** What the reopened draft shows for `path` (as saved: the page is rebuilt from the store). */
async function shown(d, path) {
  return (await d.find(`[data-path="${path}"] input`)).prop('value');
}

async function answer(d, path, value) {
  const input = await d.find(`[data-path="${path}"] input`);
  await input.clear();
  await input.type(value + TAB);
}

let passed = 0;
let failed = 0;
try {
  const acknowledged = new Map();
  let attempted = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await launch(data);
    if (round === 1) {
      await (await d.find('[data-form="minimal"] [data-testid="start"]')).click();
    } else {
      await (await d.find('[data-testid="tab-drafts"]')).click();
      await (await d.find('[data-testid="resume"]')).click();
      await d.find('main[data-page]');
      // Every acknowledged answer survived the last kill.
      for (const [path, value] of acknowledged) {
        const stored = await shown(d, path);
        const later = attempted.get(path);
        assert.ok(
          stored === value || stored === later,
          `round ${round}: ${path} is "${stored}", acknowledged "${value}"`,
        );
        acknowledged.set(path, stored);
      }
    }
    await d.find('main[data-page]');
    attempted = new Map();
    // Answers the UI reports saved are acknowledged; then one more, killed mid-flight.
    for (const [path, value] of [['/village', `v${round}`], ['/household_size', String(round)]]) {
      await answer(d, path, value);
      await d.find(`[data-path="${path}"] .status-saved`);
      acknowledged.set(path, value);
    }
    attempted.set('/village', `late${round}`);
    await answer(d, '/village', `late${round}`);
    await sleep(Math.floor(Math.random() * 40));
    const pid = appPid();
    assert.ok(pid, 'the app process was found');
    process.kill(pid, 'SIGKILL');
    await d.quit();
  }
  const d = await launch(data);
  await (await d.find('[data-testid="tab-drafts"]')).click();
  await (await d.find('[data-testid="resume"]')).click();
  await d.find('main[data-page]');
  for (const [path, value] of acknowledged) {
    const stored = await shown(d, path);
    assert.ok(stored === value || stored === attempted.get(path), `${path}: ${stored} vs ${value}`);
  }
  await d.quit();
  assert.equal(integrity(), 'integrity_check: ok');
  passed++;
  console.log(`ok - ${ROUNDS} SIGKILLs: every acknowledged answer kept, integrity_check ok`);
} catch (e) {
  failed++;
  console.log(`not ok - kill test: ${e.stack ?? e}`);
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
