// The lock screen in the real window: first start sets a PIN, a restart asks for it, a
// wrong PIN is refused and counted, the warning before the last tries says what the
// last one does, the right PIN opens, "Lock" closes, and the last wrong PIN erases the
// device. Prints "e2e: N passed, N failed".
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { APP, DRIVER, PIN, enterPin, launch, runAll, shot } from './helpers.mjs';
import { Driver } from './webdriver.mjs';

/** The app on `data` left at its lock screen. */
async function open(data) {
  const d = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  await d.find('[data-testid="lock-screen"]', { timeout: 30000 });
  return d;
}

async function tryPin(d, pin) {
  const input = await d.find('[data-testid="pin"]');
  await input.clear();
  await input.type(pin);
  await (await d.find('[data-testid="pin-submit"]')).click();
}

/** Wait until the lock screen says `left` tries are left. */
async function leftSays(d, left) {
  const el = await d.find('[data-testid="attempts-left"]');
  for (let i = 0; i < 100; i++) {
    if ((await el.text()).includes(String(left))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the screen never said ${left} tries are left: ${await el.text()}`);
}

const failed = await runAll([
  [
    'first start sets a PIN; a restart asks for it; wrong PINs are counted and warned about; Lock closes the app',
    async () => {
      const data = mkdtempSync(join(tmpdir(), 'voices-e2e-lock-'));
      let d = await open(data);
      try {
        assert.equal(await (await d.find('[data-testid="lock-screen"]')).attr('data-status'), 'new');
        // Two different entries are refused before anything is set.
        await (await d.find('[data-testid="pin"]')).type(PIN);
        await (await d.find('[data-testid="pin-again"]')).type('something-else');
        await (await d.find('[data-testid="pin-submit"]')).click();
        await d.find('[data-testid="pin-problem"]');
        assert.ok(!existsSync(join(data, 'key.json')), 'no PIN was set');
        await d.quit();
        d = await launch(data);
        assert.ok(existsSync(join(data, 'key.json')));
        await d.quit();

        d = await open(data);
        assert.equal(await (await d.find('[data-testid="lock-screen"]')).attr('data-status'), 'locked');
        for (let i = 1; i <= 7; i++) {
          await tryPin(d, `wrong-${i}-pin`);
          await leftSays(d, 10 - i);
        }
        // 3 tries left: the screen says what the last one does.
        const warning = await (await d.find('[data-testid="wipe-warning"]')).text();
        assert.match(warning, /erased/);
        await shot(d, 'lock-warning');
        await tryPin(d, PIN);
        await d.find('[data-testid="form-list"][data-ready="true"]', { timeout: 30000 });
        // Lock by hand: the lock screen comes back and asks again (the count starts over).
        await (await d.find('[data-testid="lock"]')).click();
        await d.find('[data-testid="lock-screen"][data-status="locked"]');
        await d.gone('[data-testid="attempts-left"]');
        await enterPin(d);
        await d.find('[data-testid="form-list"][data-ready="true"]', { timeout: 30000 });
      } finally {
        await d.quit();
      }
    },
  ],
  [
    'the Arabic lock screen is right to left; the tenth wrong PIN erases the device and says so',
    async () => {
      const data = mkdtempSync(join(tmpdir(), 'voices-e2e-wipe-'));
      let d = await launch(data);
      await d.quit();
      d = await open(data);
      try {
        const language = await d.find('[data-testid="lock-language"]');
        await language.click();
        await (await d.find('[data-testid="lock-language"] option[value="ar"]')).click();
        assert.equal(await d.exec('return document.documentElement.dir'), 'rtl');
        await shot(d, 'lock-ar');
        for (let i = 1; i <= 10; i++) await tryPin(d, `wrong-${i}-pin`);
        await d.find('[data-testid="wiped-notice"]', { timeout: 20000 });
        await d.find('[data-testid="lock-screen"][data-status="new"]');
        const left = readdirSync(data);
        for (const gone of ['key.json', 'voices.sqlite', 'voices.sqlite-wal', 'attachments']) {
          assert.ok(!left.includes(gone), `${gone} is still there after the wipe: ${left}`);
        }
      } finally {
        await d.quit();
      }
    },
  ],
]);
process.exit(failed ? 1 : 0);
