// Pictures a learner can read (issue 17), with real mouse and keyboard input in headless Chromium: every control
// explains itself in a tooltip, the keyboard alone reaches and presses the controls, a screen reader finds the
// prediction and the explanation's summary in the page's live region, the conservation chart's bars carry the
// numbers the explanation has, and the pixel-flipping chart shows the picture of the hovered step — replaced
// where the CLI's relevance is highest first.
//   node tests/web/legible.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, state, waitFor, centre, clickAt, fresh as freshState } from './browser.mjs';
import { decodePng } from './png.mjs';
import { readNpy, channelSum, sampleCells, spearman } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });

let page, close, s, shots = 0;
const shot = async (name) => decodePng(await page.screenshot({ path: path.join(outDir, `${String(++shots).padStart(2, '0')}-${name}.png`) }));
const fresh = () => freshState(page);
const settled = (pred = () => true, what = 'the app') => waitFor(page, pred, 90000, what);
const click = async (key) => { await clickAt(page, ...centre(s, key)); s = await fresh(); };
async function hover(key) {
  const [x, y] = centre(s, key);
  await page.mouse.move(x - 3, y);
  await page.waitForTimeout(40);
  await page.mouse.move(x, y);
  for (let i = 0; i < 40; i++) {  // until the frame drawn with the cursor there reports its tooltip
    s = await fresh();
    if (s.tooltip && s.tooltip.for === key) break;
  }
  return s.tooltip;
}
async function pressKey(k) { await page.keyboard.press(k); await page.waitForTimeout(60); s = await fresh(); }
// keyboard navigation's rectangle is the control's (not a panel holding it)
const same = (a, b) => a && b && a.every((v, i) => Math.abs(v - b[i]) <= 4);

const server = await serve(dist);
const from = Number(process.env.LEGIBLE_FROM || 1);  // for working on one part: skip the ones before it
try {
  ({ page, close } = await launch(1280, 800));
  await page.goto(server.url + '?single&image=fashion/sneaker-1');
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
  s = await settled((x) => x.selected_neuron && x.image === 'fashion/sneaker-1', 'the first explanation');
  await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
  s = await fresh();

  if (from <= 6) {
  // ---------------------------------------------------------------- 1. every control says what it does
  const texts = new Map();
  async function tips(keys, where) {
    for (const key of keys) {
      assert.ok(s.rects[key], `${where}: no control '${key}' on the screen (have ${Object.keys(s.rects).join(', ')})`);
      const t = await hover(key);
      assert.ok(t && t.for === key, `${where}: hovering '${key}' shows no tooltip of its own (got ${JSON.stringify(t)})`);
      assert.ok(t.text.length >= 20 && /[.)]$/.test(t.text.trim()), `${where}: the tooltip of '${key}' is not a sentence: "${t.text}"`);
      assert.ok(!texts.has(t.text) || texts.get(t.text) === key, `'${key}' has the tooltip of '${texts.get(t.text)}'`);
      texts.set(t.text, key);
    }
  }
  await tips(['samples', 'mode', 'cmap', 'grey', 'opacity', 'scale', 'invert', 'contrast', 'pred:0', 'timings', 'summary',
              'colourbar', 'help:input', 'tab:Graph', 'tab:Rules', 'tab:Optimiser', 'graph:k', 'graph:k-auto',
              'graph:layers', 'graph:reset', 'graph:thumbs', 'graph:min-edge', 'graph:find'], 'main view');
  // what the optimiser chose is said in words once it has chosen
  await click('graph:k-auto');
  s = await settled((x) => x.app.k_auto, 'the graph with k from the optimiser');
  const kauto = await hover('graph:k-auto');
  assert.match(kauto.text, /Here it kept: conv\d_\d \d+/, `the optimiser's choice is not named: ${kauto.text}`);
  await click('graph:k-auto');
  s = await settled((x) => !x.app.k_auto, "the graph with one k");
  await shot('tooltip-k-auto');
  for (const [tab, keys] of [['Rules', ['composite', 'rules:pool:wta', 'rules:pool:avg', 'rules:bias', 'rules:all', 'rules:save', 'rules:load']],
                             ['Layers', ['layers:layer', 'layers:activation', 'layers:relevance', 'layers:zoom', 'layers:shared-scale']],
                             ['Optimiser', ['optimiser:layer', 'optimiser:run', 'optimiser:all', 'optimiser:tolerance']],
                             ['Evaluation', ['evaluation:compare', 'evaluation:run']]]) {
    await click(`tab:${tab}`);
    s = await fresh();
    await tips(keys, `the ${tab} tab`);
  }
  console.log(`tooltips: ${texts.size} controls, each with its own sentence`);

  // ---------------------------------------------------------------- 2. the layer explorer's two scales
  await click('tab:Layers');
  if (!s.rects['layers:colourbar']) {
    await click('layers:relevance');
  }
  assert.ok(s.rects['layers:colourbar'], 'the shared scale of the relevance maps has no colour bar');
  await click('layers:shared-scale');
  assert.ok(!s.rects['layers:colourbar'], 'per-map scales still draw the shared colour bar');
  await shot('layers-per-map');
  await click('layers:shared-scale');
  assert.ok(s.rects['layers:colourbar'], 'back to one scale: the colour bar is missing');

  // ---------------------------------------------------------------- 3. the conservation chart's numbers
  await click('tab:Rules');
  s = await fresh();
  const cr = s.rects.conservation;
  assert.ok(cr, 'no conservation chart');
  await shot('conservation');
  // the first bar is the picture's relevance: hover the chart's left end until the tooltip names it
  let found = null;
  for (let x = cr[0] + 2; x < (cr[0] + cr[2]) / 2 && !found; x += 4) {
    await page.mouse.move(x, (cr[1] + cr[3]) / 2);
    s = await fresh();
    if (s.tooltip && s.tooltip.for === 'conservation:input') found = s.tooltip;
  }
  assert.ok(found, 'hovering the conservation chart never showed the input bar');
  const v = Number(found.text.split(': ').pop());
  assert.ok(Math.abs(v - s.input_relevance_sum) <= 1e-4 * Math.max(1, Math.abs(s.input_relevance_sum)),
            `the input bar says ${v}, the explanation's input relevance is ${s.input_relevance_sum}`);
  // and the last one the output layer's
  found = null;
  for (let x = cr[2] - 2; x > (cr[0] + cr[2]) / 2 && !found; x -= 4) {
    await page.mouse.move(x, (cr[1] + cr[3]) / 2);
    s = await fresh();
    if (s.tooltip && s.tooltip.for.startsWith('conservation:')) found = s.tooltip;
  }
  assert.ok(found && /fc8|classifier/.test(found.for + found.text), `the last bar is not the output layer: ${JSON.stringify(found)}`);
  console.log(`conservation: input bar ${v.toFixed(4)} = the explanation's ${s.input_relevance_sum.toFixed(4)}`);

  // ---------------------------------------------------------------- 4. pixel flipping: the picture of a step
  await click('tab:Evaluation');
  await click('evaluation:run');
  s = await settled((x) => x.flip && x.flip.patches > 0, 'pixel flipping');
  s = await fresh();
  const npy = path.join(outDir, 'npy');
  run(['explain', '--model', model, '--image', path.join(root, 'assets/samples/fashion/sneaker-1.png'), '--npy-dir', npy]);
  const rel = channelSum(readNpy(path.join(npy, 'relevance_input.npy')));
  const P = s.flip.patch, cols = Math.ceil(rel.w / P), rows = Math.ceil(rel.h / P);
  assert.equal(cols * rows, s.flip.patches);
  const score = new Float64Array(cols * rows);
  for (let y = 0; y < rel.h; y++) for (let x = 0; x < rel.w; x++) score[Math.floor(y / P) * cols + Math.floor(x / P)] += rel.v[y * rel.w + x];
  const fc = s.rects['flip-chart'];
  async function stepAt(want) {  // bisect along the chart until the hovered step is `want` (steps grow to the right)
    let lo = fc[0] + 2, hi = fc[2] - 2;
    for (let i = 0; i < 14 && lo <= hi; i++) {
      const x = Math.round((lo + hi) / 2);
      await page.mouse.move(x, (fc[1] + fc[3]) / 2);
      s = await fresh();
      if (s.flip.step === want) {  // the step stays when the cursor leaves (its tooltip would cover the picture)
        await page.mouse.move(5, 795);
        return (s = await fresh());
      }
      if (s.flip.step < want) lo = x + 1; else hi = x - 1;
    }
    throw new Error(`the chart never showed step ${want} (last ${s.flip.step})`);
  }
  const cellLuma = (img) => sampleCells(img, s.rects['flip-picture'], rel.w, rel.h).luma;
  const order = [...score.keys()].sort((a, b) => score[b] - score[a]);  // stable, as the engine's
  const inPatch = (i, set) => set.has(Math.floor(Math.floor(i / rel.w) / P) * cols + Math.floor((i % rel.w) / P));
  await stepAt(0);
  const l0 = cellLuma(await shot('flip-step0'));
  // step 0 is the picture as the network sees it (the CLI's input, up to the display's grey levels)
  const inp = channelSum(readNpy(path.join(npy, 'input.npy')));
  const sp = spearman(l0, inp.v);
  assert.ok(sp > 0.9, `the step-0 picture is not the network's input (rank correlation ${sp.toFixed(3)})`);
  await stepAt(1);
  const l1 = cellLuma(await shot('flip-step1'));
  const first = new Set(order.slice(0, s.flip.replaced));
  let wrong = 0, moved = 0;
  for (let i = 0; i < l1.length; i++) {
    if (inPatch(i, first)) { if (l1[i] > 8) wrong++; }
    else if (Math.abs(l1[i] - l0[i]) > 8) moved++;
  }
  assert.equal(wrong, 0, `after step 1, ${wrong} pixels of the ${s.flip.replaced} most relevant patches (by the CLI) are not replaced`);
  assert.equal(moved, 0, `after step 1, ${moved} pixels outside the most relevant patches changed`);
  await stepAt(16);
  const lz = cellLuma(await shot('flip-last'));
  assert.ok(Math.max(...lz) < 8, 'at the last step the whole picture should be replaced');
  console.log(`flipping: step 0 = the input (rank correlation ${sp.toFixed(3)}); step 1 replaced exactly the ${first.size} most relevant patches by the CLI's relevance`);

  // ---------------------------------------------------------------- 5. the wheel, and the keyboard alone
  await click('tab:Graph');
  {  // one notch of the wheel over the graph is one zoom step (x1.15), upwards in
    const n = Object.keys(s.rects).find((x) => x.startsWith('node:features.28'));
    const [nx, ny] = centre(s, n);
    await page.mouse.move(nx + 12, ny + 12);
    s = await fresh();
    const z0 = s.graph_zoom;
    await page.mouse.wheel(0, -100);
    await page.waitForTimeout(100);
    s = await fresh();
    assert.ok(Math.abs(s.graph_zoom / z0 - 1.15) < 0.01, `one wheel notch up zoomed the graph ${z0} -> ${s.graph_zoom}`);
    await page.mouse.wheel(0, 100);
    await page.waitForTimeout(100);
    s = await fresh();
    assert.ok(Math.abs(s.graph_zoom - z0) < 0.01, `one wheel notch down did not zoom back (${s.graph_zoom})`);
    console.log(`wheel: one notch = x${1.15} in the graph, both ways`);
  }
  await page.mouse.move(5, 790);
  s = await fresh();
  const target0 = s.target;
  await pressKey('Tab');
  assert.equal(s.keyboard_nav, true, 'Tab did not start keyboard navigation');
  assert.ok(s.nav_rect, 'keyboard navigation shows no focused control');
  // walk with the arrow keys to the second prediction and press it with Space
  let reached = false;
  const visited = [];
  for (let i = 0; i < 60 && !reached; i++) {
    visited.push(Object.keys(s.rects).find((k) => same(s.rects[k], s.nav_rect)) || JSON.stringify(s.nav_rect));
    if (same(s.nav_rect, s.rects['pred:1'])) { reached = true; break; }
    const nr = s.nav_rect, pr = s.rects['pred:1'];
    await pressKey(nr[1] < pr[1] - 2 ? 'ArrowDown' : nr[1] > pr[3] ? 'ArrowUp' : nr[0] < pr[0] ? 'ArrowRight' : 'ArrowLeft');
  }
  assert.ok(reached, `the arrow keys never reached the second prediction (went ${visited.join(' -> ')})`);
  const kt = s.tooltip;
  assert.ok(kt && kt.for === 'pred:1', `the focused control shows no tooltip (${JSON.stringify(kt)})`);
  await shot('keyboard-focus');
  await pressKey('Space');
  s = await settled((x) => x.target !== target0, 'the class chosen with the keyboard');
  const second = [...s.logits.keys()].sort((a, b) => s.logits[b] - s.logits[a])[1];
  assert.equal(s.target, second, 'Space on the second prediction did not explain that class');
  await pressKey('Escape');
  assert.equal(s.keyboard_nav, false, 'Esc did not end keyboard navigation');
  const img0 = s.image;
  await pressKey('ArrowRight');  // outside keyboard navigation the arrows step through the samples again
  s = await settled((x) => x.image !== img0, 'the next sample');
  console.log(`keyboard: Tab, ${visited.join(" -> ")}, Space -> explaining class ${second}; Esc; arrow -> ${s.image}`);

  // ---------------------------------------------------------------- 6. the live region
  let live = '';
  for (let i = 0; i < 50; i++) {
    live = await page.$eval('#live', (e) => e.textContent);
    s = await state(page);
    if (live === s.description && live.includes(s.image)) break;
    await page.waitForTimeout(100);
  }
  const attrs = await page.$eval('#live', (e) => [e.getAttribute('aria-live'), e.getAttribute('role')]);
  assert.deepEqual(attrs, ['polite', 'status']);
  assert.equal(live, s.description, 'the live region does not hold the current description');
  assert.ok(live.includes(`The network says ${s.predicted_label}`), `the live region does not say the prediction: ${live}`);
  assert.ok(live.includes(s.summary.split('. ')[0]), `the live region does not read the summary: ${live}`);
  console.log(`live region: "${live.slice(0, 160)}..."`);
  }
  await close();
  close = null;

  // ---------------------------------------------------------------- 7. phones and tablets, with real touch events
  // (the phone at two device pixels per point, as phones are; the others at one: software rendering of four times
  // the pixels took most of this test's time, and the layout in points is the same)
  for (const [w, h, layout, dpr] of [[390, 844, 'phone', 2], [844, 390, 'tablet', 1], [768, 1024, 'tablet', 1], [1024, 600, 'columns', 1]]) {
    const tag = `${w}x${h}`;
    ({ page, close } = await launch(w, h, dpr, { touch: true }));
    await page.goto(server.url + '?single&image=fashion/sneaker-1');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => x.selected_neuron, `the first explanation at ${tag}`);
    await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
    const cdp = await page.context().newCDPSession(page);
    const touch = (type, pts) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: pts.map(([x, y], id) => ({ x, y, id })) });
    const k = () => 1 / s.scale;
    const mid = (key) => centre(s, key);
    async function tap(key) {
      await page.touchscreen.tap(...mid(key));
      await page.waitForTimeout(250);
      s = await fresh();
    }
    // a finger dragged from (x, y) by dy scrolls the column (phones)
    async function drag(x, y, dy) {
      await touch('touchStart', [[x, y]]);
      for (let i = 1; i <= 8; i++) { await touch('touchMove', [[x, y + dy * i / 8]]); await page.waitForTimeout(30); }
      await touch('touchEnd', []);
      await page.waitForTimeout(200);
      s = await fresh();
    }
    // until the control is fully on the screen (above the status bar), scrolling the column with a finger
    async function reach(key) {
      for (let i = 0; i < 12; i++) {
        const r = s.rects[key], col = s.rects.column;
        if (r && (!col || (r[1] >= col[1] && r[3] <= col[3]))) return;
        const free = [5, h * 0.5];  // the panels' margin: no control there
        await drag(free[0], free[1], r && col && r[1] < col[1] ? h * 0.3 : -h * 0.3);
      }
      throw new Error(`${tag}: could not scroll '${key}' into view`);
    }
    s = await fresh();
    assert.equal(s.touch, true, `${tag}: the page did not switch to touch sizes`);
    assert.equal(s.layout, layout, `${tag}: layout ${s.layout}, expected ${layout}`);
    await shot(`touch-${tag}`);
    // touch targets of at least 40 points, and no two controls on top of each other (those on the screen now;
    // the panel's after scrolling to it)
    const checked = new Set();
    function targets(keys) {
      const on = keys.filter((x) => s.rects[x]);
      for (const key of on) {
        const r = s.rects[key];
        assert.ok((r[3] - r[1]) * k() >= 39.5, `${tag}: '${key}' is ${((r[3] - r[1]) * k()).toFixed(1)} points high (a finger needs 40)`);
        for (const other of on) {
          const q = s.rects[other];
          if (other <= key) continue;
          const ix = Math.min(r[2], q[2]) - Math.max(r[0], q[0]), iy = Math.min(r[3], q[3]) - Math.max(r[1], q[1]);
          assert.ok(ix <= 1 || iy <= 1, `${tag}: '${key}' and '${other}' overlap`);
        }
        checked.add(key);
      }
    }
    const viewKeys = ['samples', 'mode', 'cmap', 'grey', 'opacity', 'scale', 'contrast', 'pred:0', 'pred:1', 'pred:4'];
    const panelKeys = [...['Graph', 'Neuron', 'Layers', 'Rules', 'Optimiser', 'Evaluation'].map((t) => `tab:${t}`), 'graph:k', 'graph:reset'];
    targets(viewKeys);
    // a tap on a class explains it (first time, every time)
    await reach('pred:2');
    const third = [...s.logits.keys()].sort((a, b) => s.logits[b] - s.logits[a])[2];
    await tap('pred:2');
    s = await settled((x) => x.target === third, `${tag}: the class tapped`);
    // a tap on every panel switches to it: six out of six
    let switched = 0;
    for (const t of ['Neuron', 'Layers', 'Rules', 'Optimiser', 'Evaluation', 'Graph']) {
      await reach(`tab:${t}`);
      await tap(`tab:${t}`);
      if (s.tab === t) switched++;
    }
    assert.equal(switched, 6, `${tag}: only ${switched} of 6 taps on a panel switched to it`);
    targets(panelKeys);
    targets(['pred:4', ...panelKeys]);
    for (const key of [...viewKeys, ...panelKeys]) if (!checked.has(key)) { await reach(key); targets([key]); }
    await shot(`touch-${tag}-graph`);
    // a long press shows what a control does, without pressing it
    await reach('mode');
    const mode0 = s.app.mode;
    const [mx, my] = mid('mode');
    await touch('touchStart', [[mx, my]]);
    await page.waitForTimeout(800);
    s = await fresh();
    await touch('touchEnd', []);
    await page.waitForTimeout(300);
    s = await fresh();
    assert.ok(s.tooltip && s.tooltip.for === 'mode', `${tag}: a long press on the view mode shows no tooltip (${JSON.stringify(s.tooltip)})`);
    assert.equal(s.app.mode, mode0, `${tag}: the long press changed the view mode`);
    assert.ok(!s.rects['mode:side'], `${tag}: the long press opened the drop-down`);
    // two fingers pinch the graph: apart zooms in, together zooms out
    await reach('graph:reset');
    for (let i = 0; i < 10 && s.rects.column && (!s.rects['graph:canvas'] ||
                                                 s.rects['graph:canvas'][1] > s.rects.column[1] + (s.rects.column[3] - s.rects.column[1]) * 0.3); i++)
      await drag(5, h * 0.6, -h * 0.2);  // the graph up to the top of the screen
    // the middle of the part of the graph on the screen
    const gc = s.rects['graph:canvas'], col = s.rects.column || [0, 0, w * s.scale, h * s.scale];
    const gx = (gc[0] + gc[2]) / 2 * k(), gy = (Math.max(gc[1], col[1]) + Math.min(gc[3], col[3])) / 2 * k();
    assert.ok(Math.min(gc[3], col[3]) - Math.max(gc[1], col[1]) > 100 * s.scale, `${tag}: too little of the graph on the screen`);
    const z0 = s.graph_zoom;
    await touch('touchStart', [[gx - 20, gy], [gx + 20, gy]]);
    for (let i = 1; i <= 10; i++) { await touch('touchMove', [[gx - 20 - 6 * i, gy], [gx + 20 + 6 * i, gy]]); await page.waitForTimeout(30); }
    await touch('touchEnd', []);
    s = await fresh();
    const zIn = s.graph_zoom;
    assert.ok(zIn > z0 * 1.3 && zIn < z0 * 6, `${tag}: pinching apart zoomed ${z0} -> ${zIn}`);
    await touch('touchStart', [[gx - 80, gy], [gx + 80, gy]]);
    for (let i = 1; i <= 10; i++) { await touch('touchMove', [[gx - 80 + 6 * i, gy], [gx + 80 - 6 * i, gy]]); await page.waitForTimeout(30); }
    await touch('touchEnd', []);
    s = await fresh();
    assert.ok(s.graph_zoom < zIn / 1.3, `${tag}: pinching together zoomed ${zIn} -> ${s.graph_zoom}`);
    await shot(`touch-${tag}-pinched`);
    console.log(`${tag}: ${s.layout} layout, targets >= 40 points, tap on a class, 6/6 panel taps, long press = tooltip, pinch ${z0.toFixed(2)} -> ${zIn.toFixed(2)} -> ${s.graph_zoom.toFixed(2)}`);
    await close();
    close = null;
  }
  console.log('legible: all checks passed');
} finally {
  if (close) await close();
  server.stop();
}
