#!/usr/bin/env node
// What the app costs while nobody touches it: CPU time (user + system, all processes of the browser or the desktop
// app) and frames drawn over an idle window after the first explanation has finished.
//   node tools/bench_idle.mjs [--dist DIST_DIR] [--app build/native/lrpscope-app] [--seconds 10] [--label NAME]
// Either or both of --dist (headless Chromium, single-threaded module) and --app (under Xvfb) can be given; run it
// for two builds in one session to compare them side by side.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const seconds = Number(opt('--seconds', 10));
const label = opt('--label', '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = 100;  // USER_HZ on Linux

// CPU seconds of a process and all its descendants
function treeCpu(pid) {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const f = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      const ppid = Number(f[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push([Number(d), (Number(f[11]) + Number(f[12])) / tick]);
    } catch (e) { /* gone */ }
  }
  let total = 0;
  const own = (() => { try { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
                             return (Number(f[11]) + Number(f[12])) / tick; } catch (e) { return 0; } })();
  total += own;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    for (const [c, cpu] of kids.get(p) || []) { total += cpu; stack.push(c); }
  }
  return total;
}

async function page(dist) {
  const { serve, launch } = await import(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'tests', 'web', 'browser.mjs'));
  const server = await serve(dist);
  const b = await launch(1280, 800, 1);
  try {
    await b.page.goto(server.url + '?single');
    for (let i = 0; i < 1200; i++) {
      const s = await b.page.evaluate(() => (window.lrpscope && window.Module && window.Module.calledRun) ? window.lrpscope.state() : null);
      if (s && !s.busy && s.graph_nodes > 0 && s.selected_neuron) break;
      await sleep(100);
    }
    await sleep(2000);
    // the browser's processes: every chromium process that is a child of this node process
    const roots = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    const frames0 = await b.page.evaluate(() => window.lrpscope.state().frames);
    const c0 = roots.reduce((a, p) => a + treeCpu(p), 0);
    await sleep(seconds * 1000);
    const c1 = roots.reduce((a, p) => a + treeCpu(p), 0);
    const frames1 = await b.page.evaluate(() => window.lrpscope.state().frames);
    return { cpu: 100 * (c1 - c0) / seconds, fps: (frames1 - frames0) / seconds };
  } finally {
    await b.close();
    server.stop();
  }
}

async function desktop(app) {
  const display = `:${500 + Math.floor(Math.random() * 300)}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${display.slice(1)}`); i++) await sleep(100);
  const child = spawn(app, ['--no-hint', '--size', '1280x800'], { env: { ...process.env, DISPLAY: display }, stdio: 'ignore' });
  try {
    await sleep(5000);  // the first explanation of the default model takes well under a second
    const c0 = treeCpu(child.pid);
    await sleep(seconds * 1000);
    return { cpu: 100 * (treeCpu(child.pid) - c0) / seconds };
  } finally {
    child.kill();
    xvfb.kill();
  }
}

const rows = [];
if (opt('--dist')) rows.push(['page (headless Chromium, software WebGL)', await page(path.resolve(opt('--dist')))]);
if (opt('--app')) rows.push(['desktop app (Xvfb)', await desktop(path.resolve(opt('--app')))]);
console.log(`idle for ${seconds} s after the first explanation${label ? ` — ${label}` : ''} (${os.cpus().length} cores)`);
for (const [what, r] of rows)
  console.log(`  ${what}: ${r.cpu.toFixed(1)} % of a core${r.fps !== undefined ? `, ${r.fps.toFixed(1)} frames/s drawn` : ''}`);
