// Web delivery: dist/ under a sub-path, embed mode with URL parameters, share + permalink, the full-size VGG16
// over HTTP (progress, logits against the native CLI, the browser cache on reload), from a file input, sharded
// int8 weights, and bad downloads. Needs a few GB of RAM.
//   node tests/web/delivery.test.mjs DIST_DIR LRPSCOPE_CLI WORK_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, state, waitFor } from './browser.mjs';

const [dist, cli, workBase, mode = 'threaded'] = process.argv.slice(2);
const work = path.join(workBase, mode);
fs.mkdirSync(work, { recursive: true });
const models = path.join(workBase, 'models');
fs.mkdirSync(models, { recursive: true });
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const vgg = path.join(models, 'vgg16.safetensors');
if (!fs.existsSync(vgg)) execFileSync(cli, ['make-random', '--arch', 'vgg16', '--seed', '1', '--out', vgg, '--threads', '2']);
const int8 = path.join(models, 'vgg16-int8.safetensors');
if (!fs.existsSync(path.join(models, 'vgg16-int8.safetensors.index.json')))
  execFileSync(cli, ['convert', '--model', vgg, '--out', int8, '--dtype', 'int8', '--shard-mb', '60']);
const f16 = path.join(models, 'vgg16-f16.safetensors');
if (!fs.existsSync(f16)) execFileSync(cli, ['convert', '--model', vgg, '--out', f16, '--dtype', 'f16']);
fs.writeFileSync(path.join(models, 'not-a-model.safetensors'), 'hello, this is text');
const huge = path.join(models, 'huge-input.safetensors');  // a small VGG that would need > 4 GB of activations
if (!fs.existsSync(huge))
  execFileSync(cli, ['make-random', '--arch', 'vgg16', '--seed', '2', '--width-div', '8', '--input', '4096', '--classes', '10', '--out', huge]);
fs.writeFileSync(path.join(models, 'truncated.safetensors'), fs.readFileSync(vgg).subarray(0, 5_000_000));
const chelsea = path.join(root, 'assets/samples/imagenet/chelsea.png');
const want = JSON.parse(execFileSync(cli, ['predict', '--model', vgg, '--image', chelsea, '--json', '--threads', '2'], { encoding: 'utf8' }));

const base = '/course/lrpscope/';
// threaded: COOP/COEP headers, so the page picks the pthreads module; single: no isolation, the single-threaded one
const server = await serve(dist, base, ['--mount', `/models/=${models}`, '--mount', `/ckpt/=${path.join(root, 'tests/fixtures/checkpoints')}`,
                                        ...(mode === 'single' ? ['--no-isolation'] : [])]);
const { page, logs, close } = await launch(1100, 700, 1);
const requests = [];
const heads = [];  // revalidations of cached weights (HEAD requests, no body)
page.on('request', (r) => (r.method() === 'HEAD' ? heads : requests).push(r.url()));
const shots = path.join(work, 'screenshots');
fs.mkdirSync(shots, { recursive: true });
async function ready(timeout = 120000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    if (await page.evaluate(() => window.lrpscope && window.lrpscope.ready)) return;
    await page.waitForTimeout(100);
  }
  throw new Error('the page did not apply its URL state');
}
// the engine's memory: its worker's module (the page's default), or the page's own module with ?engine=inline; the
// interface module beside a worker holds no weights
function engineHeap(s) {
  if (s.engine !== 'worker') return s.heap_mb;
  assert.ok(s.heap_mb < 100, `the interface module uses ${s.heap_mb} MB`);
  return s.engine_heap_mb;
}
function maxAbsDiff(a, b) { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; }

try {
  // 1. embed mode with parameters, from a sub-path
  const params = 'embed=1&image=fashion/coat-1&target=4&composite=montavon&layers=conv4_3,conv5_3,fc6&k=3&panel=graph' +
                 '&cmap=seismic&alpha=0.6&neuron=features.28:5';
  await page.goto(server.url + '?' + params);
  await ready();
  const module = await page.evaluate(() => window.lrpscope.module);
  assert.equal(module, mode === 'single' ? 'single-threaded' : 'threaded');
  console.log(`module: ${module}`);
  let s = await waitFor(page, (x) => x.image === 'fashion/coat-1' && x.composite === 'montavon' && x.selected_neuron, 60000, 'the embed state');
  assert.equal(s.embed, true);
  assert.equal(s.target, 4);
  assert.deepEqual(s.graph_layers, ['features.21', 'features.28', 'classifier.0', 'classifier.6']);
  assert.equal(s.graph_k, 3);
  assert.equal(s.cmap, 'seismic');
  assert.ok(Math.abs(s.alpha - 0.6) < 1e-6);
  assert.equal(`${s.selected_neuron.layer}:${s.selected_neuron.index}`, 'features.28:5');
  assert.equal(s.error, '');
  await page.screenshot({ path: path.join(shots, '01-embed.png') });
  console.log('embed mode from a sub-path: state matches the URL');

  // 2. share, then reload the permalink
  const r = s.rects.share;
  await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
  await page.waitForTimeout(80);
  await page.mouse.down();
  await page.waitForTimeout(80);
  await page.mouse.up();
  await page.waitForTimeout(300);
  const share = await page.evaluate(() => window.lrpscope.lastShare);
  const dialog = (await state(page)).share_dialog;
  assert.ok(share && share.link.includes(base) && dialog.link === share.link && dialog.snippet.startsWith('<iframe'),
            JSON.stringify([share, dialog]));
  await page.screenshot({ path: path.join(shots, '02-share.png') });
  await page.goto(share.link);
  await ready();
  const s2 = await waitFor(page, (x) => x.image === 'fashion/coat-1' && x.selected_neuron, 60000, 'the permalink state');
  for (const k of ['embed', 'target', 'composite', 'graph_layers', 'graph_k', 'cmap', 'selected_neuron'])
    assert.deepEqual(s2[k] && s2[k].index !== undefined ? [s2[k].layer, s2[k].index] : s2[k],
                     s[k] && s[k].index !== undefined ? [s[k].layer, s[k].index] : s[k], k);
  console.log(`share: ${share.link}`);

  // 3. the full-size VGG16 over HTTP, with a progress bar, against the native CLI
  requests.length = 0;
  const t0 = Date.now();
  await page.goto(server.url + '?model=/models/vgg16.safetensors&image=imagenet/chelsea');
  let sawProgress = false;
  for (let i = 0; i < 600 && !sawProgress; i++) {
    const st = await state(page);
    if (st && st.download && st.download.active && st.download.loaded > 0) sawProgress = true;
    else await page.waitForTimeout(50);
  }
  assert.ok(sawProgress, 'no download progress seen');
  await page.screenshot({ path: path.join(shots, '03-download.png') });
  await ready(300000);
  // the page's thread stays free while the full-size explanation runs: the gaps between its animation frames (a long
  // task on it delays them); the app itself draws progress a few times a second and new results at once
  await page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    const f = (t) => { window.__gaps.push(t - last); last = t; requestAnimationFrame(f); };
    requestAnimationFrame(f);
  });
  const busy = [];
  let heatmapAt = 0;
  for (let i = 0; i < 3000; i++) {
    const st = await state(page);
    if (!heatmapAt && st && st.model_bytes > 500e6 && st.input_relevance_sum !== undefined && st.image === 'imagenet/chelsea') heatmapAt = Date.now();
    if (st && st.model_bytes > 500e6 && st.busy) busy.push([Date.now(), st.frames]);
    if (st && st.model_bytes > 500e6 && !st.busy && st.graph_nodes > 0 && st.image === 'imagenet/chelsea') break;
    await page.waitForTimeout(250);
  }
  s = await waitFor(page, (x) => x.model_bytes > 500e6 && x.image === 'imagenet/chelsea', 300000, 'the full-size VGG16');
  const firstHeatmapMs = Date.now() - t0;
  const gaps = await page.evaluate(() => window.__gaps.slice(1));
  const meanGap = gaps.reduce((x, y) => x + y, 0) / Math.max(1, gaps.length), longest = Math.max(...gaps);
  const drawn = busy.length > 1 ? (busy[busy.length - 1][1] - busy[0][1]) / ((busy[busy.length - 1][0] - busy[0][0]) / 1000) : 0;
  console.log(`while the ImageNet explanation ran: the page's thread ${(1000 / meanGap).toFixed(1)} animation frames/s, ` +
              `longest gap ${longest.toFixed(0)} ms; the app drew ${drawn.toFixed(1)} frames/s (${s.engine} engine)`);
  assert.ok(1000 / meanGap >= 30, `the page's thread was busy: ${(1000 / meanGap).toFixed(1)} animation frames/s`);
  // (one hiccup of the page's thread is the machine's, as when the compositor waits for a core: work that is not
  // sliced shows as a gap at every slice, so the second longest gap must be short too, and none very long)
  const [first, second] = [...gaps].sort((x, y) => y - x);
  assert.ok(first < 500 && (second || 0) < 250, `the page's thread stalled for ${first.toFixed(0)} ms and ${(second || 0).toFixed(0)} ms`);
  assert.equal(s.predicted, want.top[0].index);
  const scale = Math.max(...want.logits.map(Math.abs));
  const diff = maxAbsDiff(s.logits, want.logits);
  assert.ok(diff <= 1e-3 * scale, `logits differ by ${diff} (scale ${scale})`);
  const load1 = await page.evaluate(() => window.lrpscope.lastLoad);
  assert.equal(load1.fromCache, false);
  await page.screenshot({ path: path.join(shots, '04-vgg16.png') });
  console.log(`WebAssembly heap after the fp32 VGG16 explanation (its peak): engine ${Math.round(engineHeap(s))} MB, ` +
              `interface ${Math.round(s.heap_mb)} MB`);
  assert.ok(engineHeap(s) <= 2048, `the fp32 VGG16 needed ${engineHeap(s)} MB`);
  // the optimiser and pixel flipping of the full-size VGG16 run in slices too: the page's thread stays free; Cancel
  // stops them
  for (const [hook, arg, label] of [['lrpscope_do_run_optimizer', 'features.28', 'optimiser'],
                                    ['lrpscope_do_run_flipping', 'epsilon', 'pixel flipping']]) {
    await page.evaluate(([h, a]) => window.Module.ccall(h, 'number', ['string'], [a]), [hook, arg]);
    await page.waitForTimeout(500);
    const g0 = await page.evaluate(() => window.__gaps.length);
    await page.waitForTimeout(4000);
    const a1 = await state(page);
    const g = await page.evaluate((i) => window.__gaps.slice(i), g0);
    const fps = 1000 * g.length / g.reduce((x, y) => x + y, 0);
    assert.ok(a1.busy && a1.progress_label.startsWith(label), `${label} is not running: ${a1.progress_label}`);
    console.log(`while the ${label} ran on the full VGG16: the page's thread ${fps.toFixed(1)} animation frames/s, ` +
                `longest gap ${Math.max(...g).toFixed(0)} ms; progress ${(100 * a1.progress).toFixed(1)} %`);
    const [g1, g2] = [...g].sort((x, y) => y - x);
    assert.ok(fps >= 30 && g1 < 500 && (g2 || 0) < 250, `the page's thread was held up during the ${label} (gaps ${g1} and ${g2} ms)`);
    await page.evaluate(() => window.Module.ccall('lrpscope_do_cancel', 'number', [], []));
    await page.waitForTimeout(300);
    assert.equal((await state(page)).busy, false, `Cancel did not stop the ${label}`);
  }
  console.log(`full-size VGG16 over HTTP: download ${Math.round(load1.ms)} ms, heatmap after ${heatmapAt - t0} ms, ` +
              `graph and neuron detail after ${firstHeatmapMs} ms; ` +
              `max |logit diff| ${diff.toExponential(2)} vs the CLI`);

  // 4. reload: the weights come from the cache (no request for them)
  requests.length = 0;
  await page.reload();
  await ready(300000);
  s = await waitFor(page, (x) => x.model_bytes > 500e6, 300000, 'the cached VGG16');
  const load2 = await page.evaluate(() => window.lrpscope.lastLoad);
  assert.equal(load2.fromCache, true);
  assert.equal(requests.filter((u) => new URL(u).pathname === '/models/vgg16.safetensors').length, 0, 'the weights were fetched again');
  assert.ok(heads.some((u) => new URL(u).pathname === '/models/vgg16.safetensors'), 'the cached copy was not revalidated');
  console.log(`reload: from the browser cache in ${Math.round(load2.ms)} ms (revalidated with a HEAD request)`);

  // 5. sharded int8 weights over HTTP, in a fresh page (the heap only grows: this measures the int8 peak)
  await page.goto(server.url + '?model=/models/vgg16-int8.safetensors.index.json&image=imagenet/chelsea');
  await ready(300000);
  s = await waitFor(page, (x) => x.model_source.endsWith('vgg16-int8.safetensors.index.json') && x.image === 'imagenet/chelsea' &&
                    !x.busy && x.graph_nodes > 0, 300000, 'the sharded int8 VGG16 in a fresh page');
  console.log(`WebAssembly heap after the int8 VGG16 explanation (its peak): ${Math.round(engineHeap(s))} MB; ` +
              `predicted ${s.predicted} (fp32 ${want.top[0].index})`);
  assert.ok(engineHeap(s) <= 1024, `the int8 VGG16 needed ${engineHeap(s)} MB (more than 1 GB)`);
  // F16 weights (one file) in a fresh page: also inside 1 GB
  await page.goto(server.url + '?model=/models/vgg16-f16.safetensors&image=imagenet/chelsea');
  await ready(300000);
  s = await waitFor(page, (x) => x.model_source.endsWith('vgg16-f16.safetensors') && x.image === 'imagenet/chelsea' &&
                    !x.busy && x.graph_nodes > 0, 300000, 'the F16 VGG16 in a fresh page');
  console.log(`WebAssembly heap after the F16 VGG16 explanation (its peak): ${Math.round(engineHeap(s))} MB; ` +
              `predicted ${s.predicted} (fp32 ${want.top[0].index})`);
  assert.ok(engineHeap(s) <= 1024, `the F16 VGG16 needed ${engineHeap(s)} MB (more than 1 GB)`);
  assert.equal(s.predicted, want.top[0].index);
  await page.evaluate(() => window.lrpscope.loadModelUrl('/models/vgg16-int8.safetensors.index.json'));
  s = await waitFor(page, (x) => x.model_source.endsWith('vgg16-int8.safetensors.index.json'), 300000, 'the sharded int8 VGG16');
  console.log(`sharded int8 VGG16: predicted ${s.predicted} (fp32 ${want.top[0].index})`);

  // 6. bad downloads keep the previous model and say why
  const before = s.model_source;
  for (const [url, text] of [['/models/missing.safetensors', 'HTTP 404'], ['/models/not-a-model.safetensors', 'not a safetensors'],
                             ['/models/truncated.safetensors', 'truncated']]) {
    await page.evaluate((u) => window.lrpscope.loadModelUrl(u), url);
    s = await state(page);
    assert.ok(s.error.includes(text), `${url}: "${s.error}"`);
    assert.equal(s.model_source, before);
    console.log(`${url}: "${s.error}"`);
  }
  await page.screenshot({ path: path.join(shots, '05-bad-download.png') });

  // the browser cache never keeps a broken download, and notices when the server's copy changes
  const swap = path.join(models, `swap-${mode}.safetensors`);
  const small = path.join(models, 'small.safetensors');
  if (!fs.existsSync(small))
    execFileSync(cli, ['make-random', '--arch', 'vgg16', '--seed', '9', '--width-div', '16', '--classes', '10', '--input', '32', '--out', small]);
  const fashion = path.join(root, 'assets/models/fashion-vgg16.safetensors');
  fs.writeFileSync(swap, fs.readFileSync(fashion).subarray(0, 1_000_000));  // a cut-short file
  const swapUrl = `/models/swap-${mode}.safetensors`;
  await page.evaluate((u) => window.lrpscope.loadModelUrl(u), swapUrl);
  s = await state(page);
  assert.ok(s.error.includes('truncated') || s.error.includes('outside'), s.error);
  fs.copyFileSync(fashion, swap);  // the server's copy is fixed
  await page.evaluate((u) => window.lrpscope.loadModelUrl(u), swapUrl);
  let load = await page.evaluate(() => window.lrpscope.lastLoad);
  assert.ok(load.ok && !load.fromCache, `after the fix: ${JSON.stringify(load)}`);
  await page.reload();
  await ready();
  await page.evaluate((u) => window.lrpscope.loadModelUrl(u), swapUrl);
  load = await page.evaluate(() => window.lrpscope.lastLoad);
  assert.ok(load.ok && load.fromCache, `the good copy is cached: ${JSON.stringify(load)}`);
  fs.copyFileSync(small, swap);  // the server's copy changes: the cached one is stale
  await page.evaluate((u) => window.lrpscope.loadModelUrl(u), swapUrl);
  load = await page.evaluate(() => window.lrpscope.lastLoad);
  s = await state(page);
  assert.ok(load.ok && !load.fromCache && s.model_bytes === fs.statSync(small).size, `after a change: ${JSON.stringify(load)}`);
  console.log('browser cache: a broken download is not kept; a changed server copy replaces the cached one');

  // a model too large for the tab's memory: refused with a clear message before anything is allocated
  await page.evaluate(() => window.lrpscope.loadModelUrl('/models/huge-input.safetensors'));
  s = await waitFor(page, (x) => x.error.includes('not enough memory'), 60000, 'the memory message');
  console.log(`too large: "${s.error}"`);

  // cancel a download (a URL the cache does not hold, so the weights really come over the network)
  await page.goto(server.url);
  await ready();
  s = await waitFor(page, (x) => x.model === 'fashion-vgg16', 60000, 'the default model again');
  page.evaluate(() => window.lrpscope.loadModelUrl('/models/vgg16.safetensors?uncached=1'));
  let st2 = null;
  for (let i = 0; i < 400; i++) {
    st2 = await state(page);
    if (st2.download.active && st2.rects['download:cancel']) break;
    await page.waitForTimeout(25);
  }
  const c = st2.rects['download:cancel'];
  await page.mouse.move((c[0] + c[2]) / 2, (c[1] + c[3]) / 2);
  await page.waitForTimeout(80);
  await page.mouse.down();
  await page.waitForTimeout(80);  // ImGui needs to see the press and the release in different frames
  await page.mouse.up();
  s = await waitFor(page, (x) => x.error.includes('cancelled'), 60000, 'the cancel message');
  assert.equal(s.model, 'fashion-vgg16');
  console.log(`cancel: "${s.error}"`);

  // 7. weights from the file input (the default model file: the page stays small)
  await page.setInputFiles('#file-model', path.join(root, 'assets/models/fashion-vgg16.safetensors'));
  s = await waitFor(page, (x) => x.model === 'fashion-vgg16', 60000, 'the model from the file input');
  console.log('weights from the file input: ok');
  // 8. a PyTorch .pth from the file input (a batch-norm VGG16: canonised), then one whose pickle would run a command
  const ckpt = path.join(root, 'tests/fixtures/checkpoints');
  await page.setInputFiles('#file-model', path.join(ckpt, 'vgg16_bn_tv.pth'));
  s = await waitFor(page, (x) => x.model_arch === 'vgg16_bn' && /BatchNorm2d folded/.test(x.model_canonised) && x.selected_neuron,
                    60000, 'the .pth from the file input');
  await page.setInputFiles('#file-model', path.join(ckpt, 'evil.pth'));
  s = await waitFor(page, (x) => /refused: the pickle names the global 'posix\.system'/.test(x.error), 60000, 'the refused pickle');
  assert.equal(s.model_arch, 'vgg16_bn', 'the refused file replaced the model');
  console.log(`a .pth from the file input: vgg16_bn, canonised; a pickle that calls os.system: "${s.error}"`);
  // 9. an ONNX model from the file input (timm's layout, 224x224), then by ?model=URL: the model zoo's layout with
  // BatchNormalization nodes, a .pth, and a graph that is not a VGG (its error names the file). (In one module:
  // both read the same bytes with the same code.)
  if (mode === 'single') {
    await page.setInputFiles('#file-model', path.join(ckpt, 'vgg11_timm.onnx'));
    s = await waitFor(page, (x) => x.model_arch === 'vgg11' && x.selected_neuron, 60000, 'the .onnx from the file input');
    for (const [file, arch] of [['vgg11_bn_zoo.onnx', 'vgg11_bn'], ['vgg16_bn_tv.pth', 'vgg16_bn']]) {
      await page.goto(server.url + `?model=/ckpt/${file}&image=imagenet/chelsea`);
      s = await waitFor(page, (x) => x.model_arch === arch && /BatchNorm2d folded/.test(x.model_canonised) && x.selected_neuron,
                        60000, `?model= of ${file}`);
    }
    await page.goto(server.url + '?model=/ckpt/bad_branch.onnx&image=imagenet/chelsea');
    s = await waitFor(page, (x) => /'bad_branch\.onnx' is not a VGG lrpscope can read: node 'c1' \(Conv\)/.test(x.error), 60000,
                      'the refused ONNX graph');
    console.log(`ONNX from the file input and by URL (zoo layout, canonised), a .pth by URL; a branchy graph: "${s.error}"`);
  }
  console.log('delivery test passed');
} catch (e) {
  console.error(e);
  console.error(logs.slice(-20).join('\n'));
  await page.screenshot({ path: path.join(shots, 'failure.png') }).catch(() => {});
  process.exitCode = 1;
} finally {
  await close();
  server.stop();
}
