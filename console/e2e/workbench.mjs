// The form designer's workbench (issue 17) end to end: a draft from the human-security
// example, an expression broken in the editor and its finding at its line, fixed; the form
// filled in Arabic in the preview (the app's own screens on the WebAssembly engine) through
// consent, Quick hide, the privacy check and a repeat; the export preview read; published;
// a changed draft's summary of changes; and each new version installed by a real app (the
// enumerator app's own sync, run without a window: `voices-app sync`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { axeProblems, shot, signIn } from './scenarios.mjs';
import { PROJECT } from './server.mjs';
import { workbook } from './xlsx.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = readFileSync(join(here, '..', '..', 'schemas', 'forms', 'human-security-perceptions.json'), 'utf8');
const DIRECTORY = readFileSync(join(here, '..', '..', 'schemas', 'referrals', 'human-security-perceptions.json'), 'utf8');

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The 1-based line of the first line of `text` containing `needle`. */
function lineOf(text, needle) {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  check(index >= 0, `the example has no line with ${needle}`);
  return index + 1;
}

/** Put the editor's cursor just after `column - 1` characters of line `line`. */
async function cursorAt(page, line, column) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  // Home goes to the first non-blank character on a wrapped line; go to the very start.
  await page.keyboard.press('Home');
  for (let i = 1; i < column; i++) await page.keyboard.press('ArrowRight');
}

/** A real enumerator app on its own data directory, linked to the server with a code made
 *  in the project; `sync()` runs the app's sync once and answers how many form versions
 *  it installed (each checked by the app's engine before it is added). */
async function realApp(ctx) {
  const { code } = await ctx.server.apiPost(`/projects/${PROJECT}/devices`, { enumerator: 'Dalia', label: 'Workbench tablet' });
  const dir = mkdtempSync(join(tmpdir(), 'voices-workbench-app-'));
  const run = promisify(execFile);
  return {
    async sync() {
      const { stdout } = await run(ctx.appBin, ['sync', '--data-dir', dir, '--provision', code], {
        env: { ...process.env, VOICES_PIN: '582931' },
        timeout: 120_000,
      });
      const installed = stdout.match(/^sync: (\d+) forms installed/m);
      check(installed, `the app's sync said: ${stdout}`);
      return Number(installed[1]);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function findingsCount(page) {
  return (await page.getByTestId('findings-count').textContent()).trim();
}

/** Answer every unanswered question of the preview's page with a plausible value; again
 *  while answers bring more questions (gender identity appears once the age says adult). */
async function answerPage(preview) {
  for (let pass = 0; pass < 3; pass++) {
    const before = await preview.locator('.field').count();
    await answerFields(preview);
    // Let the engine's answer redraw the page before counting its questions again.
    await new Promise((r) => setTimeout(r, 300));
    if ((await preview.locator('.field').count()) === before) return;
  }
}

async function answerFields(preview) {
  const fields = preview.locator('.field');
  const n = await fields.count();
  for (let i = 0; i < n; i++) {
    const field = fields.nth(i);
    const kind = await field.getAttribute('data-kind');
    const path = (await field.getAttribute('data-path')) ?? '';
    if (kind === 'select_one' || kind === 'select_multiple') {
      const inputs = field.locator('input[type=radio], input[type=checkbox]');
      if ((await inputs.count()) > 0 && (await field.locator('input:checked').count()) === 0) {
        await inputs.first().check();
      }
    } else if (kind === 'integer') {
      const input = field.locator('input');
      if ((await input.inputValue()) === '') {
        const value = path.endsWith('hh_size') ? '2' : path.endsWith('member_age') ? '9' : path.endsWith('/age') ? '34' : '2';
        await input.fill(value);
        await input.press('Tab');
      }
    } else if (kind === 'referral') {
      // Without a directory: record that no service could be offered; with services
      // listed (the project's directory), that the respondent declined.
      if ((await field.locator('[data-testid=referral-recorded]').count()) === 0) {
        const none = field.locator('[data-testid=referral-record-none]');
        await ((await none.count()) ? none : field.locator('[data-testid=referral-decline]')).click();
        await field.locator('[data-testid=referral-recorded]').waitFor();
      }
    } else if (kind === 'text') {
      const input = field.locator('input, textarea').first();
      if ((await input.inputValue()) === '') {
        await input.fill(path.endsWith('member_name') ? 'Amal' : 'نص');
        await input.press('Tab');
      }
    }
  }
}

export const workbenchScenarios = [
  {
    name: 'workbench: draft, findings as you type, preview in Arabic, export layout, publish',
    async run(ctx) {
      // A real app, linked before the workbench publishes: it has what is published already.
      const app = await realApp(ctx);
      try {
        await app.sync();
        await designAndPublish(ctx, app);
      } finally {
        app.remove();
      }
    },
  },
  {
    name: "workbench: preview as an enumerator profile, hand-overs checked by the rule, the project's referral directory listed",
    async run(ctx) {
      await previewAsAndReferrals(ctx);
    },
  },
  {
    name: 'workbench: an XLSForm workbook becomes a draft, or its errors are listed by cell',
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/workbench`);
      await page.getByTestId('new-draft').waitFor();
      const sheets = (list) => ({
        survey: [
          ['type', 'name', 'label'],
          ['text', 'village', 'Village'],
          [`select_one ${list}`, 'water', 'Water source'],
        ],
        choices: [['list_name', 'name', 'label'], ['water', 'piped', 'Piped'], ['water', 'well', 'Well']],
        settings: [['form_id', 'version', 'form_title'], ['from_workbook', '1', 'From a workbook']],
      });
      const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
      await page.getByTestId('draft-upload').setInputFiles({ name: 'bad.xlsx', mimeType: xlsx, buffer: Buffer.from(workbook(sheets('nowhere'))) });
      const listed = page.getByTestId('workbook-findings');
      await listed.waitFor();
      const places = await listed.locator('.where').allTextContents();
      check(places.includes('survey!A3'), `findings placed at ${places.join(', ')}`);
      await page.getByTestId('draft-upload').setInputFiles({ name: 'good.xlsx', mimeType: xlsx, buffer: Buffer.from(workbook(sheets('water'))) });
      await listed.waitFor({ state: 'detached' });
      await page.getByTestId('draft-select').locator('option', { hasText: 'good.xlsx' }).waitFor({ state: 'attached' });
      await page.waitForFunction(() => document.querySelector('[data-testid=findings-count]')?.textContent?.startsWith('0 errors'));
      check((await page.locator('.cm-content').textContent()).includes('from_workbook'), 'the converted form is in the editor');
    },
  },
];

/** Quick hide in the preview, as in the app: the key (the cursor in the preview) or the
 *  button puts the form's neutral screen, in the language on screen, in place of the whole
 *  interview; "Options" then "Return to work" brings it back where it was, answers kept. */
async function quickHide(preview, how) {
  const main = preview.locator('main[data-page-kind]');
  const at = await main.getAttribute('data-page');
  const given = () => preview.locator('main input:checked, main input[type=number], main input[type=text]').evaluateAll((els) => els.map((e) => `${e.closest('[data-path]')?.dataset.path}=${e.value}`));
  const answered = await given();
  check(answered.length > 0, 'the page has answers to keep');
  if (how === 'key') {
    await preview.locator('.field input').first().focus();
    await preview.page().keyboard.press('Escape');
  } else {
    await preview.locator('[data-testid=safe-exit]').click();
  }
  const decoy = preview.locator('[data-testid=decoy]');
  await decoy.waitFor();
  const title = (await decoy.locator('h1').textContent()).trim();
  check(title === 'استهلاك الأسرة', `the decoy's title in Arabic: ${title}`);
  check((await decoy.getAttribute('dir')) === 'rtl', 'the decoy reads right to left');
  check((await decoy.locator('select').count()) >= 1, "the decoy group's questions are shown");
  check((await main.count()) === 0 && (await preview.locator('[data-testid=safe-exit]').count()) === 0, 'nothing of the interview stays on screen');
  await preview.locator('[data-testid=safe-options]').click();
  await preview.locator('[data-testid=safe-return]').click();
  await preview.locator(`main[data-page="${at}"]`).waitFor();
  const back = await given();
  check(JSON.stringify(back) === JSON.stringify(answered), `the answers given before hiding are kept: ${back} vs ${answered}`);
}

async function designAndPublish(ctx, app) {
  const { page, base, server } = ctx;
  await signIn(ctx);
  await page.goto(`${base}/p/${PROJECT}/workbench`);
  await page.getByRole('heading', { name: 'Workbench' }).waitFor();
  await page.getByTestId('new-draft').waitFor();

  // A draft from the example file: it checks clean.
  await page.getByTestId('draft-upload').setInputFiles({ name: 'human-security.json', mimeType: 'application/json', buffer: Buffer.from(EXAMPLE) });
  await page.locator('.cm-content').waitFor();
  await page.getByTestId('no-findings').or(page.getByTestId('findings')).first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=findings-count]')?.textContent?.startsWith('0 errors'));

  // Break an expression by typing: the finding appears at its line, in the list and
  // under the text; fixing it clears it.
  const line = lineOf(EXAMPLE, `"relevant": "\${age} != ''"`);
  const column = EXAMPLE.split('\n')[line - 1].indexOf('${age}') + '${age'.length + 1;
  await cursorAt(page, line, column);
  await page.keyboard.type('e');
  await page.keyboard.press('Escape');
  const finding = page.locator(`[data-testid=findings] li[data-line="${line}"]`);
  await finding.waitFor();
  check((await finding.textContent()).includes('agee'), `the finding names the reference: ${await finding.textContent()}`);
  check((await findingsCount(page)).startsWith('1 error'), `one error: ${await findingsCount(page)}`);
  await page.locator('.cm-lintRange-error').first().waitFor();
  await page.getByText('Fix the errors above to fill the form in.').waitFor();
  await page.keyboard.press('Backspace');
  await page.waitForFunction(() => document.querySelector('[data-testid=findings-count]')?.textContent?.startsWith('0 errors'));

  // The preview: the app's interview, in Arabic, right to left.
  const preview = page.getByTestId('preview');
  await preview.locator('[data-testid=language]').waitFor();
  await preview.locator('[data-testid=language]').selectOption('ar');
  await page.waitForFunction(() => {
    const host = document.querySelector('[data-testid=preview] .device');
    return host?.shadowRoot?.querySelector('.app-frame')?.getAttribute('dir') === 'rtl';
  });
  await preview.locator('[data-testid=consent-yes]').click();
  await preview.locator('main[data-page-kind=questions]').waitFor();
  await answerPage(preview);
  await quickHide(preview, 'key');
  await quickHide(preview, 'button');

  // Through every page: answers, the privacy check, the household member (a repeat
  // whose count follows the household size).
  let sawPrivacy = false;
  let sawMember = false;
  let sawMatching = false;
  for (let step = 0; step < 40; step++) {
    const main = preview.locator('main[data-page-kind]');
    await main.waitFor();
    const kind = await main.getAttribute('data-page-kind');
    const key = await main.getAttribute('data-page');
    if (kind === 'privacy_check') {
      sawPrivacy = true;
      await preview.locator('[data-testid=privacy-yes]').click();
      await preview.locator('main[data-page-kind=questions]').waitFor();
      continue;
    }
    if (kind === 'match_check') {
      // The page has no enumerator profile, so a section with a matching rule is closed
      // until it is handed over, as on a device without one.
      sawMatching = true;
      await preview.locator('[data-testid=matching-blocked]').waitFor();
      await preview.locator('[data-testid=handover-name]').fill('Amal');
      await preview.locator('[data-testid=handover-sex-female]').click();
      await preview.locator('[data-testid=handover]:not([disabled])').click();
      await preview.locator('main[data-page-kind]:not([data-page-kind=match_check])').waitFor();
      continue;
    }
    if (key?.startsWith('/members[')) sawMember = true;
    await answerPage(preview);
    const next = preview.locator('[data-testid=next]');
    if (await next.count()) {
      await next.click();
      await page.waitForFunction(
        (before) => document.querySelector('[data-testid=preview] .device')?.shadowRoot?.querySelector('main')?.getAttribute('data-page') !== before,
        key,
      );
    } else break;
  }
  check(sawPrivacy, 'the privacy check was asked');
  check(sawMember, 'the household member page was filled');
  check(sawMatching, 'the section with a matching rule was handed over');
  await preview.locator('[data-testid=review]').click();
  await preview.getByText('تمت الإجابة على كل شيء.').or(preview.locator('[data-testid=issues]')).first().waitFor();

  // The export layout of the test response: the CSV row and the repeat table.
  const layout = page.getByTestId('export-preview');
  const main = layout.locator('table[data-file="community_life.csv"]');
  await main.waitFor();
  // The layout follows the answers once they rest (Preview.svelte): wait for the member.
  await layout.locator('table[data-file="community_life-members.csv"] tbody tr', { hasText: 'Amal' }).waitFor();
  const headers = await main.locator('thead th').allTextContents();
  const row = await main.locator('tbody tr').first().locator('td').allTextContents();
  check(row[headers.indexOf('respondent-age')] === '34', `age in the CSV row: ${row[headers.indexOf('respondent-age')]}`);
  check(row[headers.indexOf('household-hh_size')] === '2', 'household size in the CSV row');
  const members = layout.locator('table[data-file="community_life-members.csv"] tbody tr');
  check((await members.count()) === 1, `one member row, got ${await members.count()}`);
  check((await members.first().textContent()).includes('Amal'), 'the member in the repeat table');
  await shot(ctx, 'workbench');

  // Publish: the first version of the form; a device is offered it.
  // A version of its own (the example's is already on every app, which embeds it).
  const versionLine = lineOf(EXAMPLE, '"version":');
  await cursorAt(page, versionLine, EXAMPLE.split('\n')[versionLine - 1].lastIndexOf('"') + 1);
  await page.keyboard.type('9');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('[data-testid=findings-count]')?.textContent?.startsWith('0 errors'));
  const version = `${JSON.parse(EXAMPLE).version}9`;
  await page.getByTestId('publish-draft').getByText('this will be its first version').waitFor();
  await page.getByTestId('publish-draft-button').filter({ hasText: version }).click();
  await page.getByTestId('published').filter({ hasText: version }).waitFor();
  const offered = async (v) => {
    const res = await fetch(`${base}/api/v1/projects/${PROJECT}/forms`, { headers: { Authorization: `Bearer ${server.devices.A.token}` } });
    check(res.ok, `device form list: ${res.status}`);
    return (await res.json()).some((f) => f.form === 'community_life' && f.version === v);
  };
  check(await offered(version), 'the device is offered the new version');
  const first = await app.sync();
  check(first === 1, `the real app installed the published version: ${first} installed`);
  check((await app.sync()) === 0, 'a second sync installs nothing more');

  // A changed draft: a question removed, a choice removed, a new version. The summary
  // says so and warns what it breaks; publishing offers version 2 to the device.
  const changed = JSON.parse(EXAMPLE);
  changed.version = String(Number(version) + 1);
  const consumption = changed.body.find((i) => i.name === 'consumption');
  consumption.body = consumption.body.filter((i) => i.name !== 'cooking_fuel');
  const list = 'staple';
  const dropped = changed.choices[list].pop().name;
  await page.getByTestId('draft-upload').setInputFiles({ name: 'changed.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(changed, null, 2)) });
  const changes = page.getByTestId('changes');
  await changes.getByText('/cooking_fuel').waitFor();
  await changes.getByText(`−${dropped}`).waitFor();
  const warnings = await page.getByTestId('change-warnings').textContent();
  check(warnings.includes('/cooking_fuel is removed') && warnings.includes(dropped), `warnings: ${warnings}`);
  // The export keeps a removed question's column (answers already collected stay
  // exported), so no export column changes and the warning says where its answers go.
  check(warnings.includes('stay in the export'), `the export warning: ${warnings}`);
  check(!warnings.includes('loses the column'), `no export column is lost: ${warnings}`);
  check((await page.getByTestId('column-changes').count()) === 0, 'no export column change is listed');
  await page.getByTestId('publish-draft-button').click();
  await page.getByTestId('published').filter({ hasText: changed.version }).waitFor();
  check(await offered(changed.version), 'the device is offered the changed version');
  const second = await app.sync();
  check(second === 1, `the real app installed the changed version: ${second} installed`);

  const problems = await axeProblems(ctx);
  check(problems.length === 0, `axe: ${JSON.stringify(problems)}`);
}

/** The preview run as a male enumerator with the project's published referral directory:
 *  the violence section (a female enumerator for a female respondent) is blocked, a
 *  hand-over to a male colleague is refused and one to a female colleague accepted; the
 *  referral step lists the directory's services for the respondent's district and need,
 *  as the app lists them. Nothing of the test response reaches the server. */
async function previewAsAndReferrals(ctx) {
  const { page, base, server } = ctx;
  await server.apiPut(`/projects/${PROJECT}/referrals`, DIRECTORY);
  const before = await server.apiGet(`/projects/${PROJECT}/responses?limit=1000`);
  await signIn(ctx);
  await page.goto(`${base}/p/${PROJECT}/workbench`);
  await page.getByTestId('new-draft').waitFor();
  await page.getByTestId('draft-upload').setInputFiles({ name: 'human-security.json', mimeType: 'application/json', buffer: Buffer.from(EXAMPLE) });
  await page.waitForFunction(() => document.querySelector('[data-testid=findings-count]')?.textContent?.startsWith('0 errors'));

  // The project's directory is in the preview; the designer previews as a male enumerator.
  const services = JSON.parse(DIRECTORY).services.length;
  const status = page.getByTestId('preview-directory');
  await page.locator(`[data-testid=preview-directory][data-services="${services}"]`).waitFor();
  check((await status.textContent()).includes(String(services)), `the directory's services: ${await status.textContent()}`);
  await page.getByTestId('preview-as-sex').selectOption('male');
  await page.getByTestId('preview-as-languages').fill('en ar');
  await page.getByTestId('preview-as-area').fill('afg_kabul_city');

  const preview = page.getByTestId('preview');
  await preview.locator('[data-testid=consent-yes]').click();
  await preview.locator('main[data-page-kind=questions]').waitFor();
  let blocked = false;
  let listed = null;
  for (let step = 0; step < 40 && listed === null; step++) {
    const main = preview.locator('main[data-page-kind]');
    await main.waitFor();
    const kind = await main.getAttribute('data-page-kind');
    const key = await main.getAttribute('data-page');
    if (kind === 'privacy_check') {
      await preview.locator('[data-testid=privacy-yes]').click();
      await preview.locator('main[data-page-kind=questions]').waitFor();
      continue;
    }
    if (kind === 'match_check') {
      // A female respondent (the first choice) and the male enumerator previewed as.
      await preview.locator('[data-testid=matching-blocked]').waitFor();
      check((await preview.locator('[data-testid=matching-no-profile]').count()) === 0, 'the preview has a profile');
      check((await preview.locator('[data-path="/officials_abuse"]').count()) === 0, 'no question of the section is shown');
      check(await preview.locator('[data-testid=next]').isDisabled(), 'Next is disabled');
      await preview.locator('[data-testid=handover-name]').fill('Karim');
      await preview.locator('[data-testid=handover-sex-male]').click();
      await preview.locator('[data-testid=handover]:not([disabled])').click();
      await preview.locator('[data-testid=handover-refused]').waitFor();
      check((await main.getAttribute('data-page-kind')) === 'match_check', 'the refused hand-over leaves the section closed');
      await shot(ctx, 'workbench-handover-refused');
      await preview.locator('[data-testid=handover-name]').fill('Amal');
      await preview.locator('[data-testid=handover-sex-female]').click();
      await preview.locator('[data-testid=handover]:not([disabled])').click();
      await preview.locator('main[data-page-kind]:not([data-page-kind=match_check])').waitFor();
      blocked = true;
      continue;
    }
    const step_ = preview.locator('[data-path="/referral_services"]');
    if (await step_.count()) {
      // The district and the need answered before (the first choices: Kabul city, health).
      await step_.locator('[data-service]').first().waitFor();
      listed = await step_.locator('[data-service]').evaluateAll((els) => els.map((e) => e.dataset.service));
      await shot(ctx, 'workbench-referral');
      break;
    }
    await answerPage(preview);
    if ((await preview.locator('[data-path="/referral_services"]').count()) > 0) continue;
    const next = preview.locator('[data-testid=next]');
    if (!(await next.count())) break;
    await next.click();
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid=preview] .device')?.shadowRoot?.querySelector('main')?.getAttribute('data-page') !== before,
      key,
    );
  }
  check(blocked, 'the restricted section was blocked, then handed over');
  check(JSON.stringify(listed) === JSON.stringify(['af_kabul_health']), `the referral step lists the services for Kabul city and health: ${JSON.stringify(listed)}`);
  const after = await server.apiGet(`/projects/${PROJECT}/responses?limit=1000`);
  check(JSON.stringify(after) === JSON.stringify(before), 'the test response never reaches the server');
}
