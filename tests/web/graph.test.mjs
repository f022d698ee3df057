// The neuron graph a learner can read, and the figure for slides (issue 17, steps 2 and 6), with real mouse and
// keyboard input in headless Chromium, on an asymmetric picture so that a flip cannot pass:
//  - the nodes' thumbnails are their feature maps (the CLI's activations) and, switched, their conditional heatmaps
//    (the CLI's restricted LRP), the right way up; the path in words carries the CLI's numbers;
//  - the search box finds conv1_2:N (zooms to it, selects it), says why it cannot find bad names;
//  - weak lines hide, the optimiser's k is capped (the CLI's --cap gives the same neurons), a click selects a
//    neuron and shows it beside the graph, a double-click opens the Neuron tab;
//  - Export → Figure downloads one zip: figure.png (picture and heatmap upright against the CLI), graph.svg (parses,
//    names every node), rules.json (the CLI explains the same with it), state.json (the view and its link);
//  - the graph at 1280x800, 1024x600, 768x1024 and 390x844 (screenshots kept).
//   node tests/web/graph.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import { serve, launch, waitFor, centre, clickAt, fresh as freshState } from './browser.mjs';
import { decodePng } from './png.mjs';
import { readNpy, channelSum, sampleCells, assertUpright, orientationFixtures } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });
const { square } = orientationFixtures(outDir, cli);

let page, close, s, shots = 0;
const shot = async (name) => decodePng(await page.screenshot({ path: path.join(outDir, `${String(++shots).padStart(2, '0')}-${name}.png`) }));
const fresh = () => freshState(page);
const settled = (pred = () => true, what = 'the app') => waitFor(page, pred, 90000, what);
const click = async (key) => { await clickAt(page, ...centre(s, key)); s = await fresh(); };
async function type(text) {
  await page.keyboard.type(text, { delay: 40 });
  await page.keyboard.press('Enter');
  await page.waitForTimeout(100);
  s = await fresh();
}
async function find(text) {
  await click('graph:find');
  await page.keyboard.press('Control+A');
  await type(text);
}
// ImGui: Ctrl+click on a slider types a value into it
async function typeInto(key, value) {
  const [x, y] = centre(s, key);
  await page.mouse.move(x, y);
  await page.keyboard.down('Control');
  await page.mouse.down();
  await page.waitForTimeout(60);
  await page.mouse.up();
  await page.keyboard.up('Control');
  await page.waitForTimeout(100);
  await page.keyboard.press('Control+A');
  await type(String(value));
}
function channel(npy, c) {
  const { shape, data } = readNpy(npy);
  const [, h, w] = shape;
  return { w, h, v: Float64Array.from(data.subarray(c * h * w, (c + 1) * h * w)) };
}
const numbers = (text) => (text.match(/[-+]?\d+(\.\d+)?(e[-+]?\d+)?/g) || []).map(Number);

const server = await serve(dist);
try {
  ({ page, close } = await launch(1280, 800));
  await page.goto(server.url + '?single');
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
  s = await settled((x) => x.selected_neuron, 'the first explanation');
  await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
  await page.setInputFiles('#file-image', square);
  s = await settled((x) => x.image === 'orient-28.png' && x.selected_neuron, 'the asymmetric picture');
  const npy = path.join(outDir, 'npy');
  run(['explain', '--model', model, '--image', square, '--npy-dir', npy]);

  // ---------------------------------------------------------------- the path in words: the CLI's numbers
  const cliGraph = JSON.parse(run(['graph', '--model', model, '--image', square, '--json']));
  assert.deepEqual(s.path, cliGraph.path, 'the page and the CLI find different critical paths');
  const got = numbers(s.graph_view.path_words), want = numbers(cliGraph.path_words);
  assert.equal(got.length, want.length, `the words differ: "${s.graph_view.path_words}" vs "${cliGraph.path_words}"`);
  want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 0.02 * Math.abs(v) + 1e-12,
                                   `number ${i} of the path's words: ${got[i]} in the page, ${v} from the CLI`));
  assert.match(s.graph_view.path_words, /strongest chain of evidence for \S+ runs through fc7:\d+/);
  console.log(`the path in words: ${s.graph_view.path_words}`);
  await shot('graph-1280x800');

  // ---------------------------------------------------------------- find a conv1_2 neuron; its feature map, upright
  // (of the graph's conv1_2 neurons the one that fires in most places: a sparse map has too many ties to rank)
  const dense = (n) => channel(path.join(npy, 'activation_features.2.npy'), Number(n.split(':')[1])).v.filter((v) => v > 0).length;
  const id = s.graph_node_ids.filter((n) => n.startsWith('features.2:')).sort((a, b) => dense(b) - dense(a))[0];
  const idx = Number(id.split(':')[1]);
  await find(`conv1_2:${idx}`);
  assert.equal(s.graph_view.found, id, `the search did not find ${id}: ${JSON.stringify(s.graph_view)}`);
  assert.ok(s.graph_view.zoom >= 2, 'the graph did not zoom to the neuron');
  s = await settled((x) => x.selected_neuron && x.selected_neuron.layer === 'features.2' && x.selected_neuron.index === idx,
                    'the found neuron selected');
  // zoom further with the wheel over it, until its thumbnail is big enough to sample
  for (let i = 0; i < 16 && s.rects[`node:${id}`][2] - s.rects[`node:${id}`][0] < 130; i++) {
    const [x, y] = centre(s, `node:${id}`);
    await page.mouse.move(x, y);
    await page.mouse.wheel(0, -100);
    s = await fresh();
  }
  await page.mouse.move(5, 790);  // (the tooltip would cover the node)
  s = await fresh();
  const r = s.rects[`node:${id}`];
  assert.ok(r[2] - r[0] >= 120, `the thumbnail is ${r[2] - r[0]} pixels wide after zooming`);
  let img = await shot('graph-found-feature-map');
  const act = channel(path.join(npy, 'activation_features.2.npy'), idx);
  act.v = act.v.map((v) => Math.max(0, v));  // after its ReLU, as drawn
  console.log(assertUpright(sampleCells(img, r, act.w, act.h).luma, act.v, act.w, act.h, `the feature map of ${id} in its node`));
  // the heatmaps instead: computed one after the other, then the node shows its conditional heatmap
  await click('graph:thumbs');
  await click('graph:thumbs:heatmaps');
  s = await settled((x) => x.graph_view.nodes === 'heatmaps' && x.graph_view.node_heat[1] > 0 &&
                           x.graph_view.node_heat[0] === x.graph_view.node_heat[1], 'every node as a heatmap');
  assert.equal(s.graph_view.node_heat[1], s.graph_nodes - 1, 'every neuron but the class has a heatmap');
  img = await shot('graph-found-heatmap');
  const cond = path.join(outDir, 'cond');
  run(['conditional', '--model', model, '--image', square, '--layer', 'features.2', '--channels', String(idx), '--npy-dir', cond]);
  const heat = channelSum(readNpy(path.join(cond, 'relevance_input.npy')));
  console.log(assertUpright(sampleCells(img, s.rects[`node:${id}`], heat.w, heat.h).redness, heat.v, heat.w, heat.h,
                            `the conditional heatmap of ${id} in its node`));
  assert.match(s.link || '', /nodes=heatmaps/, `the link does not keep the nodes' view: ${s.link}`);

  // ---------------------------------------------------------------- the nodes as their channels' best atlas pictures
  // (the first view that needs the atlas: the worker fetches it)
  await click('graph:thumbs');
  await click('graph:thumbs:references');
  s = await settled((x) => x.graph_view.node_refs && x.graph_view.node_refs.current && x.graph_view.node_refs.names.some((n) => n),
                    'the nodes as their best references');
  assert.equal(s.graph_view.node_refs.by, 'activation');
  assert.match(s.link || '', /nodes=references/, `the link does not keep the nodes' view: ${s.link}`);
  const atlas = path.join(dist, 'fashion-vgg16.atlas');
  const best = (nodeId) => {
    const [l, c] = nodeId.split(':');
    return JSON.parse(run(['references', '--atlas', atlas, '--layer', l, '--channel', c, '--json'])).references[0];
  };
  s.graph_node_ids.forEach((nodeId, i) => {
    const want = nodeId.startsWith('classifier.6:') ? '' : best(nodeId).name;  // (the class has no references)
    assert.equal(s.graph_view.node_refs.names[i], want, `${nodeId} shows another picture than its best by activation`);
  });
  // conv2_2's neuron on the path, zoomed, against the CLI's grid of its crops (unmasked: no --model)
  const refNode = s.path.find((n) => n.startsWith('features.7:'));
  await find(refNode);
  for (let i = 0; i < 16 && s.rects[`node:${refNode}`][2] - s.rects[`node:${refNode}`][0] < 130; i++) {
    await page.mouse.move(...centre(s, `node:${refNode}`));
    await page.mouse.wheel(0, -100);
    s = await fresh();
  }
  await page.mouse.move(5, 790);
  s = await fresh();
  img = await shot('graph-found-reference');
  const ref = best(refNode), [rw, rh] = [ref.box[3] - ref.box[1], ref.box[2] - ref.box[0]];
  assert.deepEqual(s.graph_view.node_refs.sizes[s.graph_node_ids.indexOf(refNode)], [rw, rh], 'the crop is not the receptive field');
  assert.ok(rw < 32 && rh < 32, `${refNode}'s crop is the whole picture`);
  const refGrid = path.join(outDir, 'grid-unmasked.png');
  const [rl, rc] = refNode.split(':');
  run(['references', '--atlas', atlas, '--layer', rl, '--channel', rc, '--out', refGrid]);
  const gridPng = decodePng(fs.readFileSync(refGrid));
  const gk = 96 / Math.max(rw, rh), gw = Math.floor(rw * gk), gh = Math.floor(rh * gk);
  const cell = [6 + Math.floor((96 - gw) / 2), 28 + Math.floor((96 - gh) / 2)];
  const nr = s.rects[`node:${refNode}`], side = nr[2] - nr[0], nk = Math.min(side / rw, side / rh);
  const [nw, nh] = [Math.floor(rw * nk), Math.floor(rh * nk)], [ncx, ncy] = [(nr[0] + nr[2]) / 2, (nr[1] + nr[3]) / 2];
  console.log(assertUpright(sampleCells(img, [ncx - nw / 2, ncy - nh / 2, ncx + nw / 2, ncy + nh / 2], rw, rh).luma,
                            sampleCells(gridPng, [cell[0], cell[1], cell[0] + gw, cell[1] + gh], rw, rh).luma, rw, rh,
                            `the best reference of ${refNode} in its node`, 0.9));

  // ---------------------------------------------------------------- what the search says when it cannot
  await find('conv5_3:9999');
  assert.match(s.graph_view.find_message, /conv5_3 has \d+ channels, 0 to \d+/);
  await find('nonsense');
  assert.match(s.graph_view.find_message, /type layer:channel/);
  await find('relu1_1:0');
  assert.match(s.graph_view.find_message, /has no neurons/);
  const fc7 = new Set(s.graph_node_ids.filter((n) => n.startsWith('classifier.3:')).map((n) => Number(n.split(':')[1])));
  let other = 0;
  while (fc7.has(other)) other++;
  await find(`fc7:${other}`);
  assert.match(s.graph_view.find_message, /not in the graph/);
  s = await settled((x) => x.selected_neuron && x.selected_neuron.layer === 'classifier.3' && x.selected_neuron.index === other,
                    'a neuron outside the graph selected');
  console.log(`search: ${s.graph_view.find_message}`);
  await click('graph:reset');

  // ---------------------------------------------------------------- a click selects, a double-click opens the Neuron tab
  await click('graph:thumbs');
  await click('graph:thumbs:maps');
  const target = s.graph_node_ids.find((n) => n.startsWith('features.28:') && n !== s.path[3]);
  await click(`node:${target}`);
  s = await settled((x) => x.selected_neuron && `${x.selected_neuron.layer}:${x.selected_neuron.index}` === target, `${target} selected`);
  assert.ok(s.rects['graph:selected'], 'the selected neuron is not shown beside the graph');
  await shot('graph-selected');
  await page.mouse.move(...centre(s, `node:${target}`));
  await page.waitForTimeout(60);
  for (let k = 0; k < 2; k++) {  // as a hand double-clicks: two clicks 0.1 s apart
    await page.mouse.down();
    await page.waitForTimeout(50);
    await page.mouse.up();
    await page.waitForTimeout(50);
  }
  s = await fresh();
  assert.equal(s.app.panel, 'neuron', 'a double-click on a neuron does not open the Neuron tab');
  await click('tab:Graph');

  // ---------------------------------------------------------------- weak lines hidden; the optimiser's k capped
  await typeInto('graph:min-edge', 10);
  assert.ok(Math.abs(s.graph_view.min_edge - 0.10) < 1e-4, `weak lines: ${s.graph_view.min_edge}`);
  await shot('graph-weak-lines-hidden');
  await click('graph:k-auto');
  s = await settled((x) => x.app.k_auto, 'the graph with k from the optimiser');
  const free = s.graph_nodes;
  await shot('graph-k-auto');
  await typeInto('graph:k', 3);
  s = await settled((x) => x.graph_view.cap === 3 && x.app.cap === 3, 'the capped graph');
  assert.match(s.link, /k=auto&cap=3/);
  const capped = JSON.parse(run(['graph', '--model', model, '--image', square, '--k', 'auto', '--cap', '3', '--json']));
  assert.deepEqual([...s.graph_node_ids].sort(), capped.nodes.map((n) => n.id).sort(), 'the page and the CLI cap differently');
  assert.ok(s.graph_nodes < free, `the cap kept ${s.graph_nodes} of ${free} neurons`);
  console.log(`k from the optimiser: ${free} neurons; capped at 3 per layer: ${s.graph_nodes}, as the CLI's --cap 3`);
  await click('graph:k-auto');
  s = await settled((x) => !x.app.k_auto, 'one k again');

  // ---------------------------------------------------------------- Export → Figure: one zip
  await click('menu:export');
  const downloading = page.waitForEvent('download', { timeout: 30000 });
  await click('export:figure');
  const dl = await downloading;
  assert.equal(dl.suggestedFilename(), 'lrpscope-figure.zip');
  const zipFile = path.join(outDir, 'lrpscope-figure.zip');
  await dl.saveAs(zipFile);
  const files = unzipSync(new Uint8Array(fs.readFileSync(zipFile)));
  assert.deepEqual(Object.keys(files).sort(), ['figure.png', 'graph.json', 'graph.svg', 'rules.json', 'state.json']);
  const st = JSON.parse(strFromU8(files['state.json']));
  assert.equal(st.link, s.link, 'the exported state is not the view');
  assert.equal(st.summary, s.summary);
  const fig = decodePng(Buffer.from(files['figure.png']));
  fs.writeFileSync(path.join(outDir, 'figure.png'), files['figure.png']);
  assert.equal(fig.width, st.figure.width);
  assert.equal(fig.height, st.figure.height);
  assert.ok(fig.width >= 1800, `the figure is ${fig.width} pixels wide (two pixels per point)`);
  const rel = channelSum(readNpy(path.join(npy, 'relevance_input.npy')));
  const inp = channelSum(readNpy(path.join(npy, 'input.npy')));
  console.log(assertUpright(sampleCells(fig, st.figure.parts.heatmap, rel.w, rel.h).redness, rel.v, rel.w, rel.h, 'the figure\'s heatmap'));
  console.log(assertUpright(sampleCells(fig, st.figure.parts.picture, inp.w, inp.h).luma, inp.v, inp.w, inp.h, 'the figure\'s picture'));
  // the graph part is drawn (not the background)
  const gp = st.figure.parts.graph, gcells = sampleCells(fig, gp, 40, 40);
  assert.ok(gcells.redness.filter((v) => v > 80).length > 30, 'the figure\'s graph has no red nodes or lines');
  // the SVG parses and names every node
  const svg = strFromU8(files['graph.svg']);
  fs.writeFileSync(path.join(outDir, 'graph.svg'), svg);
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    if (doc.querySelector('parsererror')) return { error: doc.querySelector('parsererror').textContent };
    return { ids: [...doc.querySelectorAll('g.node')].map((g) => g.getAttribute('data-id')),
             labels: [...doc.querySelectorAll('g.node text')].map((t) => t.textContent),
             legend: !!doc.querySelector('g.legend'), path: !!doc.querySelector('polyline.path') };
  }, svg);
  assert.ok(!parsed.error, `graph.svg does not parse: ${parsed.error}`);
  assert.deepEqual([...parsed.ids].sort(), [...s.graph_node_ids].sort(), 'graph.svg does not name every node');
  assert.ok(parsed.legend && parsed.path, 'graph.svg has no legend or no critical path');
  assert.ok(parsed.labels.some((t) => /conv1_2:\d+/.test(t)), 'graph.svg labels no node by layer:channel');
  // the rules file explains the same with the CLI
  const rulesFile = path.join(outDir, 'rules.json');
  fs.writeFileSync(rulesFile, files['rules.json']);
  const byRules = JSON.parse(run(['explain', '--model', model, '--image', square, '--rules', rulesFile, '--json']));
  assert.ok(Math.abs(byRules.input_sum - s.input_relevance_sum) <= 1e-3 * Math.abs(s.input_relevance_sum) + 1e-6,
            `the exported rules explain differently: ${byRules.input_sum} vs ${s.input_relevance_sum}`);
  console.log(`Export → Figure: one zip (${Object.keys(files).join(', ')}); figure ${fig.width}x${fig.height}, upright; ` +
              `the SVG names all ${parsed.ids.length} neurons; the rules explain as in the page`);
  await close();

  // ---------------------------------------------------------------- the graph at the sizes people use
  for (const [w, h, touch] of [[1024, 600, false], [768, 1024, true], [390, 844, true]]) {
    ({ page, close } = await launch(w, h, 1, { touch }));
    await page.goto(server.url + '?single&image=fashion/sneaker-1&panel=graph');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => x.selected_neuron, `the graph at ${w}x${h}`);
    await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
    // on a phone the graph is below the picture: scroll the column to it with a finger (on the panels' margin)
    const cdp = await page.context().newCDPSession(page);
    const finger = (type, pts) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: pts.map(([x, y], id) => ({ x, y, id })) });
    for (let i = 0; i < 12 && s.layout !== 'columns'; i++) {
      const r = s.rects['graph:canvas'], col = s.rects.column;
      if (r && col && r[1] >= col[1] && r[1] <= col[1] + (col[3] - col[1]) * 0.3) break;
      const up = r && col && r[1] < col[1];
      await finger('touchStart', [[5, h * 0.5]]);
      for (let k = 1; k <= 8; k++) { await finger('touchMove', [[5, h * 0.5 + (up ? 1 : -1) * h * 0.25 * k / 8]]); await page.waitForTimeout(30); }
      await finger('touchEnd', []);
      await page.waitForTimeout(200);
      s = await fresh();
    }
    await shot(`graph-${w}x${h}`);
    const c = s.rects['graph:canvas'];
    assert.ok(c && c[2] - c[0] >= w * { columns: 0.35, tablet: 0.6, phone: 0.8 }[s.layout] && c[3] - c[1] >= 150, `${w}x${h}: the graph canvas is ${JSON.stringify(c)}`);
    const nodes = s.graph_node_ids.filter((n) => s.rects[`node:${n}`]);
    assert.ok(nodes.length >= s.graph_nodes * 0.8, `${w}x${h}: only ${nodes.length} of ${s.graph_nodes} neurons on the screen`);
    console.log(`${w}x${h} (${s.layout}): the graph ${Math.round(c[2] - c[0])}x${Math.round(c[3] - c[1])}, ${nodes.length} neurons in view`);
    await close();
  }
  page = null;
} finally {
  if (page) await close();
  server.stop();
}
console.log('the graph reads: thumbnails, labels, search, weak lines, cap; the figure exports as one zip');
