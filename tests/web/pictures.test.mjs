// Pictures in the page are decoded by the browser: EXIF orientation honoured, WebP and AVIF read, alpha filled with
// the model's background, damaged files refused with a true message (the previous picture stays), PPM decoded by
// the engine, and a 143 KB PNG of 7000 x 7000 pixels uploaded 50 times without the heap growing.
//   node tests/web/pictures.test.mjs DIST CLI OUT_DIR
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch, serve, waitFor, state } from './browser.mjs';
import { decodePng, encodePng } from './png.mjs';
import { readNpy, channelSum, sampleCells, assertUpright } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const fixture = (n) => path.join(root, 'tests', 'fixtures', 'images', n);
const model = path.join(root, 'assets', 'models', 'fashion-vgg16.safetensors');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });

// what the CLI (the engine's own decoder) feeds the default model for the upright picture: the reference
const npy = path.join(outDir, 'npy-upright');
run(['explain', '--model', model, '--image', fixture('upright.png'), '--npy-dir', npy]);
const ref = channelSum(readNpy(path.join(npy, 'input.npy')));
// the picture fills only part of the model's input (fitted into 28 x 28 on a 32 x 32 dark background): compare
// orientation inside that box, where a flip changes what is seen
const pad = ref.v[0];
let box = [ref.w, ref.h, -1, -1];
for (let y = 0; y < ref.h; y++) for (let x = 0; x < ref.w; x++) if (Math.abs(ref.v[y * ref.w + x] - pad) > 1e-3)
  box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)];
const crop = (v) => {
  const out = [];
  for (let y = box[1]; y <= box[3]; y++) for (let x = box[0]; x <= box[2]; x++) out.push(v[y * ref.w + x]);
  return out;
};
const bw = box[2] - box[0] + 1, bh = box[3] - box[1] + 1;
const upright = (drawn, what) => assertUpright(crop(drawn), crop(ref.v), bw, bh, what);

const server = await serve(dist);
const { page, logs, close } = await launch(1280, 800);
let s;
const settled = (pred, what) => waitFor(page, pred, 60000, what);
async function upload(file, name = path.basename(file)) {
  await page.setInputFiles('#file-image', file);
  return settled((x) => x.image === name && x.selected_neuron, `the picture ${name}`);
}
async function drawnInput() {
  const img = decodePng(await page.screenshot());
  return sampleCells(img, s.rects['heatmap:image'], ref.w, ref.h).luma;
}

try {
  await page.goto(server.url + '?single&mode=side');
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
  s = await settled((x) => x.selected_neuron, 'the first explanation');
  await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
  assert.equal(s.app.mode, 'side', 'the side-by-side view (input next to heatmap) was not opened by the link');

  // ---- 1. the asymmetric picture in every container the browser reads, the right way up
  s = await upload(fixture('upright.png'));
  console.log(upright(await drawnInput(), 'upright.png'));
  for (const name of ['exif-orientation-6.jpg', 'exif-orientation-8.jpg', 'exif-orientation-2.jpg', 'upright.webp',
                      'upright.avif']) {
    s = await upload(fixture(name));
    assert.deepEqual([s.picture.width, s.picture.height], [48, 32], `${name}: not shown 48 x 32 (upright)`);
    console.log(upright(await drawnInput(), name));
  }

  // ---- 2. transparency: filled with the model's background (black, after inverting a dark garment)
  for (const [name, inverted] of [['dark-on-transparent.png', true], ['light-on-transparent.png', false]]) {
    s = await upload(fixture(name));
    assert.equal(s.picture.alpha, true, `${name}: alpha was dropped`);
    const luma = await drawnInput();
    const at = (x, y) => luma[y * ref.w + x];
    assert.ok(at(16, 16) > 150, `${name}: the garment is not light on the model's input (${at(16, 16)})`);
    assert.ok(at(8, 16) < 40 && at(16, 1) < 40, `${name}: the transparent part is not the dark background (${at(8, 16)}, ${at(16, 1)})`);
    assert.ok(s.picture_note.includes("the model's dark background where it is transparent"), `${name}: the note does not say so: ${s.picture_note}`);
    console.log(`${name}: garment ${at(16, 16).toFixed(0)}, background ${at(8, 16).toFixed(0)}, inverted ${inverted}; ${s.picture_note}`);
  }

  // ---- 3. damaged files: a true message, and the previous picture stays
  const before = s.image;
  for (const [file, expect] of [[path.join(root, 'tests/fuzz/regressions/image-jpeg-cut.jpg'), 'the JPEG is damaged or cut short'],
                                [path.join(root, 'tests/fuzz/regressions/image-jpeg-dht-overflow.jpg'), 'the JPEG is damaged or cut short'],
                                [path.join(root, 'tests/fuzz/regressions/image-png-empty-chunk.png'), 'the PNG is damaged']]) {
    await page.setInputFiles('#file-image', file);
    s = await settled((x) => x.error && x.error.includes(path.basename(file)), `the message for ${path.basename(file)}`);
    assert.ok(s.error.includes(expect), `${path.basename(file)}: "${s.error}" does not say "${expect}"`);
    assert.equal(s.image, before, 'a refused picture replaced the previous one');
    console.log(`${path.basename(file)}: ${s.error}`);
    await page.evaluate(() => window.Module.ccall('lrpscope_do_report_error', null, ['string'], ['']));
  }

  // ---- 4. PPM, which browsers do not read: decoded by the engine
  const ppm = fixture('upright.ppm');
  s = await upload(ppm);
  console.log(upright(await drawnInput(), 'upright.ppm'));

  // ---- 5. a 143 KB PNG of 7000 x 7000 pixels, 50 times: reduced while the browser draws it, the heap stays put
  const N = 7000;
  const rgb = Buffer.alloc(N * N * 3, 128);
  for (let y = 0; y < 2000; y++) for (let x = 0; x < 2000; x++) rgb.fill(0, (y * N + x) * 3, (y * N + x) * 3 + 3);
  const bomb = path.join(outDir, 'big-7000.png');
  fs.writeFileSync(bomb, encodePng(N, N, rgb));
  const kb = fs.statSync(bomb).size / 1024;
  s = await state(page);
  // both modules: the interface's (which decodes and sends the picture) and the engine's (which keeps it)
  const mem = (x) => ({ heap: x.heap_mb, used: x.heap_used_mb, eheap: x.engine_heap_mb || 0, eused: x.engine_heap_used_mb || 0 });
  const start = mem(s);
  const seen = [];
  for (let i = 0; i < 50; i++) {
    const name = `big-${i}.png`;
    const f = path.join(outDir, name);
    fs.copyFileSync(bomb, f);
    s = await upload(f, name);
    seen.push(mem(s));
    fs.rmSync(f);
    if (i === 0) {
      assert.deepEqual([s.picture.shown_width, s.picture.shown_height], [N, N]);
      assert.ok(s.picture.width * s.picture.height <= 1000000, `kept ${s.picture.width} x ${s.picture.height}`);
      const luma = await drawnInput();
      assert.ok(luma[4 * ref.w + 4] < luma[4 * ref.w + ref.w - 5] - 40, 'the dark block is not in the top-left corner');
    }
  }
  for (const [k, u, what] of [['heap', 'used', 'interface module'], ['eheap', 'eused', 'engine module']]) {
    if (!start[k]) continue;  // (the engine inside the page: one module)
    console.log(`${what}: heap after each upload (MB): ` + seen.map((x) => x[k].toFixed(0)).join(' '));
    // the first few settle the buffers a picture passes through (the one the page writes pixels into, the message
    // to the engine, the picture kept: each at most a megapixel, 3 MB); after that, 45 more replacements leave the
    // heap where they left it
    const first = seen.slice(0, 5), rest = seen.slice(5);
    const top = (xs, key) => Math.max(...xs.map((x) => x[key]));
    console.log(`7000x7000 PNG (${kb.toFixed(0)} KB) x 50, ${what}: heap ${start[k].toFixed(1)} MB before, ` +
                `at most ${top(first, k).toFixed(1)} over the first 5, ${top(rest, k).toFixed(1)} over the 45 after; ` +
                `allocated ${start[u].toFixed(1)} MB before, at most ${top(first, u).toFixed(1)}, then ${top(rest, u).toFixed(1)}`);
    // (the heap grows 16 MB at a time: two steps at most)
    assert.ok(top(first, k) - start[k] <= 32, `${what}: the first 7000 x 7000 pictures grew the heap by ${top(first, k) - start[k]} MB`);
    // what is allocated must stay put (a leak of one picture's 3 MB each time would add 135 MB); the heap itself may
    // take one more step of at most 16 MB, once, to fragmentation that depends on how the work of one upload
    // interleaves with the messages of the next (seen in 1 run of 7: 40 -> 48 MB at the tenth, allocated flat)
    assert.ok(top(rest, k) <= top(first, k) + 16, `${what}: the heap grew from ${top(first, k)} MB to ${top(rest, k)} MB over 45 uploads`);
    const steps = rest.filter((x, i) => i > 0 && x[k] > rest[i - 1][k] + 0.5).length;
    assert.ok(steps <= 1, `${what}: the heap grew ${steps} times over 45 uploads`);
    assert.ok(top(rest, u) <= top(first, u) + 1, `${what}: allocated memory grew from ${top(first, u)} MB to ${top(rest, u)} MB over 45 uploads`);
  }
  assert.ok(!logs.some((l) => /pageerror|Aborted|out of bounds/.test(l)), 'page errors:\n' + logs.join('\n'));
  console.log('pictures: ok');
} finally {
  await close();
  server.stop();
}
