// The WebAssembly half of `cargo bench -p voices-wasm --bench in_webassembly`: the form in
// argv[2] checked, started and answered through the module's exports in V8; one JSON line
// of figures (milliseconds) on stdout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { initSync, check, Preview } from '../pkg/voices_core.js';

const started = performance.now();
initSync({ module: readFileSync(new URL('../pkg/voices_core_bg.wasm', import.meta.url)) });
const instantiate = performance.now() - started;
const source = readFileSync(process.argv[2], 'utf8');
const rounds = Number(process.argv[3] ?? 5);
const answersFile = process.argv[4];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const checks = [];
for (let i = 0; i < rounds; i++) {
  const t = performance.now();
  const report = JSON.parse(check(source));
  checks.push(performance.now() - t);
  if (report.ok.errors !== 0) throw new Error('the stress form does not check');
}
const starts = [];
let preview;
for (let i = 0; i < rounds; i++) {
  preview?.free();
  const t = performance.now();
  preview = new Preview(source, 'bench', null, '2025-06-01T08:00:00+02:00', 5);
  JSON.parse(preview.started());
  starts.push(performance.now() - t);
}
JSON.parse(preview.screen_record_consent(true, '2025-06-01T08:00:00+02:00'));
const answers = answersFile ? JSON.parse(readFileSync(answersFile, 'utf8')) : pick(2000);

/** Random questions of the form's pages with a value each (as the native half picks them). */
function pick(changes) {
  const view = JSON.parse(preview.view('en')).ok;
  const fields = [];
  view.pages.forEach((page, index) => {
    for (const item of page.items) {
      if (item.item === 'field' && !item.read_only && item.kind !== 'note') fields.push([item, index]);
    }
  });
  let state = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  const out = [];
  for (let i = 0; i < changes; i++) {
    state ^= (state << 13n) & mask;
    state ^= state >> 7n;
    state ^= (state << 17n) & mask;
    const [f, page] = fields[Number(state % BigInt(fields.length))];
    let value = `text ${i}`;
    if (f.kind === 'integer' || f.kind === 'decimal') value = ['1', '2', '3', '4'][i % 4];
    else if ((f.kind === 'select_one' || f.kind === 'select_multiple') && f.choices?.length) value = f.choices[i % f.choices.length].name;
    else if (f.kind === 'date') value = '2024-05-01';
    out.push([f.path, value, page]);
  }
  return out;
}
// An answer as the preview gives it: the engine's recompute, then the page the screen shows.
const recompute = [];
const withPage = [];
for (const [path, value, page] of answers) {
  let t = performance.now();
  JSON.parse(preview.set_answer(path, value));
  recompute.push(performance.now() - t);
  t = performance.now();
  JSON.parse(preview.screen_page(page));
  withPage.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    instantiate,
    check: median(checks),
    start: median(starts),
    recompute_p50: percentile(recompute, 0.5),
    recompute_p99: percentile(recompute, 0.99),
    page_p50: percentile(withPage, 0.5),
    page_p99: percentile(withPage, 0.99),
  }),
);
