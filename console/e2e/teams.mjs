// Teams (issue 14): an administrator makes a team of one device in the browser and limits a
// coordinator to it on the People page; that coordinator then sees, in table, overview,
// dashboard and export, only the responses the team's device sent, and another device's
// response is not found. Expected figures come from the admin's API with a device filter.
import { FORM } from './data.mjs';
import { ADMIN, PROJECT } from './server.mjs';
import { shot, signIn } from './scenarios.mjs';

const LIMITED = { user: 'tina', password: 'e2e-team-coordinator-3' };

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** An admin's bearer call (the scenario's set-up, behind the browser's back). */
async function adminCall(base, method, path, body) {
  const login = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const { token } = await login.json();
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

export const teamsScenarios = [
  {
    name: 'a coordinator limited to a team sees only its responses in table, dashboard and export',
    async run(ctx) {
      const { page, base, server, browser } = ctx;
      const deviceA = server.devices.A.id;
      await adminCall(base, 'POST', '/users', { name: LIMITED.user, password: LIMITED.password });
      await adminCall(base, 'PUT', `/projects/${PROJECT}/members/${LIMITED.user}`, { role: 'coordinator' });

      // The administrator makes the team and puts device A in it.
      await browser.clearCookies();
      await signIn(ctx, ADMIN);
      await page.goto(`${base}/p/${PROJECT}/teams`);
      await page.getByRole('heading', { name: 'Teams', exact: true }).waitFor();
      await page.locator('form.add').getByLabel('Team name').fill('North');
      await page.getByRole('button', { name: 'Add a team' }).click();
      await page.getByRole('status').filter({ hasText: 'Team North added.' }).waitFor();
      const team = page.getByTestId('team').filter({ hasText: 'North' });
      await team.getByLabel('Device to add').selectOption(deviceA);
      await team.getByRole('button', { name: 'Add to team' }).click();
      await page.getByRole('status').filter({ hasText: `Device ${deviceA} added to North.` }).waitFor();
      await shot(ctx, 'teams');

      // … and limits the coordinator to it.
      await page.goto(`${base}/people`);
      await page.getByRole('button', { name: `Manage ${LIMITED.user}` }).click();
      await page.getByTestId('limit-teams').filter({ hasText: 'All responses' }).click();
      await page.getByLabel('Only these teams').check();
      await page.getByRole('checkbox', { name: 'North' }).check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').filter({ hasText: `What ${LIMITED.user} sees in ${PROJECT} was saved.` }).waitFor();
      await page.getByTestId('limit-teams').filter({ hasText: 'Only the teams: North' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();

      const all = await server.apiGet(`/projects/${PROJECT}/table?limit=1`);
      const ours = await server.apiGet(`/projects/${PROJECT}/table?device=${deviceA}&limit=1`);
      const oursInForm = await server.apiGet(`/projects/${PROJECT}/table?form=${FORM}&device=${deviceA}&limit=1`);
      check(ours.total > 0 && ours.total < all.total, `device A has some of the responses: ${ours.total} of ${all.total}`);

      // The limited coordinator: told their teams; overview, table, dashboard and export
      // hold device A's responses only.
      await signIn(ctx, LIMITED);
      await page.goto(`${base}/p/${PROJECT}`);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByTestId('team-limit').filter({ hasText: 'Your teams: North' }).waitFor();
      const card = (name) => page.locator('.card', { hasText: name }).locator('.value');
      equal(await card('Responses in all').textContent(), ours.total.toLocaleString('en'), 'overview total');
      check(!(await page.locator('main').textContent()).includes('Baraka'), "the overview names no other team's enumerator");

      await page.goto(`${base}/p/${PROJECT}/responses`);
      const status = page.locator('.page-head [role=status]');
      await status.filter({ hasText: 'matching' }).waitFor();
      equal(Number((await status.textContent()).replace(/[^0-9]/g, '')), ours.total, 'table total');
      await page.locator('.scroller tbody tr[aria-rowindex] a').first().waitFor();
      check(!(await page.locator('.scroller').textContent()).includes('Baraka'), "the table shows no other team's response");
      await shot(ctx, 'teams-limited');

      await page.goto(`${base}/p/${PROJECT}/forms/${FORM}/dashboard`);
      await page.getByTestId('dashboard-total').waitFor();
      equal(await page.getByTestId('dashboard-total').textContent(), oursInForm.total.toLocaleString('en'), 'dashboard total');

      // The export, as the page's own session asks for it.
      const exported = await page.evaluate(async (path) => {
        const res = await fetch(path);
        return { status: res.status, total: res.headers.get('x-voices-total'), body: await res.text() };
      }, `/api/v1/projects/${PROJECT}/forms/${FORM}/export?format=json`);
      equal(exported.status, 200, 'export status');
      equal(Number(exported.total), oursInForm.total, 'export total');
      const theirs = server.responses.filter((r) => r.device === 'B');
      check(!theirs.some((r) => exported.body.includes(r.id)), "the export holds no other team's response");
      check(server.responses.some((r) => r.device === 'A' && exported.body.includes(r.id)), "the export holds the team's responses");

      // Another team's response is not found, as a missing one.
      await page.goto(`${base}/p/${PROJECT}/responses/${theirs[0].id}`);
      await page.getByText(`no response \`${theirs[0].id}\``).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    },
  },
];
