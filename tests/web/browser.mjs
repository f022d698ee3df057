// Shared helpers for the browser tests: serve dist/, launch Debian's Chromium headless with WebGL2 through
// SwiftShader, open the page and wait for the app's state.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-gl=angle',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export async function serve(root, base = '/', extra = []) {
  const server = spawn(process.execPath, [path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'tools', 'serve.mjs'),
    root, '--port', '0', '--base', base, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/(http:\/\/127\.0\.0\.1:\d+\S*)/);
      if (m) resolve(m[1]);
    });
    server.on('exit', (c) => reject(new Error('server exited ' + c)));
    setTimeout(() => reject(new Error('server did not start')), 10000);
  });
  return { url, stop: () => server.kill() };
}

// touch: a phone or tablet (touch events, `pointer: coarse`, the mobile viewport)
export async function launch(width = 1280, height = 800, scale = 1, { touch = false } = {}) {
  // a real profile (not an incognito context), so the Cache Storage has a normal quota
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lrpscope-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true,
    args: CHROMIUM_ARGS, viewport: { width, height }, deviceScaleFactor: scale, hasTouch: touch, isMobile: touch });
  const browser = context;
  const page = context.pages()[0] || await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push('pageerror: ' + e.message));
  return { browser, page, logs, close: async () => { await browser.close(); fs.rmSync(userDataDir, { recursive: true, force: true }); } };
}

export async function state(page) {
  return page.evaluate(() => (window.lrpscope && window.Module && window.Module.calledRun) ? window.lrpscope.state() : null);
}

// Waits until the app shows a finished explanation (not busy, graph built, drawn) and `pred(state)` holds.
export async function waitFor(page, pred = () => true, timeout = 60000, what = 'the app') {
  const t0 = Date.now();
  let s = null;
  while (Date.now() - t0 < timeout) {
    s = await state(page);
    // (and drawn: the widgets' rectangles are those of the last frame)
    if (s && !s.busy && s.graph_nodes > 0 && s.frames > 2 && s.drawn && pred(s)) return s;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(s)}`);
}

// A state from a frame drawn after the last action (get: how to read it, e.g. from an iframe).
export async function fresh(page, get = () => state(page)) {
  const f0 = (await get()).frames;
  for (let i = 0; i < 100; i++) {
    const s = await get();
    if (s.frames > f0 + 2) return s;
    await page.waitForTimeout(30);
  }
  return get();
}

// Fraction of canvas pixels in a rectangle that are strongly coloured (red or blue heatmap pixels).
export async function colouredFraction(page, rect) {
  const png = await page.screenshot({ clip: rect });
  return { png };
}

// The centre of a widget the app reported in its state (device pixels there, CSS pixels here).
export function centre(s, key) {
  const r = s.rects[key];
  if (!r) throw new Error(`no rectangle for ${key}; have ${Object.keys(s.rects).slice(0, 60).join(', ')}`);
  const k = 1 / (s.scale || 1);
  return [((r[0] + r[2]) / 2) * k, ((r[1] + r[3]) / 2) * k];
}

// A real click: move, press, release, with the pauses a hand makes.
export async function clickAt(page, x, y) {
  await page.mouse.move(x, y);
  await page.waitForTimeout(60);
  await page.mouse.down();
  await page.waitForTimeout(60);
  await page.mouse.up();
  await page.waitForTimeout(150);
}

// A test's failure: the error, the page's last messages and a screenshot (OUT_DIR/failure.png); the exit code is 1.
export async function reportFailure(e, { page, logs, outDir }) {
  console.error(e);
  if (logs) console.error(logs.slice(-20).join('\n'));
  if (page) await page.screenshot({ path: path.join(outDir, 'failure.png') }).catch(() => {});
  process.exitCode = 1;
}
