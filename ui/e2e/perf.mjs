// Figures from the real window: cold start to an interactive form list, and the app's
// resident memory (app process + its web content processes) after opening the
// 2,000-field stress form through the UI. Needs $STRESS_FORM (a form JSON file).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Driver } from './webdriver.mjs';

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

/** RSS of the app started with `data` and of every process below it (WebKit). */
function appRss(data) {
  const all = processes();
  const app = all.find((p) => p.cmd[0].endsWith('voices-app') && p.cmd.includes(data));
  if (!app) throw new Error('app process not found');
  const tree = new Set([app.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!tree.has(p.pid) && tree.has(p.ppid)) { tree.add(p.pid); grew = true; }
  }
  const parts = all.filter((p) => tree.has(p.pid));
  return {
    appMb: app.rssKb / 1024,
    totalMb: parts.reduce((s, p) => s + p.rssKb, 0) / 1024,
    processes: parts.length,
  };
}

const starts = [];
for (let i = 0; i < 3; i++) {
  const data = mkdtempSync(join(tmpdir(), 'voices-perf-'));
  const t0 = performance.now();
  const d = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  await d.find('[data-testid="form-list"][data-ready="true"] [data-testid="start"]', { timeout: 30000, poll: 10 });
  starts.push(performance.now() - t0);
  await d.quit();
}
starts.sort((a, b) => a - b);
console.log(`cold start to interactive form list (new data dir, through WebDriver): median ${starts[1].toFixed(0)} ms (runs: ${starts.map((s) => s.toFixed(0)).join(', ')})`);

if (STRESS) {
  const data = mkdtempSync(join(tmpdir(), 'voices-perf-stress-'));
  const d = await Driver.start(DRIVER, APP, ['--data-dir', data]);
  try {
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
    const rss = appRss(data);
    console.log(`open the 2,000-field stress form in the window (click to first page shown): ${opened.toFixed(0)} ms`);
    console.log(`resident memory after opening it: app process ${rss.appMb.toFixed(0)} MB; with its ${rss.processes - 1} WebKit processes ${rss.totalMb.toFixed(0)} MB`);
  } finally {
    await d.quit();
  }
}
