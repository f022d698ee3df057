// The desktop app under Xvfb shows the truth too: every view the right way up (square and non-square input), the
// tooltip at the pixel under a real pointer, no frames while idle, the file chooser and Share, driven with real
// X events (xdotool):   node tests/app/truth_native.mjs APP LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { decodePng } from '../web/png.mjs';
import { display, startApp, at, sleep } from './desktop.mjs';
import { readNpy, channelSum, sampleCells, assertUpright, cellCentre, orientationFixtures } from '../web/orientation.mjs';

const [app, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });

const { square, tall, tallModel } = orientationFixtures(outDir, cli);

const { env, xdo, stop } = await display();

// one run of the app for a number of frames: its state and screenshot
function shotRun(tag, args) {
  const png = path.join(outDir, `${tag}.png`);
  const out = execFileSync(app, ['--no-hint', '--frames', '40', '--screenshot', png, '--dump-state', '--size', '1280x800', ...args],
                           { env, encoding: 'utf8', timeout: 120000 });
  return { s: JSON.parse(out.trim().split('\n').pop()), img: decodePng(fs.readFileSync(png)) };
}

// a running app that writes its state after every drawn frame
const start = (args) => startApp(app, args, { env, dir: outDir });
// ImGui 1.86 reads key states once a frame: a press and release in the same frame would go unseen, as no person
// types that fast — hold the key for a moment
async function press(key) {
  xdo('keydown', key);
  await sleep(120);
  xdo('keyup', key);
  await sleep(120);
}
async function clickAt([x, y]) {
  xdo('mousemove', String(x), String(y));
  await sleep(80);
  xdo('click', '1');
  await sleep(200);
}

let ok = false;
try {
  // ---------------------------------------------------------------- every view upright
  for (const [tag, picture, modelFile] of [['square', square, model], ['tall', tall, tallModel]]) {
    const npy = path.join(outDir, `npy-${tag}`);
    run(['explain', '--model', modelFile, '--image', picture, '--npy-dir', npy]);
    const rel = channelSum(readNpy(path.join(npy, 'relevance_input.npy')));
    const inp = channelSum(readNpy(path.join(npy, 'input.npy')));
    const { w, h } = rel;
    const logits = JSON.parse(run(['predict', '--model', modelFile, '--image', picture, '--json', '--top', '1'])).logits;
    const low = logits.indexOf(Math.min(...logits));
    const lown = path.join(outDir, `npy-${tag}-low`);
    run(['explain', '--model', modelFile, '--image', picture, '--target', String(low), '--npy-dir', lown]);
    const relLow = channelSum(readNpy(path.join(lown, 'relevance_input.npy')));
    const expect = { overlay: rel.v, heatmap: rel.v, side: rel.v, positive: rel.v.map((v) => Math.max(0, v)),
                     negative: relLow.v.map((v) => Math.min(0, v)) };
    for (const mode of ['overlay', 'side', 'heatmap', 'positive', 'negative']) {
      const q = `?mode=${mode}${mode === 'negative' ? `&target=${low}` : ''}`;
      const { s, img } = shotRun(`${tag}-${mode}`, ['--model', modelFile, '--image', picture, '--state', q]);
      assert.equal(s.app.mode, mode);
      assert.equal(s.error, '');
      assert.ok(s.rects.heatmap, `${tag}-${mode}: no heatmap on screen; state ${JSON.stringify(s).slice(0, 600)}`);
      console.log(assertUpright(sampleCells(img, s.rects.heatmap, w, h).redness, expect[mode], w, h, `desktop ${tag} ${mode}`));
      if (mode === 'side')
        console.log(assertUpright(sampleCells(img, s.rects['heatmap:image'], w, h).luma, inp.v, w, h, `desktop ${tag} picture`));
    }
    const g = shotRun(`${tag}-graph`, ['--model', modelFile, '--image', picture]);
    const pathPng = path.join(outDir, `path-${tag}.png`);
    run(['graph', '--model', modelFile, '--image', picture, '--out-path-heatmap', pathPng]);
    const cliPath = decodePng(fs.readFileSync(pathPng));
    console.log(assertUpright(sampleCells(g.img, g.s.rects['graph:path-heatmap'], w, h).redness,
                              sampleCells(cliPath, [0, 0, cliPath.width, cliPath.height], w, h).redness, w, h,
                              `desktop ${tag} path heatmap`, 0.55));
    // the figure export: a new folder each time (never over an earlier one), its picture and heatmap upright
    const figDir = path.join(outDir, `figures-${tag}`);
    fs.rmSync(figDir, { recursive: true, force: true });
    for (const want of ['lrpscope-figure', 'lrpscope-figure-2']) {
      const out = execFileSync(app, ['--no-hint', '--frames', '30', '--size', '1280x800', '--figure', figDir, '--model', modelFile,
                                     '--image', picture], { env, encoding: 'utf8', timeout: 120000 });
      assert.match(out, new RegExp(`figure: ${figDir}/${want}\\b`), `the figure went elsewhere: ${out}`);
    }
    const fst = JSON.parse(fs.readFileSync(path.join(figDir, 'lrpscope-figure', 'state.json'), 'utf8'));
    const fig = decodePng(fs.readFileSync(path.join(figDir, 'lrpscope-figure', 'figure.png')));
    assert.deepEqual([fig.width, fig.height], [fst.figure.width, fst.figure.height]);
    console.log(assertUpright(sampleCells(fig, fst.figure.parts.heatmap, w, h).redness, rel.v, w, h, `desktop ${tag} figure's heatmap`));
    console.log(assertUpright(sampleCells(fig, fst.figure.parts.picture, w, h).luma, inp.v, w, h, `desktop ${tag} figure's picture`));
    const svg = fs.readFileSync(path.join(figDir, 'lrpscope-figure', 'graph.svg'), 'utf8');
    assert.equal((svg.match(/<g class="node"/g) || []).length, g.s.graph_nodes, `desktop ${tag}: graph.svg does not name every node`);
    const n = shotRun(`${tag}-neuron`, ['--model', modelFile, '--image', picture, '--state', '?panel=neuron']);
    const cnpy = path.join(outDir, `cond-${tag}`);
    run(['conditional', '--model', modelFile, '--image', picture, '--layer', n.s.selected_neuron.layer,
         '--channels', String(n.s.selected_neuron.index), '--npy-dir', cnpy]);
    console.log(assertUpright(sampleCells(n.img, n.s.rects['neuron:conditional'], w, h).redness,
                              channelSum(readNpy(path.join(cnpy, 'relevance_input.npy'))).v, w, h, `desktop ${tag} conditional heatmap`));
  }

  // ---------------------------------------------------------------- a lesson opened by --state, at its step 3
  {
    const lessonFile = path.join(root, 'web/examples/why-a-sneaker.json');
    const { s } = shotRun('lesson-step3', ['--state', `?lesson=${lessonFile}&step=3`]);
    assert.equal(s.error, '');
    assert.ok(s.lesson && s.lesson.step === 3 && s.lesson.steps >= 6, JSON.stringify(s.lesson));
    assert.equal(s.image, 'fashion/sneaker-1');
    assert.equal(s.target, 5);  // the step explains Sandal
    assert.equal(s.app.mode, 'heatmap');
    assert.ok(s.rects.lesson && s.rects['lesson:next'], 'no lesson card on the desktop');
    console.log(`desktop: the example lesson opens at step 3 (${s.lesson.step_title})`);
  }

  // ---------------------------------------------------------------- every panel at the sizes people use
  for (const [w, h, k] of [[1280, 800, 1], [1024, 600, 1], [2560, 1600, 2]]) {
    for (const tab of ['Graph', 'Neuron', 'Layers', 'Rules', 'Optimiser', 'Evaluation']) {
      const png = path.join(outDir, `${w}x${h}@${k}-${tab.toLowerCase()}.png`);
      execFileSync(app, ['--no-hint', '--frames', '30', '--screenshot', png, '--size', `${w}x${h}`, '--ui-scale', String(k),
                         '--tab', tab], { env, timeout: 120000 });
      assert.ok(fs.existsSync(png));
    }
  }

  // ---------------------------------------------------------------- a running app: pointer, idle, files, Share
  const a = start(['--image', square, '--no-hint', '--share-base', 'https://course.example/lrpscope/']);
  let s = await a.until((x) => !x.busy && x.selected_neuron && x.image === 'orient-28.png' && x.frames > 2 && x.rects.heatmap, 'the first explanation');
  const rel = channelSum(readNpy(path.join(outDir, 'npy-square', 'relevance_input.npy')));
  for (const [px, py] of [[3, 4], [rel.w - 2, 1], [1, rel.h - 3]]) {
    const [cx, cy] = cellCentre(s.rects.heatmap, rel.w, rel.h, px, py);
    xdo('mousemove', String(Math.round(cx)), String(Math.round(cy)));
    s = await a.until((x) => x.hover && x.hover.x === px && x.hover.y === py, `the tooltip at (${px}, ${py})`, 10000);
    const want = rel.v[py * rel.w + px];
    assert.ok(Math.abs(s.hover.relevance - want) <= 1e-4 * Math.abs(want) + 1e-7, `tooltip ${s.hover.relevance} vs ${want}`);
  }
  console.log('desktop: the tooltip names the pixel under the pointer and the CLI\'s value at it');
  // idle: no frames, little CPU
  xdo('mousemove', '5', '790');
  await sleep(1500);
  const stat = () => { const f = fs.readFileSync(`/proc/${a.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
                       return (Number(f[11]) + Number(f[12])) / 100; };
  const f0 = a.read().frames, c0 = stat(), t0 = Date.now();
  await sleep(4000);
  const f1 = a.read().frames, c1 = stat(), secs = (Date.now() - t0) / 1000;
  console.log(`desktop idle: ${((f1 - f0) / secs).toFixed(1)} frames/s, ${(100 * (c1 - c0) / secs).toFixed(1)} % of a core`);
  assert.ok((f1 - f0) / secs < 1, `the desktop app keeps drawing while idle (${(f1 - f0) / secs} frames/s)`);
  // the sanity check, clicked: the CLI's scores, the original heatmap and the last one upright on the screen
  s = a.read();
  await clickAt(at(s, 'tab:Evaluation'));
  s = await a.until((x) => x.tab === 'Evaluation' && x.rects['evaluation:sanity'], 'the Evaluation tab');
  await clickAt(at(s, 'evaluation:sanity'));
  s = await a.until((x) => x.evaluation_panel === 'sanity' && x.rects['sanity:run'], 'the sanity panel');
  await clickAt(at(s, 'sanity:run'));
  s = await a.until((x) => x.sanity && x.sanity.done && !x.busy, 'the sanity check', 120000);
  await sleep(300);
  s = a.read();
  const sanityPng = path.join(outDir, 'sanity.png');
  execFileSync('import', ['-window', 'root', '-crop', '1280x800+0+0', sanityPng], { env });
  const sanityImg = decodePng(fs.readFileSync(sanityPng));
  const snpy = path.join(outDir, 'sanity-npy');
  fs.rmSync(snpy, { recursive: true, force: true });
  fs.mkdirSync(snpy);
  const sw = JSON.parse(run(['sanity', '--model', model, '--image', square, '--composite', s.sanity.method, '--seed',
                             String(s.sanity.seed), '--json', '--npy-dir', snpy]));
  assert.equal(s.sanity.steps.length, sw.steps.length);
  sw.steps.forEach((b, i) => {
    for (const k of ['spearman', 'spearman_abs', 'ssim'])
      assert.ok(Math.abs(s.sanity.steps[i][k] - b[k]) < 1e-3, `desktop sanity step ${i}: ${k} ${s.sanity.steps[i][k]} vs ${b[k]}`);
  });
  const sfiles = fs.readdirSync(snpy).sort();
  for (const i of [0, sw.steps.length - 1]) {
    const ref = channelSum(readNpy(path.join(snpy, sfiles[i])));
    console.log(assertUpright(sampleCells(sanityImg, s.rects[`sanity-map/${i}`], ref.w, ref.h).redness, ref.v, ref.w, ref.h,
                              `desktop sanity heatmap ${i}`));
  }
  console.log(`desktop: the sanity check's ${sw.steps.length} steps equal the CLI's`);
  // Image -> Open... with the desktop's file chooser
  s = a.read();
  await clickAt(at(s, 'menu:image'));
  s = await a.until((x) => x.rects['menu:image:open'], 'the Image menu');
  await clickAt(at(s, 'menu:image:open'));
  s = await a.until((x) => x.rects['file:path'], 'the file chooser');
  await clickAt(at(s, 'file:path'));
  xdo('type', '--delay', '15', path.join(root, 'assets/samples/fashion/bag-1.png'));
  await press('Return');
  s = await a.until((x) => x.image === 'bag-1.png' && !x.busy, 'the picture chosen in the file chooser');
  assert.equal(s.predicted_label, 'Bag');
  // Model -> Open a reference atlas... (a copy of the default one: it replaces it, named by its path)
  const atlasCopy = path.join(outDir, 'copy-of-default.atlas');
  fs.copyFileSync(path.join(path.dirname(app), 'assets', 'fashion-vgg16.atlas'), atlasCopy);
  await clickAt(at(s, 'menu:model'));
  s = await a.until((x) => x.rects['menu:model:atlas'], 'the Model menu');
  await clickAt(at(s, 'menu:model:atlas'));
  s = await a.until((x) => x.rects['file:path'], 'the file chooser for atlases');
  await clickAt(at(s, 'file:path'));
  xdo('type', '--delay', '15', atlasCopy);
  await press('Return');
  s = await a.until((x) => x.atlas && x.atlas.source === 'copy-of-default.atlas', 'the atlas chosen in the file chooser');
  assert.equal(s.atlas.mismatch, '');
  assert.equal(s.error, '');
  // Model -> Open weights... (the non-square model), choosing the file by a fast double click in the list (20 ms
  // apart: both clicks fall between two frames, which ImGui 1.86 alone would see as one press; input_queue.h)
  await clickAt(at(s, 'menu:model'));
  s = await a.until((x) => x.rects['menu:model:open'], 'the Model menu');
  await clickAt(at(s, 'menu:model:open'));
  s = await a.until((x) => x.rects['file:path'], 'the file chooser for weights');
  await clickAt(at(s, 'file:path'));
  xdo('type', '--delay', '15', outDir);
  await press('Return');
  s = await a.until((x) => x.rects['file:tall-96x64.safetensors'], 'the folder listing');
  const [fx, fy] = at(s, 'file:tall-96x64.safetensors');
  xdo('mousemove', String(fx), String(fy));
  await sleep(80);
  xdo('click', '--repeat', '2', '--delay', '20', '1');
  s = await a.until((x) => x.model_bytes > 0 && x.model !== 'fashion-vgg16' && !x.busy, 'the model chosen in the file chooser');
  // ... and an ONNX model in the model zoo's layout (BatchNormalization nodes: canonised), its path typed
  await clickAt(at(s, 'menu:model'));
  s = await a.until((x) => x.rects['menu:model:open'], 'the Model menu');
  await clickAt(at(s, 'menu:model:open'));
  s = await a.until((x) => x.rects['file:path'], 'the file chooser for weights');
  await clickAt(at(s, 'file:path'));
  xdo('type', '--delay', '15', path.join(root, 'tests/fixtures/checkpoints/vgg11_bn_zoo.onnx'));
  await press('Return');
  s = await a.until((x) => x.model_arch === 'vgg11_bn' && /BatchNorm2d folded/.test(x.model_canonised) && !x.busy,
                    'the ONNX model chosen in the file chooser');
  assert.equal(s.error, '');
  // Share: the permalink on the configured page address, the snippet, and what cannot travel
  await clickAt(at(s, 'share'));
  s = await a.until((x) => x.share_dialog.link, 'the Share dialog');
  assert.ok(s.share_dialog.link.startsWith('https://course.example/lrpscope/?'), s.share_dialog.link);
  assert.ok(s.share_dialog.snippet.includes('<iframe'), s.share_dialog.snippet);
  assert.ok(s.share_dialog.limits.some((l) => l.includes('cannot carry')), JSON.stringify(s.share_dialog.limits));
  await clickAt(at(s, 'share:copy-link'));
  await sleep(300);
  console.log(`desktop: file chooser opened a picture, an atlas and weights; Share made ${s.share_dialog.link}`);
  execFileSync('import', ['-window', 'root', '-crop', '1280x800+0+0', path.join(outDir, 'share-dialog.png')], { env });
  a.child.kill();
  ok = true;
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  stop();
}
if (ok) console.log(`desktop truth test passed; screenshots in ${outDir}`);
