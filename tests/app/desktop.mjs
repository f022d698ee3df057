// Shared helpers for the desktop app's tests: a virtual X display (Xvfb) with real input events (xdotool), and a
// running app that writes its state JSON after every drawn frame (--state-file).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A display of the given size: { env (DISPLAY set), xdo(...args), stop() }.
export async function display(size = '2560x1600') {
  const name = `:${100 + Math.floor(Math.random() * 400)}`;
  const xvfb = spawn('Xvfb', [name, '-screen', '0', `${size}x24`, '-nolisten', 'tcp'], { stdio: 'ignore' });
  const env = { ...process.env, DISPLAY: name };
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${name.slice(1)}`); i++) await sleep(100);
  return { env, xdo: (...args) => execFileSync('xdotool', args, { env }), stop: () => xvfb.kill() };
}

// The app running with `args`: { child, read() (its latest state or null), until(pred, what, timeout) }.
export function startApp(app, args, { env, dir }) {
  const file = path.join(dir, `state-${Date.now()}.json`);
  const child = spawn(app, ['--state-file', file, '--size', '1280x800', ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const read = () => { try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { return null; } };
  const until = async (pred, what, timeout = 60000) => {
    const t0 = Date.now();
    let s = null;
    while (Date.now() - t0 < timeout) {
      s = read();
      if (s && pred(s)) return s;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(s).slice(0, 400)}`);
  };
  return { child, read, until };
}

// The centre of a widget the app reported in its state.
export const at = (s, key) => {
  const r = s.rects[key];
  assert.ok(r, `no ${key}`);
  return [Math.round((r[0] + r[2]) / 2), Math.round((r[1] + r[3]) / 2)];
};
