// Kill test: answer questions in the real app, SIGKILL it at random moments (≥ 20 times),
// restart it, and check that every answer the UI showed as saved is still there and that
// the database passes PRAGMA integrity_check. Prints "e2e: N passed, N failed".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { launch, TAB } from './helpers.mjs';
import { sleep } from './webdriver.mjs';

const ROUNDS = Number(process.env.KILL_ROUNDS ?? 20);
const data = mkdtempSync(join(tmpdir(), 'voices-kill-'));
const db = join(data, 'voices.sqlite');

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

function sql(query) {
  return execFileSync('python3', [
    '-c',
    'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print("\\n".join(str(r[0]) for r in c.execute(sys.argv[2])))',
    db,
    query,
  ]).toString().trim();
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
      // Every acknowledged answer survived the last kill.
      for (const [path, value] of acknowledged) {
        const stored = sql(`SELECT value FROM answers WHERE path = '${path}'`);
        const later = attempted.get(path);
        assert.ok(
          stored === value || stored === later,
          `round ${round}: ${path} is "${stored}", acknowledged "${value}"`,
        );
        acknowledged.set(path, stored);
      }
      await (await d.find('[data-testid="tab-drafts"]')).click();
      await (await d.find('[data-testid="resume"]')).click();
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
  await d.quit();
  for (const [path, value] of acknowledged) {
    const stored = sql(`SELECT value FROM answers WHERE path = '${path}'`);
    assert.ok(stored === value || stored === attempted.get(path), `${path}: ${stored} vs ${value}`);
  }
  assert.equal(sql('PRAGMA integrity_check'), 'ok');
  passed++;
  console.log(`ok - ${ROUNDS} SIGKILLs: every acknowledged answer kept, integrity_check ok`);
} catch (e) {
  failed++;
  console.log(`not ok - kill test: ${e.stack ?? e}`);
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
