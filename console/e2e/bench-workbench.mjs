// The workbench's figures in Chromium (issue 17, docs/performance.md): Debian's Chromium driven
// by playwright-core, as console/e2e does. A benchmark: it prints figures and asserts none.
//
//  1. The core in a page: the WebAssembly module the console ships (wasm/pkg, the very bytes
//     Vite copies into console/dist) instantiated in a blank page, then, on the form in
//     STRESS_FORM (`voices form stress --fields 2000`): check() (the checker with line and
//     column for every finding), a test response started, and answers as the preview gives
//     them: the engine's recompute (`set_answer`) and then the page the screen shows
//     (`screen_page`), over random questions.
//  2. The workbench itself against a real voices-server: the stress form uploaded as a
//     draft until its findings show, then answers typed into the preview's widgets (the
//     app's Interview on the engine) until each says "saved" and the frame is painted.
//  3. The module's size: raw, gzip -9 and brotli (voices-server serves it as it is; a
//     reverse proxy compresses).
//
// Environment: STRESS_FORM (required), VOICES_SERVER_BIN (a voices-server with the console;
// without it part 2 is not run and says so), CHROMIUM (default /usr/bin/chromium),
// ROUNDS (default 7), ANSWERS (default 2000). One JSON line of figures last.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { signIn } from './scenarios.mjs';
import { PROJECT, startServer } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..', 'wasm', 'pkg');
const stressFile = process.env.STRESS_FORM;
if (!stressFile) {
  console.error('bench-workbench: set STRESS_FORM to a generated form (voices form stress --fields 2000 -o FILE)');
  process.exit(2);
}
const source = readFileSync(stressFile, 'utf8');
const rounds = Number(process.env.ROUNDS ?? 7);
const answerCount = Number(process.env.ANSWERS ?? 2000);

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const round = (x) => Math.round(x * 100) / 100;

// 3. Size.
const wasm = readFileSync(join(pkg, 'voices_core_bg.wasm'));
const size = {
  raw_kib: Math.round(wasm.length / 1024),
  gzip9_kib: Math.round(gzipSync(wasm, { level: 9 }).length / 1024),
  brotli_kib: Math.round(brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length / 1024),
};

// 1. The module in a blank page, served from loopback with the right MIME types.
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const files = createServer((req, res) => {
  const name = req.url === '/' ? null : req.url.replace(/^\/+/, '');
  if (!name) {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>bench</title>');
    return;
  }
  if (name === 'stress.json') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(source);
    return;
  }
  try {
    const body = readFileSync(join(pkg, name.replace(/[^A-Za-z0-9_.-]/g, '')));
    res.writeHead(200, { 'Content-Type': types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => files.listen(0, '127.0.0.1', r));
const filesBase = `http://127.0.0.1:${files.address().port}`;

const profile = mkdtempSync(join(tmpdir(), 'voices-bench-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  viewport: { width: 1360, height: 900 },
  locale: 'en-GB',
  timezoneId: 'UTC',
});

const blank = await browser.newPage();
await blank.goto(filesBase + '/');
const version = (await blank.evaluate(() => navigator.userAgent)).match(/Chrome\/[\d.]+/)?.[0];
const core = await blank.evaluate(
  async ({ rounds, answerCount }) => {
    const now = '2025-06-01T08:00:00+02:00';
    const t0 = performance.now();
    const m = await import('/voices_core.js');
    await m.default('/voices_core_bg.wasm');
    const instantiate = performance.now() - t0;
    const text = await (await fetch('/stress.json')).text();
    const checks = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const report = JSON.parse(m.check(text));
      checks.push(performance.now() - t);
      if (report.ok.errors !== 0) throw new Error('the stress form does not check');
    }
    const starts = [];
    let preview;
    for (let i = 0; i < rounds; i++) {
      preview?.free();
      const t = performance.now();
      preview = new m.Preview(text, 'bench', null, now, 5);
      JSON.parse(preview.started());
      starts.push(performance.now() - t);
    }
    JSON.parse(preview.screen_record_consent(true, now));
    // Random questions of the form's pages (the same generator as wasm/benches/workbench.mjs).
    const view = JSON.parse(preview.view('en')).ok;
    const fields = [];
    view.pages.forEach((page, index) => {
      for (const item of page.items) if (item.item === 'field' && !item.read_only && item.kind !== 'note') fields.push([item, index]);
    });
    let state = 0x9e3779b97f4a7c15n;
    const mask = (1n << 64n) - 1n;
    const recompute = [];
    const page = [];
    for (let i = 0; i < answerCount; i++) {
      state ^= (state << 13n) & mask;
      state ^= state >> 7n;
      state ^= (state << 17n) & mask;
      const [f, at] = fields[Number(state % BigInt(fields.length))];
      let value = `text ${i}`;
      if (f.kind === 'integer' || f.kind === 'decimal') value = ['1', '2', '3', '4'][i % 4];
      else if ((f.kind === 'select_one' || f.kind === 'select_multiple') && f.choices?.length) value = f.choices[i % f.choices.length].name;
      else if (f.kind === 'date') value = '2024-05-01';
      let t = performance.now();
      JSON.parse(preview.set_answer(f.path, value));
      recompute.push(performance.now() - t);
      t = performance.now();
      JSON.parse(preview.screen_page(at));
      page.push(performance.now() - t);
    }
    return { instantiate, checks, starts, recompute, page };
  },
  { rounds, answerCount },
);
await blank.close();
files.close();

const figures = {
  chromium: version,
  size,
  core_in_page: {
    instantiate_ms: round(core.instantiate),
    check_ms_median: round(percentile(core.checks, 0.5)),
    check_ms_max: round(Math.max(...core.checks)),
    start_ms_median: round(percentile(core.starts, 0.5)),
    recompute_ms_p50: round(percentile(core.recompute, 0.5)),
    recompute_ms_p99: round(percentile(core.recompute, 0.99)),
    page_ms_p50: round(percentile(core.page, 0.5)),
    page_ms_p99: round(percentile(core.page, 0.99)),
  },
};

// 2. The workbench, against a real server.
const bin = process.env.VOICES_SERVER_BIN;
if (bin) {
  const artifacts = mkdtempSync(join(tmpdir(), 'voices-bench-server-'));
  mkdirSync(artifacts, { recursive: true });
  const server = await startServer({ bin, formFile: join(here, 'forms', 'console-e2e.json'), artifacts, responses: 10 });
  try {
    const page = await browser.newPage();
    await signIn({ page, base: server.base });
    await page.goto(`${server.base}/p/${PROJECT}/workbench`);
    await page.getByTestId('new-draft').waitFor();
    // A draft from the stress form: from the file handed over to its findings on screen.
    const uploads = [];
    for (let i = 0; i < Math.min(rounds, 3); i++) {
      const t = Date.now();
      await page.getByTestId('draft-upload').setInputFiles({ name: `stress-${i}.json`, mimeType: 'application/json', buffer: Buffer.from(source) });
      await page.waitForFunction((name) => {
        const chosen = document.querySelector('[data-testid=draft-select]');
        const count = document.querySelector('[data-testid=findings-count]')?.textContent ?? '';
        return chosen?.selectedOptions[0]?.textContent?.includes(name) && count.startsWith('0 errors');
      }, `stress-${i}.json`, { timeout: 60_000 });
      uploads.push(Date.now() - t);
    }
    // The preview: consent (when the form asks it), then answers typed into its widgets until each says "saved"
    // and the next frame is painted (the engine's recompute, the page update, Svelte).
    const preview = page.getByTestId('preview');
    const consent = preview.locator('[data-testid=consent-yes]');
    const questions = preview.locator('main[data-page-kind=questions]');
    await consent.or(questions).first().waitFor({ timeout: 60_000 });
    if (await consent.count()) await consent.click();
    await questions.waitFor();
    const typed = await page.evaluate(async (limit) => {
      const root = document.querySelector('[data-testid=preview] .device').shadowRoot;
      const fields = [...root.querySelectorAll('.field[data-kind=integer], .field[data-kind=text], .field[data-kind=decimal]')].slice(0, limit);
      const times = [];
      for (const [i, field] of fields.entries()) {
        const input = field.querySelector('input, textarea');
        if (!input) continue;
        const t = performance.now();
        input.value = field.dataset.kind === 'text' ? `answer ${i}` : String((i % 7) + 1);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
        for (let spins = 0; !field.querySelector('.status-saved'); spins++) {
          if (spins > 10_000) throw new Error(`${field.dataset.path} never said saved`);
          await new Promise((r) => setTimeout(r, 0));
        }
        await new Promise((r) => requestAnimationFrame(() => r()));
        times.push(performance.now() - t);
      }
      return times;
    }, 60);
    if (typed.length < 10) throw new Error(`only ${typed.length} questions answered in the preview`);
    figures.workbench = {
      draft_to_findings_ms: uploads,
      answer_typed_to_saved_painted_ms_p50: round(percentile(typed, 0.5)),
      answer_typed_to_saved_painted_ms_max: round(Math.max(...typed)),
      answers_typed: typed.length,
    };
    await page.close();
  } finally {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
    rmSync(artifacts, { recursive: true, force: true });
  }
} else {
  figures.workbench = 'not run: set VOICES_SERVER_BIN';
}

await browser.close();
rmSync(profile, { recursive: true, force: true });
console.log(JSON.stringify(figures));
