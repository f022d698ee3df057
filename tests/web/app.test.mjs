// End-to-end test of the web app in headless Chromium (playwright-core + Debian's Chromium):
//   node tests/web/app.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR [QUERY]
// QUERY (e.g. "?engine=inline"): the page's parameters for every visit (by default the engine is in its Web Worker).
// Opens the page, waits for the default model to explain the first sample, checks the app's state against the
// CLI for the same image and settings, then clicks a class, a graph node, a layer-explorer cell, changes the
// composite, loads a sample from the gallery and an image through the file input, screenshotting every state.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, state, waitFor, centre, clickAt, fresh as freshState } from './browser.mjs';
import { decodePng, regionStats } from './png.mjs';

const [dist, cli, outDir, query = ''] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');

function cliJson(args) {
  return JSON.parse(execFileSync(cli, args, { encoding: 'utf8' }));
}
function near(a, b, rel, what) {
  assert.ok(Math.abs(a - b) <= rel * Math.max(1e-9, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

const server = await serve(dist);
const { page, logs, close } = await launch(1280, 800, 1);
let step = 0;
async function shot(name) {
  const file = path.join(outDir, `${String(++step).padStart(2, '0')}-${name}.png`);
  const png = await page.screenshot({ path: file });
  return decodePng(png);
}
const click = (s, key) => clickAt(page, ...centre(s, key));
const fresh = () => freshState(page);

try {
  await page.goto(server.url + query);
  let s = await waitFor(page, (st) => st.image === 'fashion/sneaker-1' && st.selected_neuron, 90000, 'the first explanation');
  if (!query.includes('engine=inline')) {
    assert.equal(s.engine, 'worker', 'the engine is not in its worker');
    console.log(`engine in its worker: interface module ${s.heap_mb.toFixed(1)} MB, engine module ${s.engine_heap_mb.toFixed(1)} MB`);
  }
  // 1. the first sample, against the CLI
  const img = path.join(root, 'assets/samples/fashion/sneaker-1.png');
  const ex = cliJson(['explain', '--model', model, '--image', img, '--json']);
  const gr = cliJson(['graph', '--model', model, '--image', img, '--json']);
  assert.equal(s.model, 'fashion-vgg16');
  assert.equal(s.predicted, ex.top[0].index);
  assert.equal(s.target, ex.target);
  near(s.target_logit, ex.target_logit, 1e-4, 'target logit');
  near(s.input_relevance_sum, ex.input_sum, 1e-3, 'input relevance sum');
  assert.equal(s.graph_nodes, gr.nodes.length);
  assert.equal(s.graph_edges, gr.edges.length);
  assert.deepEqual(s.path, gr.path);
  const pathConv = gr.path.find((id) => id.startsWith('features.'));
  assert.equal(`${s.selected_neuron.layer}:${s.selected_neuron.index}`, pathConv);
  // the optimiser and pixel flipping run in slices like everything else, and agree with the CLI
  const opt = cliJson(['optimize', '--model', model, '--image', img, '--layer', 'features.28', '--json']);
  await page.evaluate(() => window.Module.ccall('lrpscope_do_run_optimizer', 'number', ['string'], ['features.28']));
  s = await waitFor(page, (st) => st.optimiser.length === 1, 60000, 'the optimiser');
  assert.deepEqual(s.optimiser[0], { layer: 'features.28', chosen_k: opt.layers[0].chosen_k });
  const flip = cliJson(['flip', '--model', model, '--image', img, '--runs', '3', '--json']);
  await page.evaluate(() => window.Module.ccall('lrpscope_do_run_flipping', 'number', ['string'], ['epsilon']));
  s = await waitFor(page, (st) => st.flip !== null, 60000, 'pixel flipping');
  console.log(`optimiser: conv5_3 k = ${s.optimiser[0].chosen_k}; pixel flipping AOPC ${s.flip.aopc.toFixed(3)} ` +
              `(random ${s.flip.aopc_random.toFixed(3)}; CLI ${flip.aopc_lrp.toFixed(3)})`);
  near(s.flip.aopc, flip.aopc_lrp, 1e-3, 'AOPC of the heatmap order');
  near(s.flip.aopc_random, flip.aopc_random, 1e-3, 'AOPC of random orders');
  let pic = await shot('first-explanation');
  const hm = s.rects.heatmap;
  const whole = regionStats(pic, 0, 0, pic.width, pic.height);
  assert.ok(whole.std > 10, 'the canvas looks blank');
  const heat = regionStats(pic, hm[0], hm[1], hm[2], hm[3]);
  assert.ok(heat.coloured > 0.01, `the heatmap region has too few coloured pixels (${heat.coloured})`);
  console.log(`first explanation ok: ${s.predicted_label}, logit ${s.target_logit.toFixed(4)}, ` +
              `${(100 * heat.coloured).toFixed(1)} % coloured heatmap pixels`);

  // frame rate while idle
  const f0 = (await state(page)).frames;
  await page.waitForTimeout(2000);
  const fps = ((await state(page)).frames - f0) / 2;
  console.log(`idle frame rate: ${fps.toFixed(1)} frames per second`);

  // results carry their own versions: a new neuron detail re-uploads none of the textures of the picture, the
  // heatmap or the path heatmap; a new class re-uploads the heatmap, not the picture
  {
    const before = (await fresh()).uploads;
    const cur = s.selected_neuron;
    await page.evaluate(([l, i]) => window.Module.ccall('lrpscope_do_select_neuron', 'number', ['string', 'number'], [l, i]),
                        [cur.layer, cur.index === 0 ? 1 : 0]);
    s = await waitFor(page, (st) => st.selected_neuron && st.selected_neuron.index !== cur.index && !st.busy, 30000, 'the other neuron');
    s = await fresh();
    const after = s.uploads;
    for (const k of ['image', 'heat0', 'heat3'])
      assert.equal(after[k] || 0, before[k] || 0, `a new neuron detail re-uploaded the ${k} texture (${before[k]} -> ${after[k]})`);
    const low = s.logits.indexOf(Math.min(...s.logits));
    await page.evaluate((c) => window.Module.ccall('lrpscope_do_select_class', 'number', ['number'], [c]), low);
    s = await waitFor(page, (st) => st.target === low, 30000, 'the least likely class');
    s = await fresh();
    assert.equal(s.uploads.image || 0, before.image || 0, 'a new class re-uploaded the picture');
    assert.ok((s.uploads.heat0 || 0) > (before.heat0 || 0), 'a new class did not re-upload the heatmap');
    console.log(`texture uploads: ${JSON.stringify(before)} -> neuron -> class ${JSON.stringify(s.uploads)}`);
    await page.evaluate((c) => window.Module.ccall('lrpscope_do_select_class', 'number', ['number'], [c]), ex.target);
    s = await waitFor(page, (st) => st.target === ex.target, 30000, 'the top class again');
  }

  // dismiss the first-steps hint with its button
  await click(s, 'hint:ok');
  s = await fresh();
  assert.equal(s.hint, false);

  // 2. click the second class in the predictions
  await click(s, 'pred:1');
  s = await waitFor(page, (st) => st.target !== ex.target, 30000, 'a new target');
  const ex2 = cliJson(['explain', '--model', model, '--image', img, '--target', String(s.target), '--json']);
  near(s.target_logit, ex2.target_logit, 1e-4, 'second-class logit');
  near(s.input_relevance_sum, ex2.input_sum, 1e-3, 'second-class relevance');
  await shot('second-class');
  console.log(`clicked a class: now explaining ${s.target_label}`);

  // 3. click a graph node that is not selected
  s = await fresh();
  const nodeKey = Object.keys(s.rects).find((k) => k.startsWith('node:features.') &&
      k !== `node:${s.selected_neuron.layer}:${s.selected_neuron.index}`);
  await click(s, nodeKey);
  s = await waitFor(page, (st) => st.selected_neuron && `node:${st.selected_neuron.layer}:${st.selected_neuron.index}` === nodeKey,
                    30000, 'the clicked graph node to be selected');
  await shot('graph-node');
  console.log(`clicked graph node ${nodeKey}`);

  // 4. the layer explorer: open its tab, click a cell
  await click(s, 'tab:Layers');
  s = await fresh();
  assert.equal(s.tab, 'Layers');
  const cellKey = Object.keys(s.rects).filter((k) => k.startsWith('cell:'))[2];
  await click(s, cellKey);
  s = await waitFor(page, (st) => st.selected_neuron && `cell:${st.selected_neuron.layer}:${st.selected_neuron.index}` === cellKey,
                    30000, 'the clicked cell to be selected');
  await shot('layer-explorer');
  await click(s, 'tab:Neuron');
  s = await fresh();
  await shot('neuron-detail');
  console.log(`clicked explorer cell ${cellKey}`);

  // 5. change the composite in the Rules tab
  await click(s, 'tab:Rules');
  s = await fresh();
  await click(s, 'composite');
  s = await fresh();
  await click(s, 'composite:montavon');
  s = await waitFor(page, (st) => st.composite === 'montavon', 30000, 'the montavon composite');
  const ex3 = cliJson(['explain', '--model', model, '--image', img, '--composite', 'montavon', '--target', String(s.target), '--json']);
  near(s.input_relevance_sum, ex3.input_sum, 1e-3, 'montavon relevance');
  console.log(`re-explanation after the rule change: ${s.timings.lrp_ms.toFixed(1)} ms (LRP) + ${s.timings.graph_ms.toFixed(1)} ms (graph)`);
  await shot('rules-montavon');

  // 5b. the rules of the layers without weights: a ReLU to guided backprop, through the table's drop-down
  assert.ok(!s.rects['rule:features.1'], 'the ReLU rows show only when asked');
  await click(s, 'rules:all');
  s = await fresh();
  assert.ok(s.rects['rule:features.1'] && s.rects['rule:features.4'], 'the ReLU and max-pool rows are listed');
  await click(s, 'rule:features.1');
  s = await fresh();
  assert.ok(s.rects['rule:features.1:guided'] && !s.rects['rule:features.1:gamma'], 'a ReLU offers only its own rules');
  await click(s, 'rule:features.1:guided');
  s = await waitFor(page, (st) => st.share.includes('features.1:guided'), 30000, 'the guided ReLU');
  s = await waitFor(page, (st) => !st.busy && st.drawn, 30000, 'the explanation with a guided ReLU');
  const guidedRules = path.join(outDir, 'guided-relu.json');
  fs.writeFileSync(guidedRules, JSON.stringify({ base: 'montavon', layers: { 'features.1': { rule: 'guided' } } }));
  const ex3b = cliJson(['explain', '--model', model, '--image', img, '--rules', guidedRules, '--target', String(s.target), '--json']);
  near(s.input_relevance_sum, ex3b.input_sum, 1e-3, 'montavon with a guided relu1_1');
  assert.ok(Math.abs(ex3b.input_sum - ex3.input_sum) > 1e-3 * Math.abs(ex3.input_sum), 'the ReLU rule changed nothing');
  await shot('rules-all-layers');
  await click(s, 'rules:all');

  // 6. a sample from the gallery (Image menu)
  await click(s, 'menu:image');
  s = await fresh();
  await click(s, 'sample:fashion/trouser-1');
  s = await waitFor(page, (st) => st.image === 'fashion/trouser-1', 30000, 'the trouser sample');
  assert.equal(s.predicted_label, 'Trouser');
  await click(s, 'tab:Graph');
  await fresh();
  pic = await shot('gallery-trouser');
  s = await state(page);
  assert.ok(regionStats(pic, s.rects.heatmap[0], s.rects.heatmap[1], s.rects.heatmap[2], s.rects.heatmap[3]).coloured > 0.01);

  // 7. an image through the file input (a colour photo: the model inverts and greys it)
  await page.setInputFiles('#file-image', path.join(root, 'assets/samples/fashion/bag-2.png'));
  s = await waitFor(page, (st) => st.image === 'bag-2.png', 30000, 'the uploaded image');
  const ex4 = cliJson(['explain', '--model', model, '--image', path.join(root, 'assets/samples/fashion/bag-2.png'), '--json']);
  assert.equal(s.predicted, ex4.top[0].index);
  near(s.target_logit, ex4.target_logit, 1e-4, 'uploaded image logit');
  await shot('file-input');

  // 8. a bad file keeps the app working with a clear message
  fs.writeFileSync(path.join(outDir, 'broken.png'), 'this is not a picture');
  await page.setInputFiles('#file-image', path.join(outDir, 'broken.png'));
  s = await waitFor(page, (st) => st.error && st.error.includes('could not open the image'), 30000, 'an error message');
  assert.equal(s.image, 'bag-2.png');
  await shot('bad-file');
  console.log(`bad file: "${s.error}"`);

  // 9. a HiDPI screen (device pixel ratio 2) and a small 800x600 window: crisp, and the heatmap is drawn
  for (const [w, h, dpr] of [[1024, 700, 2], [800, 600, 1]]) {
    const other = await launch(w, h, dpr);
    try {
      await other.page.goto(server.url + query);
      const st = await waitFor(other.page, (x) => x.selected_neuron && x.rects.heatmap, 90000, `the app at ${w}x${h}@${dpr}`);
      const file = path.join(outDir, `${String(++step).padStart(2, '0')}-${w}x${h}-dpr${dpr}.png`);
      const im = decodePng(await other.page.screenshot({ path: file }));
      assert.equal(im.width, w * dpr);
      assert.equal(st.scale, dpr);
      const r = st.rects.heatmap;
      assert.ok(regionStats(im, r[0], r[1], r[2], r[3]).coloured > 0.01, `no heatmap at ${w}x${h}@${dpr}`);
      console.log(`${w}x${h} at device pixel ratio ${dpr}: ok`);
    } finally {
      await other.close();
    }
  }
  console.log(`browser test passed; screenshots in ${outDir}`);
} catch (e) {
  console.error(e);
  console.error(logs.slice(-20).join('\n'));
  await page.screenshot({ path: path.join(outDir, 'failure.png') }).catch(() => {});
  process.exitCode = 1;
} finally {
  await close();
  server.stop();
}
