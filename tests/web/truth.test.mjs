// What the page shows is true (issue: orientation, the embed crash, clipboard, complete permalinks, idle
// rendering and the papercuts of a first visit), with real mouse clicks and key presses in headless Chromium:
//   node tests/web/truth.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, state, waitFor, centre, clickAt as clickPage, fresh as freshState, reportFailure } from './browser.mjs';
import { decodePng } from './png.mjs';
import { readNpy, channelSum, sampleCells, assertUpright, cellCentre, orientationFixtures } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });
const cliJson = (args) => JSON.parse(run(args));

// the asymmetric pictures, and a random model with a non-square input (96 rows x 64 columns)
const { square, tall, tallModel } = orientationFixtures(outDir, cli);

let page, logs, close, s, step = 0;
async function shot(name) {
  const file = path.join(outDir, `${String(++step).padStart(2, '0')}-${name}.png`);
  return decodePng(await page.screenshot({ path: file }));
}
const clickAt = (x, y, p = page) => clickPage(p, x, y);
const click = (s, key) => clickAt(...centre(s, key));
const fresh = (get) => freshState(page, get);
async function settled(pred = () => true, what = 'the app') { return waitFor(page, pred, 60000, what); }
async function open(url, w = 1280, h = 800, dpr = 1) {
  ({ page, logs, close } = await launch(w, h, dpr));
  await page.goto(url);
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
  return settled((s) => s.selected_neuron, 'the first explanation');
}

const server = await serve(dist);
const from = Number(process.env.TRUTH_FROM || 1);  // for working on one part: skip the ones before it
try {
  // ---------------------------------------------------------------- 1. every view the right way up
  if (from <= 1) {
  s = await open(server.url + '?single');
  await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
  async function checkViews(picture, modelFile, tag) {
    await page.setInputFiles('#file-image', picture);
    const name = path.basename(picture);
    s = await settled((x) => x.image === name && x.selected_neuron, `the picture ${name}`);
    const npy = path.join(outDir, `npy-${tag}`);
    run(['explain', '--model', modelFile, '--image', picture, '--npy-dir', npy]);
    const rel = channelSum(readNpy(path.join(npy, 'relevance_input.npy')));
    const inp = channelSum(readNpy(path.join(npy, 'input.npy')));
    const { w, h } = rel;
    const expect = { overlay: rel.v, heatmap: rel.v, positive: rel.v.map((v) => Math.max(0, v)),
                     negative: rel.v.map((v) => Math.min(0, v)), side: rel.v };
    for (const mode of ['heatmap', 'overlay', 'side', 'positive', 'negative']) {
      if (mode === 'negative') {
        // the evidence against the least likely class is strong: explain that class for the negative view
        const low = s.logits.indexOf(Math.min(...s.logits));
        await page.evaluate((c) => window.Module.ccall('lrpscope_do_select_class', 'number', ['number'], [c]), low);
        s = await settled((x) => x.target === low, 'the least likely class');
        const nn = path.join(outDir, `npy-${tag}-low`);
        run(['explain', '--model', modelFile, '--image', picture, '--target', String(low), '--npy-dir', nn]);
        expect.negative = channelSum(readNpy(path.join(nn, 'relevance_input.npy'))).v.map((v) => Math.min(0, v));
      }
      await click(s, 'mode');
      s = await fresh();
      await click(s, `mode:${mode}`);
      s = await fresh();
      assert.equal(s.app.mode, mode);
      const img = await shot(`${tag}-${mode}`);
      const r = s.rects.heatmap;
      const drawn = sampleCells(img, r, w, h).redness;
      console.log(assertUpright(drawn, expect[mode], w, h, `${tag} ${mode}`));
      if (mode === 'side') {
        const left = sampleCells(img, s.rects['heatmap:image'], w, h).luma;
        console.log(assertUpright(left, inp.v, w, h, `${tag} side-by-side picture`));
      }
    }
    await page.evaluate(() => window.Module.ccall('lrpscope_do_select_class', 'number', ['number'], [-1]));
    s = await settled((x) => x.target === x.predicted, 'the top class again');
    await click(s, 'mode');
    s = await fresh();
    await click(s, 'mode:overlay');
    s = await fresh();
    // the tooltip names the pixel under the cursor and its value, as the CLI's array has them
    let best = 0;
    for (let i = 1; i < rel.v.length; i++) if (Math.abs(rel.v[i]) > Math.abs(rel.v[best])) best = i;
    const probes = [[best % w, Math.floor(best / w)], [w - 2, 1], [1, h - 3]];
    for (const [px, py] of probes) {
      const [cx, cy] = cellCentre(s.rects.heatmap, w, h, px, py, s.scale);
      await page.mouse.move(cx, cy);
      s = await fresh();
      assert.ok(s.hover, 'no tooltip');
      assert.deepEqual([s.hover.x, s.hover.y], [px, py], 'the tooltip names another pixel');
      const want = rel.v[py * w + px];
      assert.ok(Math.abs(s.hover.relevance - want) <= 1e-4 * Math.max(1e-6, Math.abs(want)) + 1e-7,
                `tooltip value ${s.hover.relevance} vs the CLI's ${want} at (${px}, ${py})`);
    }
    console.log(`${tag}: the tooltip reports the pixel under the cursor and the CLI's value at it`);
    // the path heatmap (graph tab) against the CLI's picture of it
    await page.mouse.move(5, 5);
    s = await fresh();
    const pathPng = path.join(outDir, `path-${tag}.png`);
    run(['graph', '--model', modelFile, '--image', picture, '--out-path-heatmap', pathPng]);
    const cliPath = decodePng(fs.readFileSync(pathPng));
    const cliRed = sampleCells(cliPath, [0, 0, cliPath.width, cliPath.height], w, h).redness;
    const img = await shot(`${tag}-graph`);
    // (the CLI draws it without the picture underneath: a looser match, still far from any flip)
    console.log(assertUpright(sampleCells(img, s.rects['graph:path-heatmap'], w, h).redness, cliRed, w, h,
                              `${tag} path heatmap`, 0.55));
    // the neuron tab's conditional heatmap against `lrpscope conditional`
    await click(s, 'tab:Neuron');
    // (once its references are in: they change the tab's layout, and the heatmap's place with it)
    s = await settled((x) => x.tab === 'Neuron' && x.rects['neuron:conditional'] &&
                             (!x.atlas || x.atlas.mismatch || (x.references && x.references.done === x.references.total)), 'the neuron tab');
    s = await fresh();
    const cnpy = path.join(outDir, `cond-${tag}`);
    run(['conditional', '--model', modelFile, '--image', picture, '--layer', s.selected_neuron.layer,
         '--channels', String(s.selected_neuron.index), '--npy-dir', cnpy]);
    const cond = channelSum(readNpy(path.join(cnpy, 'relevance_input.npy')));
    const nimg = await shot(`${tag}-neuron`);
    assert.deepEqual((await fresh()).rects['neuron:conditional'], s.rects['neuron:conditional'], 'the Neuron tab moved while it was looked at');
    console.log(assertUpright(sampleCells(nimg, s.rects['neuron:conditional'], w, h).redness, cond.v, w, h,
                              `${tag} conditional heatmap of ${s.selected_neuron.layer}:${s.selected_neuron.index}`));
    await click(s, 'tab:Graph');
    s = await fresh();
  }
  await checkViews(square, model, 'square');
  // a model with a non-square input: the picture keeps its shape, every view stays upright
  await page.setInputFiles('#file-model', tallModel);
  s = await settled((x) => x.model === 'tall-96x64.safetensors' || x.model.startsWith('random'), 'the non-square model');
  await checkViews(tall, tallModel, 'tall');
  const hr = s.rects.heatmap;
  assert.ok(Math.abs((hr[3] - hr[1]) / (hr[2] - hr[0]) - 96 / 64) < 0.05, `the non-square picture is drawn ${hr}`);
  await close();

  }
  // ---------------------------------------------------------------- 2. the embed view's class drop-down
  if (from <= 2) {
  const hostDir = path.join(outDir, 'host');
  fs.mkdirSync(hostDir, { recursive: true });
  for (const module of ['single', 'threaded']) {
    s = await open(server.url + `?embed=1&image=fashion/coat-1${module === 'single' ? '&single' : ''}`, 900, 540);
    assert.equal(await page.evaluate(() => window.lrpscope.module), module === 'single' ? 'single-threaded' : 'threaded');
    const before = s.target;
    await click(s, 'embed:class');
    s = await fresh();
    assert.ok(s.rects['embed:class:2'], 'the class drop-down did not open');
    await click(s, 'embed:class:2');
    s = await settled((x) => x.target !== before, 'the class chosen in the embed drop-down');
    const f0 = s.frames;
    await page.mouse.move(100, 100);
    await page.mouse.move(120, 140);
    s = await fresh();
    assert.ok(s.frames > f0, 'the app stopped drawing after a class change in the embed view');
    assert.equal(s.error, '');
    assert.ok(!logs.some((l) => l.startsWith('pageerror')), logs.join('\n'));
    await shot(`embed-${module}-class`);
    console.log(`embed view (${module}, top level): chose ${s.target_label} in the drop-down; the app keeps running`);
    await close();
  }
  // ... and in a cross-origin iframe of a course page (another origin: another port), both modules
  for (const module of ['single', 'threaded']) {
    const isolated = module === 'threaded';
    const app = await serve(dist, '/', isolated ? ['--corp', 'cross-origin'] : ['--no-isolation']);
    fs.writeFileSync(path.join(hostDir, 'index.html'), `<!doctype html><title>course</title><h1>A course page</h1>
      <iframe id="f" src="${app.url}?embed=1&image=fashion/sneaker-1" width="900" height="540" style="border:0"
        allow="cross-origin-isolated"></iframe>`);
    const host = await serve(hostDir, '/', isolated ? [] : ['--no-isolation']);
    ({ page, logs, close } = await launch(1000, 700, 1));
    await page.goto(host.url);
    let frame = null;
    for (let i = 0; i < 300 && !frame; i++) {
      frame = page.frames().find((f) => f.url().includes('embed=1'));
      if (!frame) await page.waitForTimeout(100);
    }
    const fstate = () => frame.evaluate(() => (window.lrpscope && window.Module && window.Module.calledRun) ? window.lrpscope.state() : null);
    let fs0 = null;
    for (let i = 0; i < 900; i++) {
      fs0 = await fstate().catch(() => null);
      // (the drop-down's rectangle is in the state once a frame has laid it out)
      if (fs0 && !fs0.busy && fs0.graph_nodes > 0 && fs0.frames > 2 && fs0.drawn && fs0.rects['embed:class']) break;
      await page.waitForTimeout(100);
    }
    assert.equal(await frame.evaluate(() => window.lrpscope.module), isolated ? 'threaded' : 'single-threaded');
    const box = await (await page.$('#f')).boundingBox();
    const at = (st, key) => { const r = st.rects[key]; assert.ok(r, `no ${key} in the iframe`);
                              return [box.x + (r[0] + r[2]) / 2 / st.scale, box.y + (r[1] + r[3]) / 2 / st.scale]; };
    await clickAt(...at(fs0, 'embed:class'));
    let st = await fresh(fstate);
    await clickAt(...at(st, 'embed:class:1'));
    for (let i = 0; i < 300; i++) {
      st = await fstate();
      if (st.target !== fs0.target && !st.busy) break;
      await page.waitForTimeout(100);
    }
    assert.notEqual(st.target, fs0.target, 'the class did not change in the iframe');
    await page.mouse.move(box.x + 50, box.y + 60);
    await page.mouse.move(box.x + 70, box.y + 90);
    const st2 = await fresh(fstate);
    assert.ok(st2.frames > st.frames, 'the iframe stopped drawing');
    assert.ok(!logs.some((l) => l.startsWith('pageerror')), logs.join('\n'));
    // Share inside the iframe: the Copy button works although the host did not allow clipboard-write
    await clickAt(...at(st2, 'share'));
    const st3 = await fresh(fstate);
    await clickAt(...at(st3, 'share:copy-link'));
    await page.waitForTimeout(400);
    const copy = await frame.evaluate(() => window.lrpscope.lastCopy);
    assert.ok(copy && copy.text === st3.share_dialog.link && copy.how !== 'failed' && copy.how !== 'pending', JSON.stringify(copy));
    assert.ok(st3.share_dialog.snippet.includes('allow="clipboard-write"'), st3.share_dialog.snippet);
    await page.screenshot({ path: path.join(outDir, `${String(++step).padStart(2, '0')}-iframe-${module}.png`) });
    console.log(`cross-origin iframe (${module}): class changed to ${st.target_label}; Share copied the link (${copy.how})`);
    await close();
    host.stop();
    app.stop();
  }

  }
  // ---------------------------------------------------------------- 3. the clipboard, top level
  if (from <= 3) {
  s = await open(server.url + '?single');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  await click(s, 'hint:ok');
  s = await fresh();
  await click(s, 'share');
  s = await fresh();
  await click(s, 'share:copy-link');
  await page.waitForTimeout(300);
  let clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, s.share_dialog.link, 'Copy link did not put the link on the clipboard');
  // Ctrl+C in the link field (it selects all when clicked)
  await page.evaluate(() => navigator.clipboard.writeText('something else'));
  await click(s, 'share:link');
  await page.keyboard.press('Control+C');
  await page.waitForTimeout(300);
  clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, s.share_dialog.link, 'Ctrl+C in the Share dialog did not copy');
  await shot('share-dialog');
  await page.keyboard.press('Escape');
  s = await fresh();
  // Ctrl+V into "Load weights from a URL"
  await click(s, 'menu:model');
  s = await fresh();
  await click(s, 'menu:model:url');
  s = await fresh();
  await click(s, 'url:field');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  const pasted = 'https://example.org/weights/vgg16-f16.safetensors';
  await page.evaluate((t) => navigator.clipboard.writeText(t), pasted);
  await page.keyboard.press('Control+V');
  await page.waitForTimeout(200);
  s = await fresh();
  if (s.url_field !== pasted) {
    // headless Chromium does not turn a synthetic Ctrl+V into a paste: send the event a real one fires
    await page.evaluate((t) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', t);
      document.getElementById('canvas').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, pasted);
    s = await fresh();
  }
  assert.equal(s.url_field, pasted, 'pasting into the URL field did not work');
  await shot('url-pasted');
  await click(s, 'url:cancel');
  s = await fresh();
  console.log('clipboard: Copy button, Ctrl+C and paste work in the page');

  }
  // ---------------------------------------------------------------- 4. the permalink reproduces the state
  if (from <= 4) {
  if (from === 4) s = await open(server.url + '?single');
  const q = '?image=fashion/coat-1&invert=off&composite=epsilon-plus-flat&target=2,4&layers=conv3_3,conv5_3,fc7&k=7' +
            '&tolerance=12.5&neuron=features.28:9&mode=side&cmap=cividis&alpha=0.55&scale=97&gray=0&panel=layers';
  assert.equal(await page.evaluate((x) => window.Module.ccall('lrpscope_do_apply_query', 'string', ['string'], [x]), q), '');
  s = await settled((x) => x.image === 'fashion/coat-1' && x.selected_neuron && x.selected_neuron.index === 9, 'the applied state');
  // a rules edit with the mouse: proportional max-pooling, biases off
  await click(s, 'tab:Rules');
  s = await fresh();
  await click(s, 'rules:pool:avg');
  s = await settled((x) => x.composite === 'custom', 'the edited rules');
  await click(s, 'rules:bias');
  s = await settled((x) => x.app.rules.includes('bias:0'), 'biases off');
  // the edited table saved as a rules file: the CLI explains the same with it, and the app loads it again
  const dl = page.waitForEvent('download');
  await click(s, 'rules:save');
  const rulesFile = path.join(outDir, 'saved-rules.json');
  await (await dl).saveAs(rulesFile);
  const viaCli = cliJson(['explain', '--model', model, '--image', path.join(root, 'assets/samples/fashion/coat-1.png'),
                          '--invert', 'off', '--contrast', '2,4', '--rules', rulesFile, '--json']);
  assert.ok(Math.abs(viaCli.input_sum - s.input_relevance_sum) <= 1e-4 * Math.abs(viaCli.input_sum) + 1e-6,
            `the saved rules explain differently in the CLI: ${viaCli.input_sum} vs ${s.input_relevance_sum}`);
  const before = s.app.rules;
  await click(s, 'rules:pool:wta');
  s = await settled((x) => x.app.rules !== before, 'another edit');
  await page.setInputFiles('#file-rules', rulesFile);
  s = await settled((x) => x.app.rules === before, 'the loaded rules file');
  console.log(`rules file: saved, explained identically by the CLI (${viaCli.input_sum.toFixed(5)}), loaded again`);
  await click(s, 'tab:Layers');
  s = await settled((x) => x.tab === 'Layers');
  const sender = s;
  assert.ok(sender.share.includes('rules=epsilon-plus-flat~pool:avg~bias:0&'), sender.share);
  const link = server.url + sender.share;
  await close();
  s = await open(link);
  s = await settled((x) => x.image === 'fashion/coat-1' && x.selected_neuron && x.selected_neuron.index === 9, 'the permalink');
  assert.deepEqual(s.app, sender.app, 'the permalink did not reproduce the state');
  for (const k of ['target', 'contrast', 'composite', 'maxpool', 'graph_layers', 'graph_k', 'tab', 'cmap', 'alpha'])
    assert.deepEqual(s[k], sender[k], k);
  assert.ok(Math.abs(s.input_relevance_sum - sender.input_relevance_sum) <= 1e-5 * Math.abs(sender.input_relevance_sum), 'relevance');
  assert.equal(s.error, '');
  await shot('permalink-received');
  console.log(`permalink round trip: ${sender.share}`);
  // what cannot travel is said in words
  await page.setInputFiles('#file-image', square);
  s = await settled((x) => x.image === 'orient-28.png');
  await click(s, 'share');
  s = await fresh();
  assert.ok(s.share_dialog.limits.some((l) => l.includes('orient-28.png') && l.includes('cannot carry')), JSON.stringify(s.share_dialog));
  assert.ok(!s.share.includes('image='), s.share);
  await shot('share-upload');
  await page.keyboard.press('Escape');
  // a link with bad values: every problem is named, the valid parts are applied
  await close();
  s = await open(server.url + '?target=99999&k=1e3&cmap=rainbow&composite=montavon&panel=rules&neuron=features.28:9999');
  s = await settled((x) => x.composite === 'montavon' && x.tab === 'Rules', 'the valid parts of a bad link');
  for (const part of ['target=99999', "k='1e3'", "cmap='rainbow'", 'features.28 has 128 neurons', '4 problems'])
    assert.ok(s.error.includes(part), `the error line does not mention ${part}: ${s.error}`);
  const W = await page.evaluate(() => document.getElementById('canvas').width);
  assert.ok(s.rects['error:dismiss'][2] <= W, 'the dismiss button is off screen');
  await shot('bad-link');
  await click(s, 'error:dismiss');
  s = await fresh();
  assert.equal(s.error, '');
  console.log('a bad link names every problem, keeps the valid parts, and its message can be dismissed');
  await close();

  }
  // ---------------------------------------------------------------- 5. idle: no frames drawn while nothing happens
  if (from <= 5) {
  s = await open(server.url + '?single');
  await page.waitForTimeout(1500);
  const i0 = (await state(page)).frames;
  await page.waitForTimeout(3000);
  const i1 = (await state(page)).frames;
  console.log(`idle: ${((i1 - i0) / 3).toFixed(1)} frames/s drawn`);
  assert.ok((i1 - i0) / 3 < 1, `the page keeps drawing while idle (${(i1 - i0) / 3} frames/s)`);
  await page.mouse.move(300, 300);
  await page.mouse.move(320, 330);
  assert.ok((await fresh()).frames > i1, 'input does not wake the renderer');

  }
  // ---------------------------------------------------------------- 6. papercuts
  if (from <= 6) {
  // unticking "contrast" goes back to one class
  await click(s, 'hint:ok');
  s = await fresh();
  await click(s, 'contrast');
  s = await fresh();
  await click(s, 'pred:0');
  s = await fresh();
  await click(s, 'pred:1');
  s = await settled((x) => x.contrast, 'a contrast');
  const a = s.contrast[0];
  await click(s, 'contrast');
  s = await settled((x) => !x.contrast && x.target === a, 'unticked contrast');
  // the hint stays dismissed after a reload
  await page.reload();
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
  s = await settled();
  assert.equal(s.hint, false, 'the first-steps hint came back after a reload');
  // Esc closes an open drop-down without cancelling the work (the work is started with the drop-down open; on a fast
  // machine it may be done before Esc arrives, so what counts is that it was not cancelled)
  const startWork = () => page.evaluate(() => {
    window.Module.ccall('lrpscope_do_run_optimizer', 'number', ['string'], ['']);
    window.Module.ccall('lrpscope_do_run_flipping', 'number', ['string'], ['epsilon']);
  });
  s = await fresh();
  await click(s, 'mode');
  s = await fresh();
  assert.ok(s.rects['mode:heatmap'], 'the drop-down did not open');
  await startWork();
  await page.keyboard.press('Escape');
  s = await fresh();
  assert.ok(s.progress_label !== 'cancelled', `Esc on a drop-down cancelled the work (${s.progress_label})`);
  assert.ok(!s.rects['mode:heatmap'], 'Esc did not close the drop-down');
  console.log(`Esc on a drop-down: closed it, the work ${s.busy ? 'goes on' : 'had finished'}`);
  s = await settled((x) => !x.busy, 'the work to finish');
  assert.ok(s.progress_label !== 'cancelled' && s.flip, `the work did not finish (${s.progress_label})`);
  // Esc with nothing open cancels the work (tried until the work is still running when Esc arrives)
  let cancelled = false;
  for (let attempt = 0; attempt < 5 && !cancelled; ++attempt) {
    await startWork();
    await page.keyboard.press('Escape');
    s = await fresh();
    cancelled = s.progress_label === 'cancelled';
    if (!cancelled) s = await settled((x) => !x.busy, 'the work to finish');
  }
  assert.ok(cancelled, `Esc did not cancel the work (${s.progress_label})`);
  // a bad file's message names the file as the user knows it, not the page's internal copy
  fs.writeFileSync(path.join(outDir, 'README.md'), '# not a picture\n');
  await page.setInputFiles('#file-image', path.join(outDir, 'README.md'));
  s = await settled((x) => x.error.includes('README.md'), 'the bad-file message');
  assert.ok(!s.error.includes('/upload/'), s.error);
  // an ImageNet photo with the Fashion model: the app says it does not fit
  await page.evaluate(() => window.Module.ccall('lrpscope_do_load_sample', 'number', ['string'], ['imagenet/chelsea']));
  s = await settled((x) => x.image === 'imagenet/chelsea');
  assert.ok(s.picture_note.includes('another model'), s.picture_note);
  console.log(`papercuts: contrast untick, remembered hint, Esc, file names in errors, "${s.picture_note}"`);
  await close();

  }
  // ---------------------------------------------------------------- 7. every view at the sizes people use
  if (from <= 7) {
  for (const [w, h, dpr] of [[1280, 800, 1], [1024, 600, 1], [1280, 800, 2]]) {
    s = await open(server.url + '?single', w, h, dpr);
    if (w === 1024) {  // the hint covers little of the graph
      const hint = s.rects.hint, tabs = s.rects['tab:Graph'];
      const area = (hint[2] - hint[0]) * (hint[3] - hint[1]);
      const graphArea = (w * dpr - tabs[0]) * (h * dpr - tabs[1]);
      assert.ok(area / graphArea < 0.25, `the first-steps hint covers ${(100 * area / graphArea).toFixed(0)} % of the graph`);
    }
    await shot(`${w}x${h}@${dpr}-graph-hint`);
    await click(s, 'hint:ok');
    // (at two device pixels per point, the panels that draw pictures: the others are text and charts, seen at 1)
    for (const tab of dpr === 2 ? ['Graph', 'Neuron', 'Layers'] : ['Graph', 'Neuron', 'Layers', 'Rules', 'Optimiser', 'Evaluation']) {
      s = await fresh();
      await click(s, `tab:${tab}`);
      if (tab === 'Optimiser') await page.evaluate(() => window.Module.ccall('lrpscope_do_run_optimizer', 'number', ['string'], ['features.28']));
      if (tab === 'Evaluation') await page.evaluate(() => window.Module.ccall('lrpscope_do_run_flipping', 'number', ['string'], ['epsilon']));
      s = await settled((x) => x.tab === tab, `the ${tab} tab`);
      await shot(`${w}x${h}@${dpr}-${tab.toLowerCase()}`);
    }
    await close();
  }
  }
  console.log(`truth test passed; screenshots in ${outDir}`);
} catch (e) {
  await reportFailure(e, { page, logs, outDir });
} finally {
  if (close) await close().catch(() => {});
  server.stop();
}
// (a section's own servers may still hold the event loop after a failure: exit with the verdict)
process.exit(process.exitCode || 0);
