// End-to-end scenarios of the enumerator's experience in the real window: keyboard-only
// completion, a privacy check interrupted and resumed, the geotrace/geoshape, rank,
// search, range and image widgets, editing a finalized response, Ukrainian and Spanish,
// the app's own language kept across a restart.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import zlib from 'node:zlib';
import { sleep } from './webdriver.mjs';
import {
  KEY, chord, fillPage, fillUntil, jump, launch, loadForm, next, onPage, pageKey, pick,
  runAll, saved, shot, start, type,
} from './helpers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const FORM = 'community_life';

const FOCUS = `
  const e = document.activeElement;
  const f = e && e.closest('[data-path]');
  const main = document.querySelector('main[data-mode]');
  return {
    tag: e ? e.tagName.toLowerCase() : null,
    type: e && e.type ? e.type : null,
    testid: e && e.dataset ? e.dataset.testid ?? null : null,
    disabled: !!(e && e.disabled),
    issue: !!(e && e.closest('[data-testid="issues"]')),
    path: f ? f.dataset.path : null,
    kind: f ? f.dataset.kind : null,
    checked: !!(e && e.checked),
    answered: f ? [...f.querySelectorAll('input, textarea')].some((i) =>
      (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value !== '') : false,
    page: main ? main.dataset.page : null,
    mode: main ? main.dataset.mode : null,
    decoy: !!document.querySelector('[data-testid="decoy"]'),
  };`;
const focus = (d) => d.exec(FOCUS);
const press = (d, key) => d.keys(key);

/** Tab (forward) until the focused element matches `want`, or fail after `limit` stops. */
async function tabTo(d, want, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await press(d, KEY.TAB);
    const f = await focus(d);
    if (want(f)) return f;
  }
  throw new Error('the keyboard never reached the control it looked for');
}

/** The whole human-security interview with Tab, Shift+Tab, Space, Enter, arrows and Esc. */
async function keyboardOnly() {
  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-keys-')));
  try {
    // Start: Tab to the first form's Start button and press Enter.
    await tabTo(d, (f) => f.testid === 'start');
    const startedCard = await d.exec('return document.activeElement.closest("[data-form]").dataset.form');
    assert.equal(startedCard, FORM, 'the first card is the human-security form');
    await press(d, KEY.ENTER);
    await onPage(d, '/consent');
    await tabTo(d, (f) => f.testid === 'consent-yes');
    await press(d, KEY.ENTER);
    await onPage(d, '/location');

    let checkedArrows = false;
    let checkedShiftTab = false;
    let hid = false;
    for (let stop = 0; stop < 3000; stop++) {
      const f = await focus(d);
      if (f.mode === 'done') break;
      // Safe exit by its shortcut once, mid-interview; back with the keyboard only.
      if (!hid && f.page === '/household') {
        hid = true;
        await press(d, KEY.ESC);
        await d.find('[data-testid="decoy"]', { timeout: 2000 });
        await tabTo(d, (g) => g.testid === 'safe-options');
        await press(d, KEY.ENTER);
        // The deliberate second step is focused for the keyboard user.
        assert.equal((await focus(d)).testid, 'safe-return', 'Return to work takes the focus');
        await press(d, KEY.ENTER);
        await onPage(d, '/household');
        continue;
      }
      if (f.testid === 'privacy-yes') {
        // The section's questions replace the check (same section path, other kind of page).
        await press(d, KEY.ENTER);
        await d.find('main[data-page-kind="questions"]');
        continue;
      }
      if (f.testid === 'next' && !f.disabled) {
        await press(d, KEY.ENTER);
        await d.find(`main[data-page]:not([data-page="${f.page}"])`);
        continue;
      }
      if (f.testid === 'review') {
        await press(d, KEY.ENTER);
        await d.find('main[data-mode="review"]');
        continue;
      }
      if (f.issue) {
        throw new Error(`the review lists an unanswered question: ${await d.exec('return document.activeElement.textContent')}`);
      }
      if (f.testid === 'finalize' && !f.disabled) {
        await press(d, KEY.ENTER);
        await d.find('main[data-mode="done"]');
        break;
      }
      if (f.testid === 'referral-record-none') {
        // No directory on this device: the referral step records that nothing was offered.
        await press(d, KEY.ENTER);
        await d.find('[data-testid="referral-recorded"]');
        continue;
      }
      if (f.path && !f.answered && f.tag === 'input') {
        if (f.type === 'radio') {
          await press(d, KEY.SPACE);
          await saved(d, f.path);
          if (!checkedArrows) {
            // Arrow keys move the choice within the group and save it.
            checkedArrows = true;
            const first = await d.exec('return document.activeElement.value');
            await press(d, KEY.DOWN);
            await d.find(`[data-path="${f.path}"] input:checked:not([value="${first}"])`);
            await press(d, KEY.UP);
            await d.find(`[data-path="${f.path}"] input[value="${first}"]:checked`);
            await saved(d, f.path);
          }
        } else if (f.type === 'checkbox') {
          await press(d, KEY.SPACE);
          await saved(d, f.path);
        } else {
          const value = f.kind === 'integer' || f.kind === 'decimal' ? (f.path === '/age' ? '34' : '2') : 'Test';
          await press(d, value + KEY.TAB);
          await saved(d, f.path);
          if (!checkedShiftTab) {
            checkedShiftTab = true;
            await chord(d, KEY.SHIFT, KEY.TAB);
            assert.equal((await focus(d)).path, f.path, 'Shift+Tab goes back to the answer just typed');
            await press(d, KEY.TAB);
          }
          continue; // Tab already moved on
        }
      }
      await press(d, KEY.TAB);
    }
    await d.find('main[data-mode="done"]');
    assert.ok(hid && checkedArrows && checkedShiftTab, 'the safe exit, arrows and Shift+Tab were all used');
    await shot(d, 'keyboard-finished');
  } finally {
    await d.quit();
  }
}

/** Privacy check: "yes", one answer, then "Interrupted"; resumed later, the check is asked again. */
async function privacyInterrupted() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-privacy-'));
  let d = await launch(data);
  try {
    await start(d, 'en');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await fillUntil(d, '/respondent');
    await type(d, '/age', '34');
    await fillUntil(d, '/experiences');
    await (await d.find('[data-testid="privacy-yes"]')).click();
    await d.find('main[data-page-kind="questions"] [data-path="/officials_abuse"]');
    await pick(d, '/officials_abuse', 'no');
    await shot(d, 'privacy-before-interrupt');
    // Someone comes in: the enumerator stops the section.
    await (await d.find('[data-testid="privacy-interrupted"]')).click();
    await d.find('[data-testid="form-list"]');
    await d.quit();

    // Later, after a restart: the draft resumes at the interrupted section's check.
    d = await launch(data);
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find('[data-testid="drafts"] [data-status="draft"] [data-testid="resume"]')).click();
    await onPage(d, '/experiences');
    const note = await (await d.find('main[data-page-kind="privacy_check"] .message')).text();
    assert.ok(note.length > 0, 'the check says it was interrupted');
    await shot(d, 'privacy-resumed');
    await (await d.find('[data-testid="privacy-yes"]')).click();
    await d.find('main[data-page-kind="questions"] [data-path="/officials_abuse"]');
    const kept = await d.exec('return document.querySelector(\'[data-path="/officials_abuse"] input[value="no"]\').checked');
    assert.equal(kept, true, 'the answer given before the interruption is kept');
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await d.find('main[data-mode="review"]');
    const issues = await d.findAll('[data-testid="issues"]');
    assert.equal(issues.length, 0, `nothing left to answer: ${issues.length ? await issues[0].text() : ''}`);
    await (await d.find('[data-testid="finalize"]')).click();
    await d.find('main[data-mode="done"]');
  } finally {
    await d.quit();
  }
}

/** A `width`×`height` PNG of a simple landscape (sky over ground), made here so the
 * test needs no binary fixture. */
function png(width, height) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      const sky = y < height * 0.6;
      rows[at] = sky ? 90 + y : 60;
      rows[at + 1] = sky ? 150 + y / 2 : 120 + (x % 20);
      rows[at + 2] = sky ? 220 : 50;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function setPoint(d, path, n, lat, lon, alt = '', acc = '') {
  const li = `[data-path="${path}"] [data-point="${n}"]`;
  for (const [part, v] of [['lat', lat], ['lon', lon], ['alt', alt], ['acc', acc]]) {
    if (v === '') continue;
    const input = await d.find(`${li} input[id$="-${part}"]`);
    await input.clear();
    await input.type(v + KEY.TAB);
  }
}

/** The value the engine holds for `path` on page `page`, read through the UI's own command. */
async function fieldValue(d, path, page = 0) {
  return d.execAsync(
    `const [path, page, done] = arguments;
     const rid = document.querySelector('.interview').dataset.response;
     window.__TAURI_INTERNALS__.invoke('get_page', { request: { response_id: rid, page, language: null } })
       .then((p) => done(p.fields.find((f) => f.path === path)?.value ?? null), (e) => done('error: ' + JSON.stringify(e)));`,
    [path, page],
  );
}

/** Widgets: search in a long list, geotrace and geoshape points, rank, an image with preview. */
async function widgets() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-widgets-'));
  const d = await launch(data);
  try {
    await loadForm(d, resolve(here, 'fixtures/widgets.json'));
    // The form list names the languages a form can be asked in.
    const languages = await (await d.find('[data-form="widgets"] [data-testid="form-languages"]')).text();
    assert.match(languages, /English, Español/);
    await start(d, 'en', 'widgets');
    await onPage(d, '/place');

    // More than 20 choices: a search box narrows them.
    const search = await d.find('[data-path="/country"] input[type="search"]');
    await search.type('ukr');
    const shown = await d.findAll('[data-path="/country"] .choice');
    assert.equal(shown.length, 1, 'the search leaves one choice');
    await pick(d, '/country', 'ukraine');

    // A geotrace of two points, typed; a bad latitude is refused until fixed.
    await (await d.find('[data-path="/route"] [data-testid="geo-add"]')).click();
    await setPoint(d, '/route', 1, '95', '30.5');
    const problem = await (await d.find('[data-path="/route"] [data-point="1"] .problem')).text();
    assert.match(problem, /-90 and 90/, 'latitude out of range is explained');
    await setPoint(d, '/route', 1, '50.45', '30.52', '180', '5');
    await (await d.find('[data-path="/route"] [data-testid="geo-add"]')).click();
    await setPoint(d, '/route', 2, '50.46', '30.53');
    await saved(d, '/route');
    assert.equal(await fieldValue(d, '/route'), '50.45 30.52 180 5;50.46 30.53 0 0');

    // A geoshape: three corners, reordered; the stored value closes on the first point.
    for (const [n, lat, lon] of [[1, '1', '2'], [2, '3', '4'], [3, '5', '6']]) {
      await (await d.find('[data-path="/plot"] [data-testid="geo-add"]')).click();
      await setPoint(d, '/plot', n, lat, lon);
    }
    await saved(d, '/plot');
    assert.equal(await fieldValue(d, '/plot'), '1 2 0 0;3 4 0 0;5 6 0 0;1 2 0 0');
    await (await d.find('[data-path="/plot"] [data-point="3"] button[id$="-up"]')).click();
    await d.find('[data-path="/plot"] .status-saving, [data-path="/plot"] .status-saved');
    await sleep(300);
    assert.equal(await fieldValue(d, '/plot'), '1 2 0 0;5 6 0 0;3 4 0 0;1 2 0 0');
    const summary = await (await d.find('[data-path="/plot"] [data-testid="geo-summary"]')).text();
    assert.match(summary, /Closed shape/);
    await d.exec('document.querySelector(\'[data-path="/plot"]\').scrollIntoView()');
    await shot(d, 'widgets-geoshape');
    // Removing a corner leaves two: the widget and the engine both say what is missing.
    await (await d.find('[data-path="/plot"] [data-point="3"] [data-testid="geo-remove"]')).click();
    await d.find('[data-path="/plot"] .problem');
    assert.match(await (await d.find('[data-path="/plot"] [data-testid="geo-summary"]')).text(), /at least 3/);
    // The Sections list shows how far each section is and which has answers to fix.
    await (await d.find('.sections summary')).click();
    const place = await d.exec(`
      const li = document.querySelector('.sections li');
      return { progress: li.querySelector('[data-testid="section-progress"]')?.textContent,
               problem: li.querySelector('[role="img"]')?.getAttribute('aria-label') ?? null };`);
    assert.match(place.progress ?? '', /^[23]\/3$/, `section progress: ${place.progress}`);
    assert.equal(place.problem, 'has answers to fix');
    await (await d.find('.sections summary')).click();

    await next(d);
    await onPage(d, '/evidence');
    // Rank by buttons: Food up to first place.
    await (await d.find('[data-path="/priorities"] button[aria-label$=": Food"][aria-label^="Move up"]')).click();
    await saved(d, '/priorities');
    const order = await d.exec('return [...document.querySelectorAll(\'[data-path="/priorities"] .rank-label\')].map((e) => e.textContent)');
    assert.deepEqual(order, ['Food', 'Water', 'Shelter']);

    // A downward range (10 to 0): 10 stands on the reading side. The untouched slider
    // shows no answer; tapping its thumb where it stands answers with that number.
    const slider = await d.find('[data-path="/safety"] input[type="range"]');
    const rangeText = async () => (await d.find('[data-path="/safety"] [data-testid="range-value"]')).text();
    assert.equal(await rangeText(), '–');
    const ends = await d.exec(`
      const f = document.querySelector('[data-path="/safety"]');
      const [a, b] = f.querySelectorAll('.range-end');
      const i = f.querySelector('input[type=range]').getBoundingClientRect();
      return { first: a.textContent, last: b.textContent, firstOnLeft: a.getBoundingClientRect().right <= i.left + 1 };`);
    assert.deepEqual(ends, { first: '10', last: '0', firstOnLeft: true });
    await slider.click();
    await saved(d, '/safety');
    assert.equal(await fieldValue(d, '/safety', 1), '5');
    assert.equal(await rangeText(), '5');
    // Near the left end is near 10.
    const width = await d.exec('return arguments[0].getBoundingClientRect().width', [slider.ref()]);
    await d.cmd('POST', '/actions', {
      actions: [{
        type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' },
        actions: [
          { type: 'pointerMove', origin: slider.ref(), x: -Math.floor(width / 2) + 2, y: 0 },
          { type: 'pointerDown', button: 0 },
          { type: 'pointerUp', button: 0 },
        ],
      }],
    });
    await d.cmd('DELETE', '/actions').catch(() => {});
    let safety = null;
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(100)) {
      safety = await fieldValue(d, '/safety', 1);
      if (safety !== '5') break;
    }
    assert.ok(Number(safety) >= 9, `a tap at the left end of a 10-to-0 slider gives about 10, not ${safety}`);
    assert.equal(await rangeText(), safety);

    // An image from disk, with its preview. The chooser's button speaks the form's
    // language (WebKit's own would say "Choose File" whatever the language); the real
    // file input stays, focusable and labelled by the question and the button.
    const picker = () => d.exec(`
      const f = document.querySelector('[data-path="/photo"]');
      const input = f.querySelector('input[type=file]');
      input.focus();
      return {
        button: f.querySelector('.file-button').textContent,
        chosen: f.querySelector('.file-name').textContent,
        labels: [...input.labels].map((l) => l.textContent.trim()),
        focused: document.activeElement === input,
      };`);
    assert.deepEqual(await picker(), {
      button: 'Choose file', chosen: 'No file chosen',
      labels: ['Photo of the water point', 'Choose file'], focused: true,
    });
    const photo = join(data, 'water-point.png');
    writeFileSync(photo, png(240, 160));
    await (await d.find('[data-path="/photo"] input[type="file"]', { visible: false })).type(photo);
    await saved(d, '/photo');
    const img = await d.find('[data-path="/photo"] img.preview', { timeout: 10000 });
    await d.exec('arguments[0].scrollIntoView({ block: "center" })', [img.ref()]);
    const size = await d.exec('return arguments[0].naturalWidth', [img.ref()]);
    assert.equal(size, 240, 'the preview shows the picture');
    assert.equal((await picker()).chosen, 'water-point.png');
    await shot(d, 'widgets-image');

    // In Spanish, the chooser says so too.
    await (await d.find('[data-testid="language"]')).click();
    await (await d.find('[data-testid="language"] option[value="es"]')).click();
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(100)) {
      if ((await picker()).button === 'Elegir archivo') break;
    }
    assert.deepEqual(await picker(), {
      button: 'Elegir archivo', chosen: 'water-point.png',
      labels: ['Foto del punto de agua', 'Elegir archivo'], focused: true,
    });
    await d.exec('document.querySelector(\'[data-path="/photo"]\').scrollIntoView({ block: "center" })');
    await shot(d, 'widgets-file-es');

    // A barcode: read from a photo of its QR code, or typed. A picture without a code
    // says so in the form's language (still Spanish) and changes nothing.
    const meter = '[data-path="/meter"]';
    assert.equal(await (await d.find(`${meter} label.file-button`)).text(), 'Leer un código QR de una imagen');
    await (await d.find(`${meter} input[type="file"]`, { visible: false })).type(photo);
    assert.match(await (await d.find(`${meter} [data-testid="barcode-message"]`)).text(), /No se pudo leer/);
    assert.equal(await fieldValue(d, '/meter', 1), null);
    await (await d.find(`${meter} input[type="file"]`, { visible: false })).type(resolve(here, 'fixtures/meter-qr.png'));
    await saved(d, '/meter');
    assert.equal(await fieldValue(d, '/meter', 1), 'METER-0042');
    assert.equal(await (await d.find(`${meter} input[type="text"]`)).prop('value'), 'METER-0042');
    await d.gone(`${meter} [data-testid="barcode-message"]`);
    await type(d, '/meter', 'METER-0043');
    let typed = null;
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(100)) {
      typed = await fieldValue(d, '/meter', 1);
      if (typed === 'METER-0043') break;
    }
    assert.equal(typed, 'METER-0043');

    // At 360×640 these widgets fit: nothing overflows sideways.
    await d.setWindow(360, 640);
    await d.exec('document.querySelector(\'[data-path="/safety"]\').scrollIntoView({ block: "start" })');
    const overflow = await d.exec('return document.documentElement.scrollWidth > window.innerWidth + 1');
    assert.equal(overflow, false, 'nothing overflows sideways at 360 px');
    await shot(d, 'widgets-phone-es');
  } finally {
    await d.quit();
  }
}

/** A finalized, unsent response is edited and queued again. */
async function editFinalized() {
  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-edit-')));
  try {
    await start(d, 'en', 'minimal');
    await type(d, '/village', 'Kobane');
    await type(d, '/household_size', '5');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find('[data-testid="drafts"] [data-status="queued"] [data-testid="edit"]')).click();
    await d.find('[data-path="/village"]');
    await type(d, '/village', 'Amuda');
    await (await d.find('[data-testid="review"]')).click();
    await (await d.find('[data-testid="finalize"]')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();
    await (await d.find('[data-testid="tab-drafts"]')).click();
    const card = await d.find('[data-testid="drafts"] [data-status="queued"]');
    assert.match(await card.text(), /Edits: 1/, "the list counts the edit");
    await shot(d, 'edited-requeued');
    // The edit is what is queued.
    await (await d.find('[data-testid="drafts"] [data-status="queued"] [data-testid="edit"]')).click();
    const village = await (await d.find('[data-path="/village"] input')).prop('value');
    assert.equal(village, 'Amuda');
  } finally {
    await d.quit();
  }
}

/** The interview in Ukrainian, switched to Spanish: the form's labels and the app's words follow. */
async function ukrainianAndSpanish() {
  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-uk-es-')));
  try {
    await start(d, 'uk');
    assert.equal(await d.exec('return document.documentElement.lang'), 'uk');
    assert.equal(await (await d.find('main h2')).text(), 'Інформація та згода');
    assert.equal(await (await d.find('[data-testid="close"]')).text(), 'Зберегти й закрити');
    assert.equal(await (await d.find('[data-testid="safe-exit"]')).text(), 'Швидко сховати');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    assert.equal(await (await d.find('[data-testid="next"]')).text(), 'Далі');
    await shot(d, 'uk-location');
    const ukLabel = await (await d.find('main .field .label')).text();
    assert.match(ukLabel, /[\u0400-\u04FF]/, 'the question is in Ukrainian');

    const select = await d.find('[data-testid="language"]');
    await select.click();
    await (await d.find('[data-testid="language"] option[value="es"]')).click();
    const deadline = Date.now() + 5000;
    while ((await (await d.find('[data-testid="next"]')).text()) !== 'Siguiente' && Date.now() < deadline) await sleep(100);
    assert.equal(await (await d.find('[data-testid="next"]')).text(), 'Siguiente');
    assert.equal(await d.exec('return document.documentElement.lang'), 'es');
    const esLabel = await (await d.find('main .field .label')).text();
    assert.notEqual(esLabel, ukLabel);
    assert.doesNotMatch(esLabel, /[\u0400-\u04FF]/, 'the question is in Spanish');
    assert.equal(await (await d.find('[data-testid="safe-exit"]')).text(), 'Ocultar rápido');
    await fillPage(d);
    await shot(d, 'es-location');
    // The language is kept per interview: after leaving and resuming, still Spanish.
    await (await d.find('[data-testid="close"]')).click();
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find('[data-testid="resume"]')).click();
    await d.find('main[data-page]');
    assert.equal(await (await d.find('[data-testid="next"]')).text(), 'Siguiente');
  } finally {
    await d.quit();
  }
}

/** A designer's folder: a good form loads, a form with a broken expression is reported by
 * file, line, column and pointer, an unreadable file is reported and stops nothing. */
async function loadFolder() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-folder-'));
  const folder = join(data, 'forms');
  mkdirSync(folder);
  const widgets = JSON.parse(readFileSync(resolve(here, 'fixtures/widgets.json'), 'utf8'));
  writeFileSync(join(folder, 'a-visit.json'), JSON.stringify({ ...widgets, id: 'folder_visit' }, null, 2));
  const broken = structuredClone(widgets);
  broken.id = 'folder_broken';
  broken.body[1].body.find((f) => f.name === 'notes').constraint = 'string-length(.) <';
  writeFileSync(join(folder, 'b-broken.json'), JSON.stringify(broken, null, 2));
  writeFileSync(join(folder, 'c-old.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
  writeFileSync(join(folder, 'notes.txt'), 'not a form');
  const d = await launch(data);
  try {
    await (await d.find('[data-testid="tab-load"]')).click();
    assert.equal(await (await d.find('label.file-button[for="form-files"]')).text(), 'Choose files');
    await (await d.find('#form-path')).type(folder);
    await (await d.find('[data-testid="load-path"]')).click();
    await d.find('.report[data-outcome="rejected"] .diagnostics', { timeout: 20000 });
    const reports = await d.exec(`return [...document.querySelectorAll('.report')].map((r) => ({
      outcome: r.dataset.outcome,
      heading: r.querySelector('h3').textContent,
      lines: [...r.querySelectorAll('.diagnostics li')].map((li) => li.textContent.replace(/\\s+/g, ' ').trim()),
    }));`);
    assert.deepEqual(reports.map((r) => r.outcome), ['added', 'rejected', 'rejected'], JSON.stringify(reports));
    assert.match(reports[0].heading, /a-visit\.json: added/);
    // The broken expression: file, line and column, and the pointer to the constraint.
    const at = reports[1].lines.find((l) => l.includes('/constraint'));
    assert.match(at ?? '', /b-broken\.json:\d+:\d+ \/body\/1\/body\/\d+\/constraint /, JSON.stringify(reports[1]));
    assert.match(reports[2].lines[0], /c-old\.json.*not UTF-8 text \(byte 3\)/);
    await d.exec('document.querySelector(\'.report[data-outcome="rejected"]\').scrollIntoView({ block: "center" })');
    await shot(d, 'load-folder-report');
    await (await d.find('[data-testid="tab-forms"]')).click();
    await d.find('[data-form="folder_visit"]');
    assert.equal((await d.findAll('[data-form="folder_broken"]')).length, 0, 'the broken form is not stored');
  } finally {
    await d.quit();
  }
}

/** The app's own language, chosen in the header, is the one it opens in next time. */
async function appLanguageKept() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-app-language-'));
  let d = await launch(data);
  try {
    const select = await d.find('[data-testid="app-language"]');
    await select.click();
    await (await d.find('[data-testid="app-language"] option[value="ar"]')).click();
    await d.find('html[dir="rtl"]');
    assert.equal(await (await d.find('[data-testid="tab-forms"]')).text(), 'الاستمارات');
    await d.quit();

    d = await launch(data);
    assert.equal(await d.exec('return document.documentElement.dir'), 'rtl');
    assert.equal(await d.exec('return document.documentElement.lang'), 'ar');
    assert.equal(await (await d.find('[data-testid="app-language"]')).prop('value'), 'ar');
    assert.equal(await (await d.find('[data-testid="tab-forms"]')).text(), 'الاستمارات');
    assert.equal(await (await d.find('[data-testid="start"]')).text(), 'بدء المقابلة');
    // A new interview starts in the app's language when the form has it, else its default.
    assert.equal(await (await d.find('[data-form="community_life"] [data-testid="start-language"]')).prop('value'), 'ar');
    assert.equal(await (await d.find('[data-form="minimal"] [data-testid="start-language"]')).prop('value'), 'en');
    await shot(d, 'app-language-restored-ar');
    // Quick hide from the form list: an empty notes screen, in Arabic too.
    await d.keys(KEY.ESC);
    await d.find('[data-testid="decoy"][dir="rtl"]', { timeout: 2000 });
    assert.equal(await (await d.find('[data-testid="decoy"] h1')).text(), 'ملاحظات');
    await sleep(300);
    assert.equal(await d.title(), 'ملاحظات', 'the window title says the same');
    await (await d.find('[data-testid="safe-options"]')).click();
    await (await d.find('[data-testid="safe-return"]')).click();
    await d.find('[data-testid="form-list"]');
    // An interview in English leaves the app in Arabic afterwards.
    await start(d, 'en');
    assert.equal(await d.exec('return document.documentElement.dir'), 'ltr');
    await (await d.find('[data-testid="close"]')).click();
    await d.find('[data-testid="form-list"]');
    assert.equal(await d.exec('return document.documentElement.dir'), 'rtl');

    // Back to English, kept as well.
    await (await d.find('[data-testid="app-language"]')).click();
    await (await d.find('[data-testid="app-language"] option[value="en"]')).click();
    await d.find('html[dir="ltr"]');
    await d.quit();
    d = await launch(data);
    assert.equal(await (await d.find('[data-testid="tab-forms"]')).text(), 'Forms');
  } finally {
    await d.quit();
  }
}

/** At 360×640, every control reached by Tab is in view and not hidden under the sticky
 * page bar, and the focus style is an outline of at least 2 px. (Under Xvfb without a
 * window manager the window never has the system focus, so `:focus` itself does not
 * match and the outline cannot be read off the focused element; the rule is checked.) */
async function phoneFocus() {
  const d = await launch(mkdtempSync(join(tmpdir(), 'voices-e2e-phone-focus-')));
  try {
    await d.setWindow(360, 640);
    await start(d, 'en');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    const rule = await d.exec(`
      for (const sheet of document.styleSheets) for (const r of sheet.cssRules)
        if (r.selectorText === ':focus-visible') return r.style.getPropertyValue('outline');
      return null;`);
    const width = Number(/(\d+)px solid/.exec(rule ?? '')?.[1] ?? 0);
    assert.ok(width >= 2, `a visible focus outline rule: ${rule}`);
    const seen = new Set();
    for (let i = 0; i < 40; i++) {
      await press(d, KEY.TAB);
      const f = await d.exec(`
        const e = document.activeElement;
        const r = e.getBoundingClientRect();
        const pager = document.querySelector('.pager');
        const cover = pager && !pager.contains(e) ? pager.getBoundingClientRect().top : window.innerHeight;
        return { what: e.outerHTML.slice(0, 80), top: r.top, bottom: r.bottom, cover };`);
      seen.add(f.what);
      assert.ok(f.top >= 0 && f.bottom <= f.cover + 1, `focused control in view, not under the page bar: ${f.what} (${f.top}..${f.bottom}, bar at ${f.cover})`);
    }
    assert.ok(seen.size > 5, `Tab moved through the page (${seen.size} controls)`);
    await shot(d, 'phone-focus');
  } finally {
    await d.quit();
  }
}

const tests = [
  ['keyboard only: the whole interview with Tab, Space, Enter, arrows and Esc', keyboardOnly],
  ['privacy check interrupted mid-section and resumed after a restart', privacyInterrupted],
  ['widgets: search, geotrace, geoshape, rank, range, an image with preview and a barcode', widgets],
  ['a finalized response is edited and queued again', editFinalized],
  ['Ukrainian, then Spanish: labels and app wording switch', ukrainianAndSpanish],
  ['at 360×640 the focused control is outlined and in view', phoneFocus],
  ['the app language is kept across a restart', appLanguageKept],
  ['a folder of forms: each file reported, the broken one precisely', loadFolder],
];
const only = process.env.E2E_ONLY;
const failed = await runAll(only ? tests.filter(([n]) => n.includes(only)) : tests);
process.exit(failed ? 1 : 0);
