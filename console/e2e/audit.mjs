// The access audit page for admins, in Chromium against the real server: records made
// through the API are found by person and action, a page at a time, and by date.
import { ADMIN, PROJECT } from './server.mjs';
import { shot, signIn } from './scenarios.mjs';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** `YYYY-MM-DD` of the day `days` from today (UTC, as the server stamps records). */
function day(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const auditScenarios = [
  {
    name: 'an admin reads the access audit by person, action and date, a page at a time',
    async run(ctx) {
      const { page, server } = ctx;
      // Every pull through the API is a record (`read_response`, `pull`): 55 of them by the
      // admin, more than the page's 50.
      for (let i = 0; i < 55; i++) await server.apiGet(`/projects/${PROJECT}/responses?limit=1`);
      const total = (await server.apiGet(`/audit?actor=${ADMIN.user}&action=read_response&limit=1000`)).entries.length;
      check(total >= 55, `the API holds ${total} reads by ${ADMIN.user}`);

      await ctx.browser.clearCookies();
      await signIn(ctx);
      await page.getByRole('link', { name: 'Access audit' }).click();
      await page.getByRole('heading', { name: 'Access audit' }).waitFor();
      await page.getByTestId('audit').waitFor();

      await page.locator('input[name=actor]').fill(ADMIN.user);
      await page.locator('select[name=action]').selectOption('read_response');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.waitForURL(/\/audit\?actor=admin&action=read_response$/);
      const rows = page.locator('[data-testid=audit] tbody tr');
      const onlyReads = async (n) =>
        page.waitForFunction(
          (n) => {
            const trs = [...document.querySelectorAll('[data-testid=audit] tbody tr')];
            return trs.length === n && trs.every((tr) => tr.dataset.action === 'read_response');
          },
          n,
          { timeout: 30_000 },
        );
      await onlyReads(50);
      check((await rows.first().textContent()).includes('Read a response'), 'the action is named in words');
      await page.getByTestId('audit-more').click();
      await onlyReads(Math.min(total, 100));
      check(
        (await page.getByTestId('audit-more').count()) === (total > 100 ? 1 : 0),
        'More is offered only while records remain',
      );
      await shot(ctx, 'audit');

      // Dates: nothing before today; today's records from today on.
      await page.locator('input[name=until]').fill(day(-1));
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.getByTestId('audit-empty').waitFor();
      await page.locator('input[name=until]').fill('');
      await page.locator('input[name=since]').fill(day(0));
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await onlyReads(50);

      // In Arabic the page reads right to left, its words translated.
      await page.getByLabel('Language').selectOption('ar');
      await page.getByRole('heading', { name: 'سجل الوصول' }).waitFor();
      check((await page.locator('html').getAttribute('dir')) === 'rtl', 'the page is right to left');
      await page.getByLabel('اللغة').selectOption('en');
    },
  },
];
