// A real `voices-server` on loopback for the end-to-end stories in the app window, and
// the steps they share: the Sync screen, a finished interview, a record's state.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { APP, FORM, fillPage, fillUntil, onPage, shot, start, type } from './helpers.mjs';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const SERVER = process.env.VOICES_SERVER_BIN ?? join(dirname(APP ?? '.'), 'voices-server');
export const PROJECT = 'fieldtest';

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** A real voices-server with its own SQLite data directory. */
export class Server {
  constructor(port) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.data = mkdtempSync(join(tmpdir(), 'voices-e2e-server-'));
    this.proc = null;
  }

  admin(...args) {
    return this.adminWith({}, ...args);
  }

  /** An admin command with more environment (`VOICES_PASSWORD` for `user add`). */
  adminWith(env, ...args) {
    return execFileSync(SERVER, ['--data-dir', this.data, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
  }

  async start() {
    this.proc = spawn(SERVER, ['--data-dir', this.data, 'serve', '--listen', `127.0.0.1:${this.port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    this.proc.stderr.on('data', (b) => (log += b));
    for (let i = 0; i < 100; i++) {
      if (this.proc.exitCode !== null) throw new Error(`voices-server stopped: ${log}`);
      const up = await fetch(`${this.url}/health`).then((r) => r.ok, () => false);
      if (up) return;
      await sleep(100);
    }
    throw new Error(`voices-server did not answer on ${this.url}: ${log}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((ok) => this.proc.once('exit', ok));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  /** Every stored response of `form`, from `voices-server export --format json`. */
  exported(form) {
    return JSON.parse(this.admin('export', '--project', PROJECT, '--form', form, '--format', 'json'));
  }
}

/** Open the Sync tab and wait until the screen shows `phase` (any when omitted). */
export async function syncScreen(d, phase) {
  await (await d.find('[data-testid="tab-sync"]')).click();
  await d.find(phase ? `[data-testid="sync-screen"][data-phase="${phase}"]` : '[data-testid="sync-screen"]');
}

export async function syncNow(d) {
  await syncScreen(d);
  await (await d.find('[data-testid="sync-now"]:not([disabled])', { timeout: 30000 })).click();
}

export async function recordState(d, responseId, state, timeout = 30000) {
  return d.find(`[data-testid="outbox"] [data-response="${responseId}"][data-state="${state}"]`, { timeout });
}

/** Finish an interview of `form` with harmless answers; returns its response id. */
export async function finishInterview(d, form) {
  await (await d.find('[data-testid="tab-forms"]')).click();
  await start(d, 'en', form);
  const responseId = await (await d.find('.interview[data-response]')).attr('data-response');
  if (form === FORM) {
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await fillUntil(d, '/respondent');
    await type(d, '/age', '34');
    await fillPage(d);
    await fillUntil(d, '/experiences');
    await (await d.find('[data-testid="privacy-no"]')).click();
    await d.find('main[data-mode="review"], main[data-page]:not([data-page="/experiences"])');
  }
  // Skipping the last section goes straight to the review.
  if (!(await d.findAll('main[data-mode="review"]')).length) {
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
  }
  await (await d.find('[data-testid="finalize"]:not([disabled])')).click();
  await d.find('main[data-mode="done"]');
  await (await d.find('main[data-mode="done"] button:last-child')).click();
  await d.find('[data-testid="form-list"]');
  return responseId;
}

/** Screenshot from the top of the screen (a click may have scrolled it). */
export async function topShot(d, name) {
  await d.exec('window.scrollTo(0, 0)');
  await shot(d, name);
}

