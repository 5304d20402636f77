// Figures from the real window: cold start to an interactive form list, and the app's
// resident memory (app process + its web content processes) after opening the
// 2,000-field stress form through the UI. Needs $STRESS_FORM (a form JSON file).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Driver, sleep } from './webdriver.mjs';
import { enterPin } from './helpers.mjs';

const APP = process.env.VOICES_APP;
const DRIVER = process.env.TAURI_DRIVER_URL ?? 'http://127.0.0.1:4444';
const STRESS = process.env.STRESS_FORM;

function processes() {
  const out = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      const rss = readFileSync(`/proc/${pid}/status`, 'latin1').match(/VmRSS:\s+(\d+)/);
      out.push({ pid: Number(pid), ppid, cmd, rssKb: rss ? Number(rss[1]) : 0 });
    } catch {
      // gone
    }
  }
  return out;
}

/** The app started with `data` and every process below it (WebKit's web content and
 * network processes, possibly behind bubblewrap). */
function appTree(data) {
  const all = processes();
  const app = all.find((p) => p.cmd[0].endsWith('voices-app') && p.cmd.includes(data));
  if (!app) throw new Error('app process not found');
  const tree = new Set([app.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!tree.has(p.pid) && tree.has(p.ppid)) { tree.add(p.pid); grew = true; }
  }
  return all.filter((p) => tree.has(p.pid));
}

/** Resident (RSS) and proportional (PSS: shared pages split between their users) memory of
 * one process, in MB, and its largest mappings by PSS. */
function memoryOf(pid) {
  const kb = (text, key) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const byMapping = new Map();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const head = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/);
    if (head) {
      name = head[1] || '[anonymous]';
      // Name libraries by file only; every anonymous region counts as one.
      name = name.replace(/^.*\//, '');
      continue;
    }
    const pss = line.match(/^Pss:\s+(\d+)/);
    if (pss) byMapping.set(name, (byMapping.get(name) ?? 0) + Number(pss[1]));
  }
  const top = [...byMapping].sort((a, b) => b[1] - a[1]).slice(0, 6)
    .map(([n, k]) => `${n} ${(k / 1024).toFixed(1)}`);
  return {
    rssMb: kb(rollup, 'Rss') / 1024,
    pssMb: kb(rollup, 'Pss') / 1024,
    privateMb: (kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty')) / 1024,
    top,
  };
}

/** A short name for a process of the app's tree. */
function role(p) {
  const exe = p.cmd.find((c) => /WebKit\w+Process|voices-app|bwrap|xdg-dbus-proxy/.test(c)) ?? p.cmd[0];
  return exe.replace(/^.*\//, '');
}

const locks = [];
const unlocks = [];
for (let i = 0; i < 3; i++) {
  const data = mkdtempSync(join(tmpdir(), 'voices-perf-'));
  // First start: the PIN is set once, outside the measurement.
  const first = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  await enterPin(first);
  await first.find('[data-testid="form-list"][data-ready="true"]', { timeout: 30000 });
  await first.quit();
  const t0 = performance.now();
  const d = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  await d.find('[data-testid="lock-screen"] [data-testid="pin"]', { timeout: 30000, poll: 10 });
  locks.push(performance.now() - t0);
  await d.quit();
  // Restarted on the same directory: the PIN typed and the form list interactive.
  const d2 = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  await enterPin(d2);
  const t1 = performance.now();
  await d2.find('[data-testid="form-list"][data-ready="true"] [data-testid="start"]', { timeout: 30000, poll: 10 });
  unlocks.push(performance.now() - t1);
  await d2.quit();
}
const median = (xs) => xs.sort((a, b) => a - b)[1];
console.log(`cold start to the interactive lock screen (a data dir with a PIN, through WebDriver): median ${median(locks).toFixed(0)} ms (runs: ${locks.map((s) => s.toFixed(0)).join(', ')})`);
console.log(`unlock in the window (PIN submitted to interactive form list, Argon2id included): median ${median(unlocks).toFixed(0)} ms (runs: ${unlocks.map((s) => s.toFixed(0)).join(', ')})`);

if (STRESS) {
  const data = mkdtempSync(join(tmpdir(), 'voices-perf-stress-'));
  const d = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  try {
    await enterPin(d);
    await d.find('[data-testid="form-list"][data-ready="true"]', { timeout: 30000 });
    await (await d.find('[data-testid="tab-load"]')).click();
    await (await d.find('#form-path')).type(STRESS);
    await (await d.find('[data-testid="load-path"]')).click();
    await d.find('.report[data-outcome="added"]', { timeout: 60000 });
    await (await d.find('[data-testid="tab-forms"]')).click();
    const t0 = performance.now();
    await (await d.find('[data-form="stress"] [data-testid="start"]')).click();
    await d.find('main[data-page]', { timeout: 60000 });
    const opened = performance.now() - t0;
    // Let the web process settle (garbage collection, decoded fonts) as a user would see it.
    await sleep(3000);
    // The app first, then its children (pids wrap around, so their order says nothing).
    const tree = appTree(data)
      .map((p) => ({ ...p, role: role(p), mem: memoryOf(p.pid) }))
      .sort((a, b) => Number(b.role === 'voices-app') - Number(a.role === 'voices-app'));
    console.log(`open the 2,000-field stress form in the window (click to first page shown): ${opened.toFixed(0)} ms`);
    for (const p of tree) {
      if (p.mem.rssMb < 1) continue;
      console.log(`  ${p.role} (pid ${p.pid}): RSS ${p.mem.rssMb.toFixed(1)} MB, PSS ${p.mem.pssMb.toFixed(1)} MB, private ${p.mem.privateMb.toFixed(1)} MB; largest (PSS MB): ${p.mem.top.join(', ')}`);
    }
    const app = tree[0].mem;
    const sum = (k) => tree.reduce((s, p) => s + p.mem[k], 0);
    console.log(`resident memory after opening it: app process RSS ${app.rssMb.toFixed(0)} MB; app and its ${tree.length - 1} WebKit processes: RSS ${sum('rssMb').toFixed(0)} MB (shared libraries counted in each), PSS ${sum('pssMb').toFixed(0)} MB (each page counted once)`);
  } finally {
    await d.quit();
  }
}
