// The console's end-to-end scenarios (issue 13): each signs in as needed, drives the pages
// as a coordinator would, and checks what they show against the data the server holds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { CONFLICT_VILLAGE, expectedCells, FORM, SEARCH_WORD, shownCount, VERSION } from './data.mjs';
import { ADMIN, innerCode, PROJECT } from './server.mjs';
import { workbook } from './xlsx.mjs';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

export async function shot(ctx, name, target = ctx.page) {
  await target.screenshot({ path: join(ctx.shots, `console-${name}.png`) });
}

export async function signIn(ctx, who = ADMIN) {
  const { page, base } = ctx;
  await page.goto(`${base}/`);
  const signInHeading = page.getByRole('heading', { name: 'Sign in' });
  const projects = page.getByRole('heading', { name: 'Projects' });
  await signInHeading.or(projects).first().waitFor();
  if (await projects.isVisible()) return;
  await page.getByLabel('User name').fill(who.user);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await projects.waitFor();
}

/** Serious and critical accessibility problems axe-core finds on the page as it is now. */
export async function axeProblems(ctx) {
  // DevTools evaluation is not subject to the page's Content-Security-Policy.
  await ctx.page.evaluate(ctx.axeSource);
  const violations = await ctx.page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function openResponses(ctx, query) {
  await ctx.page.goto(`${ctx.base}/p/${PROJECT}/responses${query ? `?${query}` : ''}`);
  await ctx.page.locator('.scroller tbody tr[aria-rowindex] a').first().waitFor();
}

async function matching(page) {
  const status = page.locator('.page-head [role=status]');
  await status.filter({ hasText: 'matching' }).waitFor();
  return Number((await status.textContent()).replace(/[^0-9]/g, ''));
}

export const scenarios = [
  {
    name: 'the server serves the console with a strict Content-Security-Policy',
    async run({ base }) {
      for (const path of ['/', '/p/demo/responses', '/people']) {
        const res = await fetch(`${base}${path}`);
        equal(res.status, 200, `GET ${path}`);
        check((await res.text()).includes('<div id="app">'), `${path} is the console's page`);
        const csp = res.headers.get('content-security-policy') ?? '';
        check(csp.includes("default-src 'self'") && csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `CSP: ${csp}`);
      }
      const api = await fetch(`${base}/api/v1/nothing-here`);
      equal(api.status, 404, 'unknown API path');
      check((api.headers.get('content-type') ?? '').includes('problem+json'), 'an unknown API path is a Problem, not the page');
      const missing = await fetch(`${base}/assets/gone-1234.js`);
      equal(missing.status, 404, 'a missing hashed asset');
      const html = await (await fetch(`${base}/`)).text();
      const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
      check(script, 'index.html names its script');
      const asset = await fetch(`${base}${script}`);
      check((asset.headers.get('content-type') ?? '').includes('javascript'), 'script content type');
      check((asset.headers.get('cache-control') ?? '').includes('immutable'), 'hashed assets are cached for good');
      check(!/<script>[^<]/.test(html), 'no inline script in index.html');
    },
  },
  {
    name: 'sign in and out',
    async run(ctx) {
      const { page, base, browser } = ctx;
      await browser.clearCookies();
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('User name').fill(ADMIN.user);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
      await page.getByLabel('Password').fill(ADMIN.password);
      await shot(ctx, 'signin');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      await page.getByRole('link', { name: /Demo project/ }).waitFor();
      // The session survives a reload (cookie), and signing out ends it on the server.
      await page.reload();
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    },
  },
  {
    name: 'overview counts what came in',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await page.getByRole('link', { name: /Demo project/ }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const card = (name) => page.locator('.card', { hasText: name }).locator('.value');
      equal(await card('Responses in all').textContent(), server.responses.length.toLocaleString('en'), 'total');
      equal(await card('Conflicts').textContent(), '1', 'conflicts');
      equal(await card('Quarantined').textContent(), '1', 'quarantined');
      await page.getByRole('cell', { name: 'Achieng' }).first().waitFor();
      await shot(ctx, 'overview');
    },
  },
  {
    name: 'pii is hidden in the table until asked for',
    async run(ctx) {
      const { page } = ctx;
      await signIn(ctx);
      await openResponses(ctx, `form=${FORM}`);
      const header = page.getByRole('columnheader', { name: /Respondent name/ });
      await header.waitFor();
      const firstRow = page.locator('.scroller tbody tr[aria-rowindex="2"]');
      check((await firstRow.textContent()).includes('hidden'), 'pii masked by default');
      await page.getByLabel('Show personal data').check();
      await page.waitForURL(/pii=true/);
      await page.locator('.scroller tbody tr[aria-rowindex="2"] a').waitFor();
      await page.waitForFunction(() => !document.querySelector('.scroller tbody tr[aria-rowindex="2"]')?.textContent?.includes('hidden'));
    },
  },
  {
    name: 'find a response by a word in an answer',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await openResponses(ctx, `form=${FORM}`);
      equal(await matching(page), server.responses.length, 'rows before searching');
      await shot(ctx, 'responses');
      // A prefix in another case finds it (accents and case ignored by the server).
      await page.getByLabel('Search in answers').fill(SEARCH_WORD.slice(0, 6).toLowerCase());
      await page.getByLabel('Search in answers').press('Enter');
      await page.waitForURL(/q=/);
      await page.waitForFunction(() => /^1 matching/.test(document.querySelector('.page-head [role=status]')?.textContent?.trim() ?? ''));
      const rows = page.locator('.scroller tbody tr[aria-rowindex]');
      await rows.first().locator('a').waitFor();
      equal(await rows.count(), 1, 'rows found');
      check((await rows.first().textContent()).includes(`${SEARCH_WORD} East`), 'the row shows the village');
      await rows.first().getByRole('link').click();
      await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
      await page.getByText(`${SEARCH_WORD} East`).first().waitFor();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await shot(ctx, 'response');
      // pii is hidden on the response too, and shown when asked for.
      const name = page.locator('.answers dt', { hasText: 'Respondent name' }).locator('xpath=following-sibling::dd[1]');
      equal((await name.textContent()).trim(), 'hidden', 'the respondent name before asking');
      await page.getByLabel('Show personal data').check();
      await page.locator('.answers dd', { hasText: server.responses[7].set['/resp_name'] }).first().waitFor();
    },
  },
  {
    name: 'review one response with a comment',
    async run(ctx) {
      const { page, server, base } = ctx;
      await signIn(ctx);
      const target = server.responses[7];
      await page.goto(`${base}/p/${PROJECT}/responses/${target.id}`);
      const review = page.locator('section', { has: page.getByRole('heading', { name: 'Review', exact: true }) });
      await review.getByLabel('Has issues').check();
      const comment = 'The village name needs checking with the supervisor.';
      await review.getByLabel('Comment').fill(comment);
      await review.getByRole('button', { name: 'Save review' }).click();
      await page.locator('dd .badge.has_issues').waitFor();
      await page.locator('.history q', { hasText: comment }).waitFor();
      const stored = await server.apiGet(`/projects/${PROJECT}/responses/${target.id}`);
      equal([stored.review_state, stored.review_comment], ['has_issues', comment], 'review stored');
    },
  },
  {
    name: 'review ten responses in bulk',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await openResponses(ctx, `form=${FORM}&review=received`);
      const boxes = page.locator('.scroller tbody tr[aria-rowindex] input[type=checkbox]');
      for (let i = 0; i < 10; i++) await boxes.nth(i).check();
      const bulk = page.getByRole('region', { name: 'Review the selected responses' });
      await bulk.getByText('10 selected').waitFor();
      await bulk.getByLabel('Approved').check();
      await bulk.getByLabel('Comment').fill('Checked in the weekly call');
      await bulk.getByRole('button', { name: 'Set on 10 responses' }).click();
      await page.getByText('Review saved on 10 responses.').waitFor();
      const approved = await server.apiGet(`/projects/${PROJECT}/table?form=${FORM}&review=approved&limit=50`);
      equal(approved.total, 10, 'approved responses');
    },
  },
  {
    name: 'resolve a conflict in one click',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await openResponses(ctx, 'flag=conflict');
      equal(await matching(page), 1, 'responses with a conflict');
      await page.locator('.scroller tbody tr[aria-rowindex="2"] a').click();
      const conflicts = page.getByRole('region', { name: 'Conflicts' });
      await conflicts.waitFor();
      const sides = conflicts.locator('.side');
      equal(await sides.count(), 2, 'values side by side');
      const original = server.conflicted.set['/village'];
      await conflicts.getByText(original, { exact: true }).waitFor();
      await shot(ctx, 'conflict');
      await sides.filter({ hasText: CONFLICT_VILLAGE }).getByRole('button', { name: 'Keep this value' }).click();
      await conflicts.waitFor({ state: 'detached' });
      await page.locator('.answers dd', { hasText: CONFLICT_VILLAGE }).waitFor();
      await page.locator('.history li', { hasText: 'coordinator' }).filter({ hasText: 'Village' }).first().waitFor();
      const stored = await server.apiGet(`/projects/${PROJECT}/responses/${server.conflicted.id}`);
      equal(stored.conflicts ?? [], [], 'conflicts after resolving');
      equal(stored.response.answers.village, CONFLICT_VILLAGE, 'the kept value');
    },
  },
  {
    name: 'send a response back with a field comment; its resubmission shows the diff and is approved',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      const r = server.responses.find((x) => x.device === 'A' && x.id !== server.conflicted.id && x.set['/village']);
      await page.goto(`${server.base}/p/${PROJECT}/responses/${r.id}`);
      await page.locator('[data-comment-on="/village"]').click();
      await page.locator('[data-note-for="/village"]').fill('Is this the right village?');
      await page.getByTestId('send-back-comment').fill('Please check the village with the household');
      await page.getByTestId('send-back').click();
      await page.getByTestId('resubmission').waitFor();
      await page.getByTestId('no-changes').waitFor();
      // The device that collected it pulls the review and the comments from its feed;
      // the other device does not see it.
      // Each device's whole feed, page by page (the change is at its end).
      const wholeFeed = async (device) => {
        const items = [];
        for (let after = '0', more = true; more; ) {
          const page = await server.deviceGet(device, `/projects/${PROJECT}/device/feed?after=${after}&limit=500`);
          items.push(...page.items);
          more = page.more && page.items.length > 0;
          after = page.next;
        }
        return items;
      };
      const mine = await wholeFeed('A');
      const item = mine.find((i) => i.response === r.id);
      check(item, 'the response is in its device feed');
      equal(item.review_state, 'sent_back', 'review state on the device');
      equal(item.reviews.at(-1).fields['/village'], 'Is this the right village?', 'the field comment on the device');
      const ofA = new Set(server.responses.filter((x) => x.device === 'A').map((x) => x.id));
      check(mine.every((i) => ofA.has(i.response)), 'device A receives only responses it collected');
      const other = await wholeFeed('B');
      check(other.length > 0, 'device B has its own feed');
      check(!other.some((i) => ofA.has(i.response)), 'another device never receives them');
      // The enumerator fixes the village and finalizes again: only that change goes up.
      await server.upload('A', [
        {
          id: '5e4db4c0-0000-4000-a000-000000000002',
          response: r.id,
          form: FORM,
          version: VERSION,
          actor: server.devices.A.id,
          seq: 2,
          hlc: `${r.at + 7_200_000}.0`,
          seen: {},
          set: { '/village': 'Kisumu Mjini' },
          status: 'finalized',
        },
      ]);
      await page.reload();
      const changed = page.locator('[data-changed="/village"]');
      await changed.waitFor();
      await changed.getByText('Kisumu Mjini').waitFor();
      await changed.getByText(r.set['/village']).waitFor();
      await shot(ctx, 'resubmission');
      await page.getByTestId('approve').click();
      await page.getByTestId('resubmission').waitFor({ state: 'detached' });
      const stored = await server.apiGet(`/projects/${PROJECT}/responses/${r.id}`);
      equal(stored.review_state, 'approved', 'review state after approving');
      const again = await server.deviceGet('A', `/projects/${PROJECT}/device/feed?after=${item.cursor}`);
      equal(again.items.find((i) => i.response === r.id)?.review_state, 'approved', 'the device reads approved');
    },
  },
  {
    name: 'a quarantined response says why',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await openResponses(ctx, 'flag=quarantined');
      equal(await matching(page), 1, 'quarantined responses');
      await page.locator('.scroller tbody tr[aria-rowindex="2"] a').click();
      const reasons = page.getByRole('region', { name: 'Why this response is quarantined' });
      await reasons.locator('li').first().waitFor();
      check((await reasons.textContent()).toLowerCase().includes('water'), `the reason names the missing answer: ${await reasons.textContent()}`);
      equal(page.url().endsWith(server.responses[0].id), true, 'the quarantined one is the incomplete response');
    },
  },
  {
    name: "the dashboard's disaggregated counts match the data",
    async run(ctx) {
      const { page, base, server } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/forms/${FORM}/dashboard`);
      for (const question of ['water', 'problems']) {
        const section = page.locator(`section[data-question="/${question}"]`);
        await section.locator('tbody tr').first().waitFor();
        const shown = await section.evaluate((s) => {
          const out = {};
          for (const row of s.querySelectorAll('tbody tr[data-choice]')) {
            for (const cell of row.querySelectorAll('td[data-group]')) {
              const dim = cell.getAttribute('data-dimension') ?? 'total';
              out[`${dim}|${cell.getAttribute('data-group')}|${row.getAttribute('data-choice')}`] = cell.textContent.trim();
            }
          }
          return out;
        });
        const expected = expectedCells(server.responses, question);
        check(Object.keys(shown).length > 0, `no cells for ${question}`);
        for (const [key, text] of Object.entries(shown)) {
          const want = shownCount(expected.get(key) ?? 0);
          if (text !== want) throw new Error(`${question} ${key}: the page shows ${text}, the data gives ${want}`);
        }
        for (const key of expected.keys()) check(key in shown, `${question}: no cell for ${key}`);
        if (question === 'water') check(Object.values(shown).includes('< 5'), 'the data has small cells, shown as "< 5"');
      }
      await page.locator('section[data-question="/water"]').evaluate((e) => e.scrollIntoView());
      await shot(ctx, 'dashboard');
    },
  },
  {
    name: 'map of coarsened points over the bundled basemap',
    async run(ctx) {
      const { page, base, server } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/forms/${FORM}/map`);
      const status = page.getByText(/responses in \d+ places/);
      await status.waitFor();
      const [n] = (await status.textContent()).replace(/,/g, '').match(/\d+/);
      equal(Number(n), server.responses.length, 'responses on the map');
      await page.locator('figure.chart svg circle').first().waitFor();
      const drawn = await page.locator('figure.chart svg').evaluate((svg) => ({
        borders: [...svg.querySelectorAll('path')].filter((p) => (p.getAttribute('d') ?? '').length > 20).length,
        points: svg.querySelectorAll('circle').length,
      }));
      check(drawn.borders > 0, 'the basemap is drawn');
      check(drawn.points > 1, 'points drawn');
      await shot(ctx, 'map');
      // Coarser cells: fewer places, the same responses.
      await page.getByLabel('Detail').selectOption('0');
      await page.waitForFunction((n) => {
        const m = document.body.innerText.replace(/,/g, '').match(/(\d+) responses in (\d+) places/);
        return m && Number(m[1]) === n && Number(m[2]) < 20;
      }, server.responses.length);
    },
  },
  {
    name: 'export a CSV zip with progress and open it',
    async run(ctx) {
      const { page, base, server, artifacts } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/exports`);
      await page.getByLabel(/CSV/).check();
      const downloading = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      const download = await downloading;
      const n = server.responses.length.toLocaleString('en');
      await page.getByText(`${n} of ${n} responses`).waitFor();
      equal(await page.locator('progress').getAttribute('value'), '1', 'progress at the end');
      const file = join(artifacts, download.suggestedFilename());
      await download.saveAs(file);
      const { readFileSync } = await import('node:fs');
      const files = unzipSync(readFileSync(file));
      check(`${FORM}.csv` in files, `zip holds ${Object.keys(files).join(', ')}`);
      const lines = strFromU8(files[`${FORM}.csv`]).trim().split('\n');
      equal(lines.length - 1, server.responses.length, 'rows in the CSV');
      check(lines[0].includes('village'), 'CSV header names the fields');
      check(Object.keys(files).some((f) => f.includes('member')), 'the repeat has its own file');
      await shot(ctx, 'export');
    },
  },
  {
    name: 'export what the table shows: its filters applied',
    async run(ctx) {
      const { page, base, server, artifacts } = ctx;
      await signIn(ctx);
      const overview = await server.apiGet(`/projects/${PROJECT}/overview`);
      const enumerator = overview.by_enumerator[overview.by_enumerator.length - 1].enumerator;
      const filter = `form=${FORM}&enumerator=${encodeURIComponent(enumerator)}&status=finalized`;
      // What the table holds for these filters, from the API.
      const want = [];
      for (let after = null; ; ) {
        const page = await server.apiGet(`/projects/${PROJECT}/table?${filter}&limit=500${after ? `&after=${after}` : ''}`);
        want.push(...page.rows.map((r) => r.id));
        if (!page.next) break;
        after = page.next;
      }
      check(want.length > 0 && want.length < server.responses.length, `the filter selects some responses: ${want.length}`);
      await openResponses(ctx, filter);
      equal(await matching(page), want.length, 'rows in the table');
      await page.getByRole('link', { name: 'Export these responses' }).click();
      const summary = page.getByRole('region', { name: 'Only the responses the table shows' });
      await summary.getByText(enumerator).waitFor();
      await summary.getByText('Finalized').waitFor();
      await page.getByLabel(/CSV/).check();
      const downloading = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      const download = await downloading;
      const n = want.length.toLocaleString('en');
      await page.getByText(`${n} of ${n} responses`).waitFor();
      const file = join(artifacts, `filtered-${download.suggestedFilename()}`);
      await download.saveAs(file);
      const { readFileSync } = await import('node:fs');
      const lines = strFromU8(unzipSync(readFileSync(file))[`${FORM}.csv`]).trim().split('\n');
      const keys = lines.slice(1).map((l) => l.match(/uuid:([0-9a-f-]{36})/)?.[1]);
      equal([...keys].sort(), [...want].sort(), 'the exported responses are those of the table');
      check(lines.slice(1).every((l) => l.includes(enumerator)), 'every row is of the enumerator');
      // Back to the whole form.
      await page.getByRole('link', { name: 'Export every response of the form instead' }).click();
      await summary.waitFor({ state: 'detached' });
    },
  },
  {
    name: 'give a device its enumerator profile and the project a neutral name',
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/devices`);
      // Added with a profile.
      await page.getByLabel('Enumerator').fill('Amal');
      await page.getByLabel(/^Label/).fill('Tablet 12');
      await page.getByTestId('new-profile-sex').selectOption('female');
      await page.getByTestId('new-profile-languages').fill('ar, en');
      await page.getByTestId('new-profile-area').fill('North');
      await page.getByRole('button', { name: 'Add a device' }).click();
      const text = (await page.getByTestId('provisioning-code').textContent()).trim();
      const row = page.locator('tr', { has: page.getByRole('cell', { name: /^Tablet 12/ }) });
      await row.getByText('female · ar, en · North').waitFor();
      // Edited on its row: another sex, the area made unknown.
      await row.getByRole('button', { name: 'Edit profile of Tablet 12' }).click();
      await row.getByTestId('profile-sex').selectOption('male');
      await row.getByTestId('profile-area').fill('');
      await shot(ctx, 'devices-profile-edit');
      await row.getByTestId('profile-save').click();
      await row.getByText('male · ar, en', { exact: true }).waitFor();
      await page.getByTestId('notice').getByText('Profile of Tablet 12 saved').waitFor();
      // A wrong language code is refused with what is wrong, and nothing changes.
      await row.getByRole('button', { name: 'Edit profile of Tablet 12' }).click();
      await row.getByTestId('profile-languages').fill('ar;en');
      await row.getByTestId('profile-save').click();
      await row.getByText(/not a language code/).waitFor();
      await row.getByRole('button', { name: 'Cancel' }).click();
      // The neutral name.
      await page.getByTestId('neutral-name').fill('Field notes');
      await page.getByTestId('save-presentation').click();
      await page.getByTestId('notice').getByText('devices show it from their next sync').waitFor();
      await shot(ctx, 'devices-profile');
      // What the device reads with its token is what the page shows.
      const provision = await fetch(`${base}/api/v1/provision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: innerCode(text).code }),
      });
      equal(provision.status, 200, 'provisioning the new device');
      const { token } = await provision.json();
      const read = await fetch(`${base}/api/v1/projects/${PROJECT}/device/profile`, { headers: { Authorization: `Bearer ${token}` } });
      equal(read.status, 200, 'the device reads its profile');
      equal(await read.json(), { enumerator: { sex: 'male', languages: ['ar', 'en'] }, neutral_name: 'Field notes' }, 'the device profile');
      // Reloaded, the page shows what the server keeps.
      await page.reload();
      await row.getByText('male · ar, en', { exact: true }).waitFor();
      // The rows and the presentation are two requests: wait for the second to fill the field.
      await page.waitForFunction(() => document.querySelector('[data-testid=neutral-name]')?.value !== '', null, { timeout: 5000 }).catch(() => {});
      equal(await page.getByTestId('neutral-name').inputValue(), 'Field notes', 'the neutral name after a reload');
      await page.getByTestId('neutral-name').fill('');
      await page.getByTestId('save-presentation').click();
      await page.getByTestId('notice').getByText('devices show it from their next sync').waitFor();
    },
  },
  {
    name: 'add a device and read its QR code',
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/devices`);
      await page.getByLabel('Enumerator').fill('Chebet');
      await page.getByLabel(/^Label/).fill('Tablet 9');
      await page.getByRole('button', { name: 'Add a device' }).click();
      const qr = page.getByRole('img', { name: 'QR code of the provisioning code' });
      await qr.waitFor();
      const text = (await page.getByTestId('provisioning-code').textContent()).trim();
      check(text.startsWith('voices1:'), `code ${text}`);
      const png = PNG.sync.read(await qr.screenshot());
      const read = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
      check(read, 'the QR code on screen cannot be read');
      equal(read.data, text, 'the QR code says the code shown');
      const row = page.locator('tr', { has: page.getByRole('cell', { name: /^Tablet 9/ }) });
      await row.waitFor();
      await shot(ctx, 'devices');
      // The code works once, as the app would use it.
      const inner = innerCode(read.data);
      const provision = await fetch(`${base}/api/v1/provision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: inner.code }),
      });
      equal(provision.status, 200, 'provisioning with the code read from the screen');
      const { token } = await provision.json();
      // Revoke with wipe: the page says what a wipe destroys before it is chosen.
      await page.getByRole('button', { name: 'Revoke Tablet 9' }).click();
      await page.getByLabel('Also erase the data on the device').check();
      const warning = await row.getByRole('alert').textContent();
      check(/not sent yet/.test(warning), `the wipe warning: ${warning}`);
      await shot(ctx, 'devices-revoke-wipe');
      await page.getByRole('button', { name: 'Revoke and erase', exact: true }).click();
      await row.waitFor({ state: 'detached' });
      await page.getByLabel('Show revoked').check();
      await row.getByText('Revoked').waitFor();
      await row.getByText('Wipe ordered').waitFor();
      // The device's next call is told to erase its data.
      const next = await fetch(`${base}/api/v1/projects/${PROJECT}/forms`, { headers: { Authorization: `Bearer ${token}` } });
      equal(next.status, 401, 'a wiped device is refused');
      equal((await next.json()).code, 'device_wipe', 'with the code the app erases itself on');
    },
  },
  {
    name: 'people: add, give a role, reset a password, disable',
    async run(ctx) {
      const { page, base, server } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/people`);
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Add a person' }) });
      await form.getByLabel('User name').fill('wanjiru');
      await form.getByLabel(/Full name/).fill('Wanjiru Mwangi');
      await form.getByRole('button', { name: 'Generate' }).click();
      await form.getByRole('button', { name: 'Add a person' }).click();
      await page.getByText('wanjiru was added.').waitFor();
      const person = page.locator('.people > li', { hasText: 'wanjiru' });
      await person.getByRole('button', { name: /Add to project/ }).click();
      await person.getByRole('cell', { name: PROJECT }).waitFor();
      await person.getByRole('button', { name: 'Reset password' }).click();
      const password = (await page.getByTestId('new-password').textContent()).trim();
      check(password.length >= 10, 'a new password is shown');
      const login = await fetch(`${base}/api/v1/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'wanjiru', password }),
      });
      equal(login.status, 200, 'signing in with the new password');
      const session = await login.json();
      equal(session.memberships, [{ project: PROJECT, role: 'coordinator', teams: null }], 'membership');
      await shot(ctx, 'people');
      await person.getByRole('button', { name: 'Disable' }).click();
      await person.locator('.badge', { hasText: 'Disabled' }).waitFor();
      const users = await server.apiGet('/users');
      equal(users.find((u) => u.name === 'wanjiru')?.disabled, true, 'disabled');
    },
  },
  {
    name: "forms: the checker's findings by line, then publish",
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/forms`);
      const broken = JSON.stringify(
        {
          id: 'broken_form',
          version: '1',
          title: 'Broken',
          languages: [{ code: 'en', name: 'English' }],
          default_language: 'en',
          body: [{ type: 'integer', name: 'age', label: 'Age', relevant: '${nowhere} > 3' }],
        },
        null,
        2,
      );
      await page.getByLabel('Form file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(broken) });
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      const finding = page.locator('.diagnostics li').first();
      await finding.waitFor();
      check(/^\d+:\d+$/.test((await finding.locator('.where').textContent()).trim()), 'a finding has its line:column');
      await shot(ctx, 'forms');
      const fixed = broken.replace('${nowhere} > 3', 'true()');
      await page.getByLabel('Form file').setInputFiles({ name: 'fixed.json', mimeType: 'application/json', buffer: Buffer.from(fixed) });
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.getByText('broken_form version 1 is published.').waitFor();
      await page.getByRole('heading', { name: /Broken/ }).waitFor();
    },
  },
  {
    name: 'publish an XLSForm: findings by sheet and cell, then the fixed workbook',
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/forms`);
      const sheets = (list, relevant) => ({
        survey: [
          ['type', 'name', 'label', 'relevant'],
          ['text', 'village', 'Village', ''],
          [`select_one ${list}`, 'water', 'Water source', ''],
          ['integer', 'age', 'Age', relevant],
        ],
        choices: [['list_name', 'name', 'label'], ['water', 'piped', 'Piped'], ['water', 'well', 'Well']],
        settings: [['form_id', 'version', 'form_title'], ['xls_form', '1', 'An XLSForm']],
      });
      const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
      const bad = Buffer.from(workbook(sheets('nowhere', '${missing} > 3')));
      await page.getByLabel('Form file').setInputFiles({ name: 'survey.xlsx', mimeType: xlsx, buffer: bad });
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.locator('.diagnostics li').first().waitFor();
      const places = await page.locator('.diagnostics li .where').allTextContents();
      check(places.includes('survey!A3') && places.includes('survey!D4'), `findings placed at ${places.join(', ')}`);
      const good = Buffer.from(workbook(sheets('water', '')));
      await page.getByLabel('Form file').setInputFiles({ name: 'survey.xlsx', mimeType: xlsx, buffer: good });
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.getByText('xls_form version 1 is published.').waitFor();
    },
  },
  {
    name: 'smooth scrolling through every row with few in the page',
    async run(ctx) {
      const { page, server } = ctx;
      await signIn(ctx);
      await openResponses(ctx, `form=${FORM}&sort=received_at&order=asc`);
      const scroller = page.locator('.scroller');
      const rowsInDom = () => page.locator('.scroller tbody tr[aria-rowindex]').count();
      check((await rowsInDom()) < 80, `rows in the page at the top: ${await rowsInDom()}`);
      const last = `#${server.responses.length.toLocaleString('en')}`;
      for (let i = 0; i < 60; i++) {
        await scroller.evaluate((s) => s.scrollBy(0, 2000));
        await page.waitForTimeout(25);
      }
      await scroller.evaluate((s) => s.scrollTo(0, s.scrollHeight));
      await page.getByRole('link', { name: `Open response ${server.responses.length}` }).waitFor();
      equal((await page.getByRole('link', { name: `Open response ${server.responses.length}` }).textContent()).trim(), last, 'last row');
      check((await rowsInDom()) < 80, `rows in the page at the bottom: ${await rowsInDom()}`);

      // A far jump (the scroll bar dragged) fetches the page there by its row number, not
      // the pages on the way.
      await openResponses(ctx, `form=${FORM}&sort=received_at&order=asc`);
      const asked = [];
      const listen = (request) => {
        if (request.url().includes('/table?')) asked.push(new URL(request.url()).searchParams);
      };
      page.on('request', listen);
      const target = Math.floor(server.responses.length * 0.8);
      await scroller.evaluate((s, [row, total]) => s.scrollTo(0, (s.scrollHeight * row) / total), [target, server.responses.length]);
      await page.getByRole('link', { name: `Open response ${target + 1}`, exact: true }).waitFor();
      page.off('request', listen);
      check(asked.length <= 2, `pages fetched for the jump: ${asked.map((p) => p.toString()).join(' | ')}`);
      check(asked.some((p) => Number(p.get('offset')) > 0 && !p.has('after')), 'the jump asks for a row number');
    },
  },
  {
    name: 'keyboard only',
    async run(ctx) {
      const { page, base, browser } = ctx;
      await browser.clearCookies();
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const focused = () => page.evaluate(() => {
        const e = document.activeElement;
        return { tag: e?.tagName, text: e?.textContent?.trim() ?? '', label: e?.getAttribute('aria-label') ?? '', href: e?.getAttribute('href') ?? '', name: e?.getAttribute('name') ?? '', outline: e ? getComputedStyle(e).outlineStyle : '' };
      });
      await page.keyboard.press('Tab');
      equal((await focused()).text, 'Skip to content', 'first stop');
      async function tabTo(test, what) {
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press('Tab');
          const f = await focused();
          if (test(f)) return f;
        }
        throw new Error(`Tab never reached ${what}`);
      }
      await tabTo((f) => f.name === 'user', 'the user name');
      await page.keyboard.type(ADMIN.user);
      await page.keyboard.press('Tab');
      equal((await focused()).name, 'password', 'after the user name');
      await page.keyboard.type(ADMIN.password);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      const link = await tabTo((f) => f.href === `/p/${PROJECT}`, 'the project');
      check(link.outline !== 'none', 'the focused link shows where focus is');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await tabTo((f) => f.href === `/p/${PROJECT}/responses`, 'the Responses tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Responses' }).waitFor();
      await page.locator('.scroller tbody tr[aria-rowindex] a').first().waitFor();
      await tabTo((f) => f.label.startsWith('Responses table'), 'the table');
      await page.keyboard.press('PageDown');
      await page.waitForFunction(() => document.querySelector('.scroller').scrollTop > 0);
      await tabTo((f) => f.label === 'Select response 1' || /^Select response \d+$/.test(f.label), 'a row');
      await page.keyboard.press('Space');
      await page.getByRole('region', { name: 'Review the selected responses' }).waitFor();
      const open = await tabTo((f) => f.label.startsWith('Open response'), 'a response link');
      check(open.outline !== 'none', 'visible focus in the table');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
      const heading = await focused();
      equal(heading.tag, 'H2', 'a new page puts focus on its heading');
    },
  },
  {
    name: 'Arabic, right to left',
    async run(ctx) {
      const { page, base } = ctx;
      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/forms/${FORM}/dashboard`);
      await page.locator('section[data-question] tbody tr').first().waitFor();
      await page.getByLabel('Language').selectOption('ar');
      await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar');
      await page.getByRole('heading', { name: /لوحة المؤشرات/ }).waitFor();
      // Labels of the form come in Arabic too.
      await page.getByRole('heading', { name: 'المصدر الرئيسي لمياه الشرب' }).waitFor();
      const brand = await page.locator('.brand').boundingBox();
      const nav = await page.locator('.topbar nav').boundingBox();
      check(brand.x > nav.x, 'the title sits on the right in Arabic');
      await shot(ctx, 'arabic');
      await page.goto(`${base}/p/${PROJECT}/responses?form=${FORM}`);
      await page.getByRole('columnheader', { name: 'القرية' }).waitFor();
      await page.locator('.scroller tbody tr[aria-rowindex] a').first().waitFor();
      await shot(ctx, 'arabic-responses');
      await page.getByLabel('اللغة').selectOption('en');
      await page.waitForFunction(() => document.documentElement.dir === 'ltr');
    },
  },
  {
    name: 'accessibility: no serious or critical axe-core violations',
    async run(ctx) {
      const { page, base, browser, server } = ctx;
      const found = [];
      await browser.clearCookies();
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      for (const v of await axeProblems(ctx)) found.push({ page: 'sign in', ...v });
      await signIn(ctx);
      const pages = [
        ['projects', '/', 'Projects'],
        ['overview', `/p/${PROJECT}`, 'Overview'],
        ['forms', `/p/${PROJECT}/forms`, 'Forms'],
        ['responses', `/p/${PROJECT}/responses?form=${FORM}`, 'Responses'],
        ['response', `/p/${PROJECT}/responses/${server.responses[3].id}`, 'History'],
        ['dashboard', `/p/${PROJECT}/forms/${FORM}/dashboard`, 'Responses over time'],
        ['map', `/p/${PROJECT}/forms/${FORM}/map`, 'Map: wash_survey'],
        ['exports', `/p/${PROJECT}/exports`, 'Exports'],
        ['exports of the table', `/p/${PROJECT}/exports?form=${FORM}&review=approved&q=kijiji`, 'Only the responses the table shows'],
        ['devices', `/p/${PROJECT}/devices`, 'Devices of this project'],
        ['people', '/people', 'Add a person'],
      ];
      for (const [name, path, heading] of pages) {
        await page.goto(`${base}${path}`);
        await page.getByRole('heading', { name: heading }).first().waitFor();
        await page.waitForLoadState('networkidle');
        for (const v of await axeProblems(ctx)) found.push({ page: name, ...v });
      }
      writeFileSync(join(ctx.artifacts, 'axe.json'), JSON.stringify(found, null, 2));
      if (found.length > 0) throw new Error(found.map((v) => `${v.page}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join('; ')}`).join('\n'));
    },
  },  {
    // Last of the console's scenarios: it takes one response out of every count.
    name: 'a respondent withdrew: the response is marked withdrawn and leaves the table',
    async run(ctx) {
      const { page, server, base } = ctx;
      await signIn(ctx);
      const target = server.responses[11];
      const before = await server.apiGet(`/projects/${PROJECT}/table?form=${FORM}&limit=50`);
      await page.goto(`${base}/p/${PROJECT}/responses/${target.id}`);
      const panel = page.getByRole('region', { name: 'Respondent withdrew' });
      await panel.getByLabel('Reason (optional, no names)').fill('Asked by phone');
      await panel.getByRole('button', { name: 'Mark withdrawn' }).click();
      await panel.getByText('Mark this response withdrawn?').waitFor();
      await shot(ctx, 'withdraw');
      await panel.getByRole('button', { name: 'Mark withdrawn' }).click();
      await page.getByRole('heading', { name: 'Marked withdrawn' }).waitFor();
      await page.locator('.history li', { hasText: 'Marked withdrawn' }).waitFor();
      check(!(await page.getByRole('heading', { name: 'Review', exact: true }).isVisible()), 'no review of a withdrawn response');
      const stored = await server.apiGet(`/projects/${PROJECT}/responses/${target.id}`);
      equal([stored.withdrawn?.reason, Object.keys(stored.response.answers).length], ['Asked by phone', 0], 'withdrawal stored');
      const after = await server.apiGet(`/projects/${PROJECT}/table?form=${FORM}&limit=50`);
      equal(after.total, before.total - 1, 'rows in the table');
    },
  },
];
