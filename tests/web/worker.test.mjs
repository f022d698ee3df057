// The engine in its Web Worker (the page's default): what a student waits for with the full-size VGG16 (F16, made by
// `lrpscope convert`, served from localhost), each figure as a ratio to the benchmark of the same WebAssembly build
// (`scripts/bench --target wasm`) measured in the same run, and the interface thread while the engine computes
// (requestAnimationFrame gaps: a long task on the page's thread delays them).
//   node tests/web/worker.test.mjs DIST_DIR LRPSCOPE_CLI WORK_DIR [worker|threaded|inline]
// worker: a page that is not cross-origin isolated (an iframe in a course platform: the single-threaded engine);
// threaded: an isolated page (the pthreads engine in the worker, against the threaded benchmark on every core);
// inline: the engine inside the page's frames (?engine=inline: the comparison; nothing is asserted of it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, state, waitFor } from './browser.mjs';

const [dist, cli, work, mode = 'worker'] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const models = path.join(work, 'models');
fs.mkdirSync(models, { recursive: true });
const vgg = path.join(models, 'vgg16.safetensors');
const f16 = path.join(models, 'vgg16-f16.safetensors');
if (!fs.existsSync(f16)) {
  execFileSync(cli, ['make-random', '--arch', 'vgg16', '--seed', '1', '--out', vgg, '--threads', '2']);
  execFileSync(cli, ['convert', '--model', vgg, '--out', f16, '--dtype', 'f16']);
  fs.rmSync(vgg);
}
// the benchmark: the same WebAssembly engine under Node, on the same checkpoint (one thread; every core for threaded),
// keeping every packing (the CLI's way: the figures' reference) and with the app's memory policy for big models
// (bounded: the page's own kernels, for comparison)
const threads = mode === 'threaded' ? os.cpus().length : 1;
const wasmCli = path.join(root, mode === 'threaded' ? 'build/wasm-mt/lrpscope.js' : 'build/wasm/lrpscope.js');
function runBench(memory) {
  const j = JSON.parse(execFileSync('node', ['--no-experimental-fetch', wasmCli, 'bench', '--explain', '--threads', String(threads),
                                             '--model', f16, '--runs', '1', '--presets', 'epsilon-gamma-box', '--memory', memory, '--json'],
                                    { encoding: 'utf8', env: { ...process.env, NODE_PATH: '/usr/share/nodejs' } }));
  const x = { forward: j.forward_ms, lrp: j.explain_ms['epsilon-gamma-box'], graph: j.graph_ms, deconv: j.deconv_ms, guided: j.guided_ms, cond: j.conditional_ms };
  console.log(`bench (wasm, ${threads} thread(s), F16 VGG16, memory ${memory}): forward ${x.forward.toFixed(0)} ms, LRP ` +
              `${x.lrp.toFixed(0)} ms (the first ${j.first_explain_ms['epsilon-gamma-box'].toFixed(0)} ms), graph ` +
              `${x.graph.toFixed(0)} ms, conditional ${x.cond.toFixed(0)} ms, deconvnet ${x.deconv.toFixed(0)} ms, guided ` +
              `${x.guided.toFixed(0)} ms; peak ${j.peak_mb.toFixed(0)} MB`);
  return x;
}
const b = runBench('all'), bb = runBench('bounded');

// not cross-origin isolated (what an iframe in a course platform gets), except for the threaded engine
const server = await serve(dist, '/', ['--mount', `/models/=${models}`, ...(mode === 'threaded' ? [] : ['--no-isolation'])]);
const { page, logs, close } = await launch(1280, 800, 1);
const rows = [];
// each figure against the reference bench and against the bench with the page's memory policy
const ratio = (what, ms, part) => {
  const ref = part(b), refb = part(bb);
  rows.push({ what, ms, ref, r: ms / ref, refb, rb: ms / refb });
  console.log(`${what}: ${ms.toFixed(0)} ms = ${(ms / ref).toFixed(2)} x bench (${ref.toFixed(0)} ms), ` +
              `${(ms / refb).toFixed(2)} x bench with the same memory policy (${refb.toFixed(0)} ms)`);
};
try {
  await page.goto(server.url + (mode === 'inline' ? '?engine=inline' : ''));
  let s = await waitFor(page, (x) => x.selected_neuron && !x.busy, 90000, 'the default model');
  assert.equal(s.engine, mode === 'inline' ? 'inline' : 'worker');
  const module = await page.evaluate(() => window.lrpscope.module);
  console.log(`engine: ${s.engine}, ${module} module`);
  assert.equal(module, mode === 'threaded' ? 'threaded' : 'single-threaded');
  // the interface thread's frames: a recorder of animation-frame gaps
  await page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    const f = (t) => { window.__gaps.push(t - last); last = t; requestAnimationFrame(f); };
    requestAnimationFrame(f);
  });
  const gapsSince = async (i0) => page.evaluate((i) => window.__gaps.slice(i), i0);
  const mark = async () => page.evaluate(() => window.__gaps.length);
  // the full-size model by URL: downloaded by the worker into its own memory
  const t0 = Date.now();
  await page.evaluate(() => window.lrpscope.loadModelUrl('/models/vgg16-f16.safetensors'));
  const loaded = Date.now();
  const g0 = await mark();
  await page.evaluate(() => window.Module.ccall('lrpscope_do_load_sample', 'number', ['string'], ['imagenet/chelsea']));
  const tPic = Date.now();
  let heatAt = 0;
  for (;;) {
    s = await state(page);
    if (!heatAt && s.image === 'imagenet/chelsea' && s.input_relevance_sum !== undefined && s.model_bytes > 100e6) heatAt = Date.now();
    if (heatAt && s.selected_neuron && !s.busy) break;
    assert.ok(Date.now() - tPic < 600000, 'the full-size explanation did not finish');
    await page.waitForTimeout(20);
  }
  const doneAt = Date.now();
  const gaps = await gapsSince(g0);
  console.log(`download + adoption ${loaded - t0} ms; interface ${s.heap_mb.toFixed(0)} MB, engine ${s.engine_heap_mb.toFixed(0)} MB`);
  const tm = s.timings;
  console.log(`the engine's own timings: forward ${tm.forward_ms.toFixed(0)} ms, LRP ${tm.lrp_ms.toFixed(0)} ms, ` +
              `graph ${tm.graph_ms.toFixed(0)} ms, neuron detail ${tm.detail_ms.toFixed(0)} ms`);
  ratio('first heatmap (picture to heatmap)', heatAt - tPic, (x) => x.forward + x.lrp);
  // (the neuron detail shows the conditional heatmap, the deconvnet and the guided-backpropagation reconstructions)
  ratio('graph and neuron detail (heatmap to detail)', doneAt - heatAt, (x) => x.graph + x.cond + x.deconv + x.guided);
  const worst = Math.max(...gaps), mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  console.log(`interface thread while the engine computed: ${(1000 / mean).toFixed(1)} animation frames/s, ` +
              `longest gap ${worst.toFixed(0)} ms (${gaps.length} frames)`);
  // a class change
  const cls = s.logits.map((v, i) => [v, i]).sort((x, y) => y[0] - x[0])[1][1];
  const g1 = await mark();
  const t1 = Date.now();
  await page.evaluate((c) => window.Module.ccall('lrpscope_do_select_class', 'number', ['number'], [c]), cls);
  // (to the new class's heatmap: the graph and the neuron detail follow, as after the first heatmap)
  for (;;) {
    s = await state(page);
    if (s.target === cls && s.input_relevance_sum !== undefined) break;
    assert.ok(Date.now() - t1 < 300000, 'the class change did not finish');
    await page.waitForTimeout(20);
  }
  ratio('class change (to its heatmap)', Date.now() - t1, (x) => x.lrp);
  s = await waitFor(page, (x) => !x.busy, 300000, 'the class change to settle');
  const gaps1 = await gapsSince(g1);
  // a neuron to its detail
  const t2 = Date.now();
  await page.evaluate(() => window.Module.ccall('lrpscope_do_select_neuron', 'number', ['string', 'number'], ['features.28', 7]));
  s = await waitFor(page, (x) => x.selected_neuron && x.selected_neuron.index === 7 && !x.busy, 300000, 'the neuron detail');
  ratio('neuron to its detail', Date.now() - t2, (x) => x.cond + x.deconv + x.guided);
  const all = gaps.concat(gaps1);
  const longest = Math.max(...all);
  console.log('| what | page (ms) | bench (ms) | ratio | bench, same memory policy (ms) | ratio |');
  for (const r of rows)
    console.log(`| ${r.what} | ${r.ms.toFixed(0)} | ${r.ref.toFixed(0)} | ${r.r.toFixed(2)} | ${r.refb.toFixed(0)} | ${r.rb.toFixed(2)} |`);
  console.log(`| longest gap between the interface's frames | ${longest.toFixed(0)} | | | | |`);
  if (mode !== 'inline') {
    // the interface module holds no weights
    assert.ok(s.heap_mb < 100, `the interface module uses ${s.heap_mb} MB`);
    assert.ok(s.engine_heap_mb > 250, `the engine module holds ${s.engine_heap_mb} MB: where are the weights?`);
    // the page's thread is never blocked by the engine (the engine inline in the page blocks it for whole steps:
    // several hundred ms with this model)
    assert.ok(longest < 250, `the interface thread stalled for ${longest} ms`);
  }
  console.log(`${mode} test passed`);
} catch (e) {
  console.error(e);
  if (logs) console.error(logs.slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  await close().catch(() => {});
  server.stop();
}
