// End-to-end tests of the coordinator console in a real browser: Debian's Chromium driven
// by playwright-core (no browser download), against a real voices-server with data synced in
// over HTTP. Every scenario runs even when an earlier one failed; the last line is
// `console-e2e: N passed, N failed` for scripts/test.sh.
//
// Environment: VOICES_SERVER_BIN (a voices-server built with the `console` feature),
// VOICES_APP_BIN (the enumerator app, whose sync without a window receives what the
// workbench publishes), VOICES_CLI_BIN (the `voices` command, whose keygen makes the
// coordinator's identity), CHROMIUM (default /usr/bin/chromium), ARTIFACTS (logs and failure pictures),
// SCREENSHOTS (where the docs' console-*.png pictures go; default: ARTIFACTS).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { scenarios as consoleScenarios } from './scenarios.mjs';
import { teamsScenarios } from './teams.mjs';
import { workbenchScenarios } from './workbench.mjs';
import { picturesScenarios } from './pictures.mjs';
import { sealedScenarios } from './sealed.mjs';
import { auditScenarios } from './audit.mjs';

// The sealed-answers scenario gives the project a key: last but the audit, which reads
// what every scenario before it recorded.
const scenarios = [
  ...consoleScenarios,
  ...teamsScenarios,
  ...workbenchScenarios,
  ...picturesScenarios,
  ...sealedScenarios,
  ...auditScenarios,
];

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.VOICES_SERVER_BIN;
if (!bin) {
  console.error('console-e2e: set VOICES_SERVER_BIN to a voices-server built with --features console');
  console.log('console-e2e: 0 passed, 1 failed');
  process.exit(1);
}
const appBin = process.env.VOICES_APP_BIN;
if (!appBin) {
  console.error('console-e2e: set VOICES_APP_BIN to a voices-app (the workbench publishes to a real app)');
  console.log('console-e2e: 0 passed, 1 failed');
  process.exit(1);
}
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, '..', '..', 'test-artifacts', 'console-e2e'));
const shots = resolve(process.env.SCREENSHOTS ?? artifacts);
mkdirSync(artifacts, { recursive: true });
mkdirSync(shots, { recursive: true });
const only = process.argv.slice(2);

const server = await startServer({
  bin,
  formFile: join(here, 'forms', 'console-e2e.json'),
  artifacts,
  responses: Number(process.env.E2E_RESPONSES ?? 2500),
});
console.log(`console-e2e: server on ${server.base} with ${server.responses.length} responses`);

const profile = mkdtempSync(join(tmpdir(), 'voices-console-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1360, height: 900 },
  locale: 'en-GB',
  timezoneId: 'UTC',
  acceptDownloads: true,
});

const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const results = [];
for (const scenario of scenarios) {
  if (only.length > 0 && !only.some((o) => scenario.name.includes(o))) continue;
  const page = await browser.newPage();
  const problems = [];
  // Anything the Content-Security-Policy refuses, and any script error, fails the scenario.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const started = Date.now();
  try {
    await scenario.run({ page, server, base: server.base, shots, artifacts, axeSource, browser, appBin });
    if (problems.length > 0) throw new Error(problems.join('\n'));
    results.push({ name: scenario.name, ok: true });
    console.log(`ok    ${scenario.name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name: scenario.name, ok: false });
    console.log(`FAIL  ${scenario.name} (${Date.now() - started} ms)\n      ${String(e?.stack ?? e).split('\n').join('\n      ')}`);
    const safe = scenario.name.replace(/[^a-z0-9]+/gi, '-');
    await page.screenshot({ path: join(artifacts, `failed-${safe}.png`), fullPage: true }).catch(() => {});
    writeFileSync(join(artifacts, `failed-${safe}.html`), await page.content().catch(() => ''));
  } finally {
    await page.close();
  }
}

await browser.close();
await server.stop();
rmSync(profile, { recursive: true, force: true });
rmSync(server.dataDir, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`console-e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
