// The sanity check in the page (cascading model randomisation, Adebayo et al. 2018), clicked with a real mouse in
// headless Chromium: its scores equal what `lrpscope sanity --json` prints for the same picture, rules and seed,
// every heatmap is drawn the right way up, and the time from the click to the last heatmap is printed:
//   node tests/web/sanity.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, waitFor, centre, clickAt, fresh, reportFailure } from './browser.mjs';
import { decodePng } from './png.mjs';
import { readNpy, channelSum, sampleCells, assertUpright, orientationFixtures } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });
const { square } = orientationFixtures(outDir, cli);

const server = await serve(dist);
let page, logs, close;
const shot = async (name) => decodePng(await page.screenshot({ path: path.join(outDir, `${name}.png`) }));
const click = async (s, key) => clickAt(page, ...centre(s, key));
// scrolls the page's column (phones) until a widget is wholly on the screen
async function reach(key, w, h) {
  for (let i = 0; i < 40; i++) {
    const s = await fresh(page);
    const r = s.rects[key], c = s.rects.column;  // (on a phone, within the scrolled column: above the status bar)
    if (r && (c ? r[1] >= c[1] && r[3] <= c[3] : r[1] >= 0 && r[3] <= h)) return s;
    // a drag where no control is (the panels' left margin), as a finger scrolls: the panel under it first (the
    // Evaluation panel, taller than the screen), then the column
    const col = c || [0, 0, w, h];
    const up = r && r[1] < col[1];
    const y0 = up ? col[1] + (col[3] - col[1]) * 0.3 : col[1] + (col[3] - col[1]) * 0.7, y1 = up ? y0 + 200 : y0 - 200;
    await page.mouse.move(col[0] + 4, y0);
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) { await page.mouse.move(col[0] + 4, y0 + (y1 - y0) * k / 8); await page.waitForTimeout(30); }
    await page.mouse.up();
    await page.waitForTimeout(150);
  }
  throw new Error(`${key} never came into view at ${w}x${h}`);
}
try {
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    ({ page, logs, close } = await launch(w, h, 1));
    await page.goto(server.url + '?single');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    let s = await waitFor(page, (x) => x.selected_neuron, 60000, 'the first explanation');
    await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
    await page.setInputFiles('#file-image', square);
    s = await waitFor(page, (x) => x.image === path.basename(square), 60000, 'the test picture');
    const composite = s.composite || 'epsilon-gamma-box';
    // the Evaluation tab, its sanity panel, and the button, as a person reaches them
    s = await reach('tab:Evaluation', w, h);
    await click(s, 'tab:Evaluation');
    s = await waitFor(page, (x) => x.tab === 'Evaluation', 20000, 'the Evaluation tab');
    assert.equal(s.sanity, null, 'a sanity check before one was asked for');
    s = await reach('evaluation:sanity', w, h);
    await click(s, 'evaluation:sanity');
    s = await waitFor(page, (x) => x.evaluation_panel === 'sanity', 20000, 'the sanity panel');
    s = await reach('sanity:run', w, h);
    await click(s, 'sanity:run');
    const t0 = Date.now();
    s = await waitFor(page, (x) => x.sanity && x.sanity.done, 300000, 'the sanity check');
    const waited = Date.now() - t0;
    await page.mouse.move(w - 4, 4);  // (no tooltip over the pictures)
    s = await reach(`sanity-map/${s.sanity.steps.length - 1}`, w, h);
    let img = await shot(`sanity-${w}x${h}`);
    // the numbers the CLI prints for the same check
    const npy = path.join(outDir, `npy-${w}`);
    fs.rmSync(npy, { recursive: true, force: true });
    fs.mkdirSync(npy);
    const want = JSON.parse(run(['sanity', '--model', model, '--image', square, '--composite', s.sanity.method, '--seed',
                                 String(s.sanity.seed), '--json', '--npy-dir', npy]));
    assert.equal(s.sanity.target, want.target);
    assert.equal(s.sanity.steps.length, want.steps.length);
    for (let i = 0; i < want.steps.length; i++) {
      const a = s.sanity.steps[i], b = want.steps[i];
      assert.equal(a.layer, b.randomised, `step ${i}`);
      for (const k of ['spearman', 'spearman_abs', 'ssim'])
        assert.ok(Math.abs(a[k] - b[k]) < 2e-3, `step ${i} (${a.layer}): ${k} ${a[k]} in the page, ${b[k]} by the CLI`);
      assert.equal(a.predicted, b.predicted, `step ${i}: the randomised model's prediction`);
    }
    // every heatmap drawn is the CLI's, upright (the original, the classifier random, and every layer random)
    const files = fs.readdirSync(npy).sort();
    assert.equal(files.length, want.steps.length);
    const last = want.steps.length - 1, fc6 = want.steps.findIndex((x) => x.randomised === 'fc6');
    for (const i of [0, fc6, last]) {
      const c = s.rects.column, r = s.rects[`sanity-map/${i}`];
      if (r && c && r[1] < c[1]) {  // (scrolled out at the top on a phone)
        s = await reach(`sanity-map/${i}`, w, h);
        img = await shot(`sanity-${w}x${h}-${i}`);
      }
      const rect = s.rects[`sanity-map/${i}`];
      assert.ok(rect, `${w}x${h}: heatmap ${i} is not on the screen (${Object.keys(s.rects).filter((k) => k.startsWith('sanity')).join(', ')})`);
      const ref = channelSum(readNpy(path.join(npy, files[i])));
      console.log(assertUpright(sampleCells(img, rect, ref.w, ref.h).redness, ref.v, ref.w, ref.h, `${w}x${h} sanity heatmap ${i}`));
    }
    const fmt = (x) => x.toFixed(2);
    console.log(`${w}x${h}: ${composite}, ${want.steps.length} steps, |Spearman| after fc6 ${fmt(want.steps[fc6].spearman_abs)}, ` +
                `after every layer ${fmt(want.steps[last].spearman_abs)}; from the click to the last heatmap ${waited} ms`);
    // gradient x input: the same panel, another method (it must fall at the classifier already)
    if (w === 1280) {
      await page.evaluate(() => window.Module.ccall('lrpscope_do_set_composite', 'number', ['string'], ['gradient-x-input']));
      s = await waitFor(page, (x) => x.composite === 'gradient-x-input' && x.sanity === null, 60000, 'gradient x input');
      await click(s, 'sanity:run');
      s = await waitFor(page, (x) => x.sanity && x.sanity.done, 300000, 'the sanity check of gradient x input');
      const g = JSON.parse(run(['sanity', '--model', model, '--image', square, '--composite', 'gradient-x-input', '--json']));
      for (let i = 0; i < g.steps.length; i++)
        assert.ok(Math.abs(s.sanity.steps[i].spearman - g.steps[i].spearman) < 2e-3, `gradient x input, step ${i}`);
      await shot('sanity-gradient-x-input');
      // a seed that is not a number of 0 or more is refused by the page's hook
      assert.equal(await page.evaluate(() => window.Module.ccall('lrpscope_do_run_sanity', 'number', ['number'], [-1])), 0);
      console.log(`gradient x input: |Spearman| after fc8 ${fmt(g.steps[1].spearman_abs)}, the page's equal to the CLI's`);
    }
    await close();
    close = null;
  }
  console.log('sanity: all checks passed');
} catch (e) {
  await reportFailure(e, { page, logs, outDir });
} finally {
  if (close) await close().catch(() => {});
  server.stop();
}
process.exit(process.exitCode || 0);
