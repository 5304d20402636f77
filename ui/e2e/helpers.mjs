// Helpers the end-to-end scenarios share: starting the app, answering, moving between pages.
import { join } from 'node:path';
import { Driver, sleep } from './webdriver.mjs';

export const APP = process.env.VOICES_APP;
export const ARTIFACTS = process.env.ARTIFACTS ?? 'artifacts';
export const DRIVER = process.env.TAURI_DRIVER_URL ?? 'http://127.0.0.1:4444';
export const FORM = 'community_life';
export const ESC = '\uE00C';
export const TAB = '\uE004';

/** The PIN the scenarios set on first start and unlock with. */
export const PIN = 'e2e-pin-1';

/** Enter `pin` on the lock screen (twice on first start) and submit. */
export async function enterPin(d, pin = PIN) {
  const screen = await d.find('[data-testid="lock-screen"]', { timeout: 30000 });
  const status = await screen.attr('data-status');
  await (await d.find('[data-testid="pin"]')).type(pin);
  if (status === 'new') await (await d.find('[data-testid="pin-again"]')).type(pin);
  await (await d.find('[data-testid="pin-submit"]')).click();
}

/** Start the app on `dataDir`: the PIN set (first start) or entered, the form list shown. */
export async function launch(dataDir) {
  const d = await Driver.start(DRIVER, APP, ['--data-dir', dataDir]);
  try {
    await enterPin(d);
    await d.find('[data-testid="form-list"][data-ready="true"]', { timeout: 30000 });
  } catch (e) {
    // Free the driver's only session so the next test can start.
    await d.quit();
    throw e;
  }
  return d;
}

export const shot = (d, name) => d.screenshot(join(ARTIFACTS, `${name}.png`));

export async function pageKey(d) {
  return (await d.find('main[data-page]')).attr('data-page');
}

/** Wait until the page shown is `key` (after navigation or a re-render). */
export async function onPage(d, key, timeout = 10000) {
  await d.find(`main[data-page="${key}"]`, { timeout });
}

/** Wait until the field's answer is reported saved (committed to disk). */
export async function saved(d, path) {
  await d.find(`[data-path="${path}"] .status-saved`, { timeout: 10000 });
}

export async function pick(d, path, value) {
  await (await d.find(`[data-path="${path}"] input[value="${value}"]`)).click();
  await saved(d, path);
}

export async function type(d, path, text) {
  const input = await d.find(`[data-path="${path}"] input, [data-path="${path}"] textarea`);
  await input.clear();
  await input.type(text + TAB);
  await saved(d, path);
}

/** Answer every unanswered question on the page with a harmless first choice. */
export async function fillPage(d) {
  // One answer at a time: an answer can change the choices or questions that follow.
  for (let i = 0; i < 40; i++) {
    const f = await firstUnanswered(d);
    if (!f) return;
    if (f.kind === 'referral' && f.first === 'no_service') {
      // No service matches (or no directory): record that nothing could be offered.
      await (await d.find(`[data-path="${f.path}"] [data-testid="referral-record-none"]`)).click();
      await saved(d, f.path);
    } else if (f.kind === 'select_one' || f.kind === 'select_multiple' || f.kind === 'referral') await pick(d, f.path, f.first);
    // An adult respondent (a minor would be asked for assent first).
    else if (f.kind === 'integer') await type(d, f.path, f.path === '/age' ? '34' : '2');
    else await type(d, f.path, 'Test');
  }
}

export async function firstUnanswered(d) {
  const todo = await d.exec(`
    return [...document.querySelectorAll('main .field')].map((f) => ({
      path: f.dataset.path,
      kind: f.dataset.kind,
      answered: f.dataset.kind === 'referral'
        ? !!f.querySelector('[data-testid="referral-recorded"]')
        : [...f.querySelectorAll('input')].some((i) =>
          (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value !== ''),
      first: f.querySelector('input[type=radio], input[type=checkbox]')?.value
        ?? (f.querySelector('[data-testid="referral-record-none"]') ? 'no_service' : null),
    }));`);
  return todo.find((f) =>
    !f.answered && (f.first !== null || f.kind === 'integer' || f.kind === 'text'));
}

export async function next(d) {
  await (await d.find('[data-testid="next"]')).click();
}

/** Fill and advance until the page `stop` is shown or the review opens. */
export async function fillUntil(d, stop, { handOver = true } = {}) {
  for (let i = 0; i < 60; i++) {
    const key = await pageKey(d);
    // A section with a matching rule this device's enumerator does not meet (the example
    // form's violence section, a female respondent, a device without a profile): handed
    // over to a female enumerator, so the scenarios go on as before.
    if (handOver && (await passMatching(d))) continue;
    if (key === stop) return;
    const kind = await (await d.find('main[data-page]')).attr('data-page-kind');
    if (kind === 'questions') await fillPage(d);
    const last = (await d.findAll('[data-testid="review"]')).length > 0;
    if (last) return;
    await next(d);
    await d.find(`main[data-page]:not([data-page="${key}"])`);
  }
  throw new Error(`never reached ${stop}`);
}

/** On a matching page: wait for the app's check; when it blocks, hand the section over
 *  to `name` (of `sex`). Whether the page was a matching page. */
export async function passMatching(d, name = 'Amal', sex = 'female') {
  const kind = () => d.exec('return document.querySelector("main[data-page]")?.dataset.pageKind ?? null');
  if ((await kind()) !== 'match_check') return false;
  for (let deadline = Date.now() + 10000; Date.now() < deadline; await sleep(100)) {
    if ((await kind()) !== 'match_check') return true;
    if ((await d.findAll('[data-testid="matching-blocked"]')).length) {
      await (await d.find('[data-testid="handover-name"]')).type(name);
      await (await d.find(`[data-testid="handover-sex-${sex}"]`)).click();
      await (await d.find('[data-testid="handover"]:not([disabled])')).click();
      await d.find('main[data-page]:not([data-page-kind="match_check"])');
      return true;
    }
  }
  throw new Error('the matching page neither opened nor blocked');
}

/** Open the Sections list and go to entry `n` (negative: from the end). */
export async function jump(d, n) {
  await (await d.find('.sections summary')).click();
  const entries = await d.findAll('.sections li button');
  await entries[n < 0 ? entries.length + n : n].click();
  await d.find('main[data-page]');
}

export async function start(d, lang, form = FORM) {
  const card = `[data-form="${form}"]`;
  const select = await d.find(`${card} [data-testid="start-language"]`);
  await select.click();
  await (await d.find(`${card} [data-testid="start-language"] option[value="${lang}"]`)).click();
  await (await d.find(`${card} [data-testid="start"]`)).click();
  if (form === FORM) await onPage(d, '/consent');
  else await d.find('main[data-page]');
}

// WebDriver key codes, for scenarios driven by the keyboard alone.
export const KEY = {
  TAB,
  ENTER: '\uE007',
  SHIFT: '\uE008',
  ESC,
  SPACE: '\uE00D',
  UP: '\uE013',
  DOWN: '\uE015',
};

/** Keys pressed together (e.g. Shift+Tab), on the focused element. */
export async function chord(d, ...keys) {
  const actions = [
    ...keys.map((k) => ({ type: 'keyDown', value: k })),
    ...[...keys].reverse().map((k) => ({ type: 'keyUp', value: k })),
  ];
  await d.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'kb', actions }] });
  await d.cmd('DELETE', '/actions').catch(() => {});
}

/** Load a form file through the Load forms screen's path box, then show the form list. */
export async function loadForm(d, path) {
  await (await d.find('[data-testid="tab-load"]')).click();
  await (await d.find('#form-path')).type(path);
  await (await d.find('[data-testid="load-path"]')).click();
  await d.find('.report[data-outcome="added"]', { timeout: 20000 });
  await (await d.find('[data-testid="tab-forms"]')).click();
}

/** Run named scenarios; prints "e2e: N passed, N failed" (scripts/test.sh sums it). */
export async function runAll(tests) {
  let passed = 0;
  let failed = 0;
  for (const [name, run] of tests) {
    const t0 = Date.now();
    try {
      await run();
      passed++;
      console.log(`ok - ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}: ${e.stack ?? e}`);
    }
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed;
}
