// End-to-end scenarios in the real Voices window (tauri-driver → WebKitWebDriver).
// Prints "e2e: N passed, N failed" at the end; screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { sleep } from './webdriver.mjs';
import { ESC, fillPage, fillUntil, jump, launch, next, onPage, pageKey, pick, saved, shot, runAll, start, type } from './helpers.mjs';

/** The whole interview: consent, skip logic, a constraint and its fix, three members,
 * privacy "no", safe exit and return, save as draft, quit, restart, resume, finalize. */
async function interview(lang, prefix) {
  const data = mkdtempSync(join(tmpdir(), `voices-e2e-${lang}-`));
  let d = await launch(data);
  try {
    if (prefix === 'en') await shot(d, 'form-list');
    await start(d, lang);
    const dir = await d.exec('return document.documentElement.dir');
    assert.equal(dir, lang === 'ar' ? 'rtl' : 'ltr', 'page direction follows the language');
    await shot(d, `${prefix}-consent`);
    // Before consent there is nothing to review: the page bar offers only a disabled Next.
    assert.equal((await d.findAll('[data-testid="review"]')).length, 0, 'no Review before consent');
    assert.equal(await (await d.find('[data-testid="next"]')).prop('disabled'), true);
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');

    await fillUntil(d, '/respondent');
    // A constraint violation (nobody under 15) and its fix.
    await type(d, '/age', '12');
    const problem = await d.find('[data-path="/age"] .problem');
    assert.ok((await problem.text()).length > 0, 'the constraint message is shown');
    await d.exec('arguments[0].scrollIntoView({ block: "center" });', [problem.ref()]);
    await shot(d, `${prefix}-constraint`);
    await type(d, '/age', '34');
    await d.gone('[data-path="/age"] .problem');
    // Skip logic: the self-description question appears only for "self_describe"
    // (and gender identity only for adults).
    assert.equal((await d.findAll('[data-path="/gender_self_description"]')).length, 0);
    await pick(d, '/gender_identity', 'self_describe');
    await type(d, '/gender_self_description', 'Test');

    await fillUntil(d, '/household');
    // Four people: the household repeat gets three members.
    await type(d, '/hh_size', '4');
    for (const n of [1, 2, 3]) {
      await next(d);
      await onPage(d, `/members[${n}]`);
      // Which member of how many, in the interview's language.
      const count = await (await d.find('[data-testid="instance-count"]')).text();
      assert.equal(count, lang === 'ar' ? `إدخال ${n} من 3` : `Entry ${n} of 3`);
      await fillPage(d);
      if (n === 2) {
        // From the top: the member's heading and "Entry 2 of 3".
        await d.exec('window.scrollTo(0, 0)');
        await shot(d, `${prefix}-repeat-member`);
      }
    }
    await fillUntil(d, '/experiences');
    // The privacy check answered "no": the section is skipped and the outcome kept.
    await shot(d, `${prefix}-privacy-check`);
    await (await d.find('[data-testid="privacy-no"]')).click();
    await d.find(`main[data-page]:not([data-page="/experiences"])`);

    // Safe exit: one key replaces the screen; a deliberate two-step action returns.
    await d.keys(ESC);
    await d.find('[data-testid="decoy"]', { timeout: 2000 });
    assert.equal((await d.findAll('main[data-page]')).length, 0, 'nothing of the interview stays');
    await sleep(300);
    assert.notEqual(await d.title(), 'Voices', 'the window title turns neutral');
    // The decoy speaks the interview's language, in its direction: no sudden switch.
    const decoy = await d.exec(`const e = document.querySelector('[data-testid="decoy"]');
      return { dir: e.dir, lang: e.lang, title: e.querySelector('h1').textContent };`);
    assert.deepEqual(decoy, lang === 'ar'
      ? { dir: 'rtl', lang: 'ar', title: 'استهلاك الأسرة' }
      : { dir: 'ltr', lang: 'en', title: 'Household consumption' });
    assert.equal(await d.title(), decoy.title, 'the window title is the decoy\'s');
    await shot(d, `${prefix}-safe-exit`);
    await (await d.find('[data-testid="safe-options"]')).click();
    await (await d.find('[data-testid="safe-return"]')).click();
    await d.find('main[data-page]');

    // Save as draft, quit, restart, resume.
    await (await d.find('[data-testid="close"]')).click();
    await d.find('[data-testid="form-list"]');
    await d.quit();
    d = await launch(data);
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await d.find('[data-testid="drafts"] [data-status="draft"]');
    await shot(d, `${prefix}-drafts`);
    const listText = await (await d.find('[data-testid="drafts"]')).text();
    assert.ok(!listText.includes('Test'), 'no answer appears in the drafts list');
    await (await d.find('[data-testid="resume"]')).click();
    await d.find('main[data-page]');
    // An invalid answer made after resuming shows up in the review, linked to its question.
    await jump(d, 2);
    await onPage(d, '/respondent');
    await type(d, '/age', '200');
    await jump(d, -1);
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await d.find('main[data-mode="review"] [data-testid="issues"]');
    await shot(d, `${prefix}-review-issues`);
    await (await d.find('[data-testid="issues"] li:first-child button')).click();
    await onPage(d, '/respondent');
    const focused = await d.exec('return document.activeElement.closest("[data-path]")?.dataset.path');
    assert.equal(focused, '/age', 'the review link puts the cursor in the question');
    await type(d, '/age', '34');
    await jump(d, -1);
    await fillUntil(d, '__review__');
    await (await d.find('[data-testid="review"]')).click();
    await d.find('main[data-mode="review"]');
    const left = await d.findAll('[data-testid="issues"]');
    assert.equal(left.length, 0, `nothing left to fix: ${left.length ? await left[0].text() : ''}`);
    await (await d.find('[data-testid="finalize"]')).click();
    await d.find('main[data-mode="done"]');
    await (await d.find('main[data-mode="done"] button:last-child')).click();
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await d.find('[data-testid="drafts"] [data-status="queued"]');
  } finally {
    await d.quit();
  }
}

async function narrowScreen() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-phone-'));
  const d = await launch(data);
  try {
    await d.setWindow(360, 640);
    await start(d, 'ar');
    // From the top, with the header (the heading took the focus and scrolled the page).
    await d.exec('window.scrollTo(0, 0)');
    await shot(d, 'phone-ar-consent');
    const overflow = await d.exec('return document.documentElement.scrollWidth > window.innerWidth + 1');
    assert.equal(overflow, false, 'nothing overflows sideways at 360 px');
  } finally {
    await d.quit();
  }
}

/** An XLSForm workbook picked on the Load forms screen (WebDriver sends the file path to
 * the file input), its cell diagnostics shown, then started and its first pages filled. */
async function xlsformImport() {
  const workbook = resolve(
    fileURLToPath(new URL('.', import.meta.url)),
    '../../../shared/conformance/xlsform/cleaningtools__form.xlsx',
  );
  assert.ok(existsSync(workbook), `conformance workbook missing: ${workbook}`);
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-xlsform-'));
  const d = await launch(data);
  try {
    await (await d.find('[data-testid="tab-load"]')).click();
    await (await d.find('#form-files', { visible: false })).type(workbook);
    const report = await d.find('.report[data-outcome="added"]', { timeout: 20000 });
    const text = await report.text();
    assert.ok(text.includes('cleaningtools__form.xlsx'), 'the report names the workbook');
    // The importer's warnings name their cell, e.g. `cleaningtools__form.xlsx:survey!L57`.
    assert.match(text, /cleaningtools__form\.xlsx:survey![A-Z]+\d+/, 'diagnostics name the cell');
    await shot(d, 'xlsform-imported');

    await (await d.find('[data-testid="tab-forms"]')).click();
    await (await d.find('[data-form="cleaningtools__form"] [data-testid="start"]')).click();
    const first = await pageKey(d);
    await type(d, '/enumerator_num', '2');
    await pick(d, '/consent_remote', 'yes');
    await fillPage(d);
    await next(d);
    await onPage(d, '/hh_info');
    assert.notEqual(first, '/hh_info');
    await pick(d, '/hhh_r', 'yes');
    await type(d, '/age_respondent_r', '34');
    await pick(d, '/displace_status', 'no');
    await fillPage(d);
    await shot(d, 'xlsform-hh-info');
    assert.equal((await d.findAll('main .problem')).length, 0, 'every answer is acceptable');
    await next(d);
    await onPage(d, '/socio_ec_info');
    await fillPage(d);
  } finally {
    await d.quit();
  }
}

/** The household roster draws one child at random (the only child here, so the test
 * knows who): the draw is shown once, cannot be made again, and the next question names
 * the child, also after a restart. */
async function respondentSelection() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-draw-'));
  let d = await launch(data);
  const drawPage = async () => {
    for (let i = 0; i < 6 && (await d.findAll('[data-path="/selected_child"]')).length === 0; i++) {
      const key = await pageKey(d);
      await next(d);
      await d.find(`main[data-page]:not([data-page="${key}"])`);
    }
    return d.find('[data-path="/selected_child"]');
  };
  const questionLabel = async () =>
    (await d.find('[data-path="/child_missed_school"] legend')).text();
  try {
    await start(d, 'en');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await fillUntil(d, '/household');
    await type(d, '/hh_size', '3');
    for (const [n, name, age] of [[1, 'Ola', '40'], [2, 'Taras', '9']]) {
      await next(d);
      await onPage(d, `/members[${n}]`);
      await type(d, `/members[${n}]/member_name`, name);
      await type(d, `/members[${n}]/member_age`, age);
      await fillPage(d);
    }
    const field = await drawPage();
    assert.match(await field.text(), /1 of 2 people on the list can be drawn/);
    assert.equal((await d.findAll('[data-path="/child_missed_school"]')).length, 0, 'nobody is named before the draw');
    await shot(d, 'draw-before');
    await (await d.find('[data-testid="draw"]')).click();
    await saved(d, '/selected_child');
    assert.equal(await (await d.find('[data-testid="drawn"]')).text(), 'Drawn: person 2 on the list.');
    assert.equal((await d.findAll('[data-testid="draw"]')).length, 0, 'the draw cannot be made again');
    assert.ok((await questionLabel()).includes('Taras'), 'the next question names the drawn child');
    await shot(d, 'draw-after');

    await (await d.find('[data-testid="close"]')).click();
    await d.find('[data-testid="form-list"]');
    await d.quit();
    d = await launch(data);
    await (await d.find('[data-testid="tab-drafts"]')).click();
    await (await d.find('[data-testid="resume"]')).click();
    await d.find('main[data-page]');
    await drawPage();
    assert.equal(await (await d.find('[data-testid="drawn"]')).text(), 'Drawn: person 2 on the list.');
    assert.equal((await d.findAll('[data-testid="draw"]')).length, 0);
    assert.ok((await questionLabel()).includes('Taras'), 'the draw was kept');
  } finally {
    await d.quit();
  }
}

/** An interview interrupted for safety gets its outcome and a return visit; the visit
 * list and the reminder show only the neutral number and the time. */
async function endedForSafety() {
  const data = mkdtempSync(join(tmpdir(), 'voices-e2e-visit-'));
  const d = await launch(data);
  const two = (n) => String(n).padStart(2, '0');
  try {
    await start(d, 'en');
    await (await d.find('[data-testid="consent-yes"]')).click();
    await onPage(d, '/location');
    await (await d.find('[data-testid="end-interview"]')).click();
    await d.find('main[data-mode="end"]');
    await (await d.find('[data-testid="outcome-interrupted_for_safety"]')).click();
    const soon = new Date(Date.now() + 10 * 60000);
    const local = `${soon.getFullYear()}-${two(soon.getMonth() + 1)}-${two(soon.getDate())}T${two(soon.getHours())}:${two(soon.getMinutes())}`;
    await d.exec(
      `const el = document.querySelector('[data-testid="return-visit"]');
       el.value = arguments[0];
       el.dispatchEvent(new Event('input', { bubbles: true }));`,
      [local],
    );
    await shot(d, 'end-interview');
    await (await d.find('[data-testid="end-confirm"]')).click();
    const shown = local.replace('T', ' ');
    assert.equal(await (await d.find('[data-testid="booked-visit"]')).text(), `Return visit: ${shown}`);
    await (await d.find('main[data-mode="ended"] button')).click();
    await d.find('[data-testid="form-list"]');
    const neutral = (text) => assert.doesNotMatch(text, /safety|interrupt|community/i, text);
    if (soon.toDateString() === new Date().toDateString()) {
      const reminder = await (await d.find('[data-testid="visit-reminder"]')).text();
      assert.match(reminder, /Visits today: 1/);
      neutral(reminder);
    }
    await (await d.find('[data-testid="tab-visits"]')).click();
    const card = await (await d.find('[data-testid="visits"] li')).text();
    assert.match(card, /#[0-9a-f]{6}/);
    assert.ok(card.includes(shown), card);
    neutral(card);
    await shot(d, 'visits');
    await (await d.find('[data-testid="visit-open"]')).click();
    await d.find('main[data-page]');
  } finally {
    await d.quit();
  }
}

const tests = [
  ['complete the human-security interview in English', () => interview('en', 'en')],
  ['complete the human-security interview in Arabic (RTL)', () => interview('ar', 'ar')],
  ['the phone-sized window keeps everything in view', narrowScreen],
  ['import an XLSForm workbook and fill its first pages', xlsformImport],
  ['a household roster draws one child and later questions name them', respondentSelection],
  ['an interview interrupted for safety gets its outcome and a return visit', endedForSafety],
];
process.exit((await runAll(tests)) ? 1 : 0);
