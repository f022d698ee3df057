// lrpscope atlas and references: the default model over the first Fashion-MNIST test images — the references by
// activation are the images where the channel's largest activation is highest (checked against the CLI's own
// --npy-dir arrays of those images), a build stopped half-way and started again gives the same file byte for byte,
// the JSON and the grid are there, and bad input (a cut atlas, another model, a channel out of range) is refused
// with one line.   node tests/cli/atlas.test.mjs LRPSCOPE EMULATOR SRC WORK
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [lrpscope, emulator, src, work] = process.argv.slice(2);
fs.mkdirSync(work, { recursive: true });
const emu = emulator ? emulator.split('|').filter(Boolean) : [];
const argv = (args) => (emu.length ? [emu[0], [...emu.slice(1), lrpscope, ...args]] : [lrpscope, args]);
const run = (args) => execFileSync(...argv(args), { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
const fails = (args) => {
  const [cmd, rest] = argv(args);
  const r = spawnSync(cmd, rest, { encoding: 'utf8' });
  assert.notEqual(r.status, 0, `${args.join(' ')} did not fail`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `more than one line: ${r.stderr}`);
  return lines[0];
};

const data = '/usr/share/datasets/fashion-mnist';
assert.ok(fs.existsSync(`${data}/t10k-images-idx3-ubyte.gz`), 'dataset-fashion-mnist is not installed (scripts/setup installs it)');
const model = path.join(src, 'assets/models/fashion-vgg16.safetensors');
const N = emu.length ? 12 : 40;
const atlas = path.join(work, 'a.atlas');
const base = ['atlas', '--model', model, '--fashion-mnist', data, '--limit', String(N), '--layers', 'conv1_2,conv5_3,fc7', '--top', '5', '--quiet'];
const built = JSON.parse(run([...base, '--out', atlas, '--json']));
assert.equal(built.images, N);
assert.equal(built.layers, 3);
console.log(`atlas of ${N} images, ${built.channels} channels: ${built.bytes} bytes, ${built.images_per_second.toFixed(1)} images/s` +
            (emu.length ? ' (WebAssembly)' : ' (native)'));

// the references by activation of a conv5_3 channel: the images with the highest largest activation
const refs = JSON.parse(run(['references', '--atlas', atlas, '--layer', 'conv5_3', '--channel', '7', '--json']));
assert.equal(refs.layer, 'features.28');
assert.equal(refs.by, 'activation');
assert.equal(refs.references.length, 5);
assert.ok(refs.map && refs.map.activation.length === 2 && refs.map.relevance.every(Number.isFinite), 'no place on the concept map');
if (!emu.length) {  // (the independent check runs the CLI once per image: natively only)
  const scores = [];
  const gz = execFileSync('gzip', ['-dc', `${data}/t10k-images-idx3-ubyte.gz`], { maxBuffer: 1 << 27 });
  for (let i = 0; i < N; i++) {
    // the test image i as a picture file, from the IDX file (28 x 28 grey)
    const px = gz.subarray(16 + i * 784, 16 + (i + 1) * 784);
    fs.writeFileSync(path.join(work, 'img.pgm'), Buffer.concat([Buffer.from('P5\n28 28\n255\n'), px]));
    const dir = path.join(work, `npy-${i}`);
    run(['explain', '--model', model, '--image', path.join(work, 'img.pgm'), '--invert', 'off', '--npy-dir', dir]);
    const b = fs.readFileSync(path.join(dir, 'activation_features.28.npy'));
    const hlen = b.readUInt16LE(8);
    const shape = b.toString('latin1', 10, 10 + hlen).match(/'shape': \(([^)]*)\)/)[1].split(',').map(Number).filter((x) => x);
    const v = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
    const per = shape[1] * shape[2];
    let m = 0;  // after the ReLU
    for (let k = 7 * per; k < 8 * per; k++) m = Math.max(m, v[k]);
    scores.push([m, i]);
  }
  scores.sort((a, b) => (b[0] - a[0]) || (a[1] - b[1]));
  assert.deepEqual(refs.references.map((r) => r.image), scores.slice(0, 5).map((s) => s[1]), 'the references are not the top images');
  refs.references.forEach((r, k) => assert.ok(Math.abs(r.score - scores[k][0]) <= 1e-5 * Math.abs(scores[k][0]) + 1e-7));
  console.log(`conv5_3:7 by activation: ${refs.references.map((r) => `${r.name} ${r.score.toFixed(3)}`).join(', ')} — as the CLI's own forward passes rank them`);
}
// every box lies in the model's 32 x 32 input
for (const r of refs.references) assert.ok(r.box[0] >= 0 && r.box[1] >= 0 && r.box[2] <= 32 && r.box[3] <= 32 && r.box[0] < r.box[2]);

// stopped half-way, then started again: the same atlas
const resumed = path.join(work, 'r.atlas');
for (const f of [resumed, resumed + '.partial']) fs.rmSync(f, { force: true });  // (an earlier run's)
const [cmd, rest] = argv([...base, '--out', resumed, '--stop-after', String(N / 2)]);
const stopped = spawnSync(cmd, rest, { encoding: 'utf8' });
assert.equal(stopped.status, 3, stopped.stderr);
assert.ok(fs.existsSync(resumed + '.partial') && !fs.existsSync(resumed), 'no checkpoint after the stop');
const again = JSON.parse(run([...base, '--out', resumed, '--json']));
assert.equal(again.resumed_at, N / 2);
assert.ok(fs.readFileSync(resumed).equals(fs.readFileSync(atlas)), 'the resumed atlas differs from the one built at once');
assert.ok(!fs.existsSync(resumed + '.partial'), 'the checkpoint was left behind');
console.log(`stopped after ${N / 2} images and started again: the same ${again.bytes} bytes`);

// the grid of masked crops
const grid = path.join(work, 'grid.png');
run(['references', '--atlas', atlas, '--layer', 'conv1_2', '--channel', '3', '--by', 'relevance', '--out', grid, '--model', model]);
assert.equal(fs.readFileSync(grid).subarray(1, 4).toString(), 'PNG');

// bad input: one line each
const cut = path.join(work, 'cut.atlas');
fs.writeFileSync(cut, fs.readFileSync(atlas).subarray(0, 300));
assert.match(fails(['references', '--atlas', cut, '--layer', 'conv5_3', '--channel', '0']), /cut\.atlas: atlas: the file ends inside/);
assert.match(fails(['references', '--atlas', atlas, '--layer', 'conv5_3', '--channel', '9999']), /--channel/);
assert.match(fails(['references', '--atlas', atlas, '--layer', 'conv4_1', '--channel', '0']), /has no layer 'conv4_1' \(it has conv1_2, conv5_3, fc7\)/);
assert.match(fails(['references', '--atlas', atlas, '--layer', 'fc7', '--channel', '0', '--out', grid, '--model',
                    path.join(src, 'tests/fixtures/tiny_vgg16.safetensors')]), /made for a vgg16/);
assert.match(fails(['references', '--atlas', model, '--layer', 'fc7', '--channel', '0']), /not an lrpscope atlas/);
assert.match(fails(['atlas', '--model', model, '--out', path.join(work, 'x.atlas')]), /--fashion-mnist DIR or --images DIR/);

// the default model's atlas, made by the native build (CMake's default_atlas) over the whole test set
if (!emu.length) {
  const shipped = path.join(src, 'build/native/assets/fashion-vgg16.atlas');
  assert.ok(fs.existsSync(shipped), `${shipped} was not built`);
  const layers = ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv4_1', 'conv4_2',
                  'conv4_3', 'conv5_1', 'conv5_2', 'conv5_3', 'fc6', 'fc7'];
  for (const [layer, channels] of [['conv1_1', 16], ['conv5_3', 128], ['fc7', 256]]) {
    for (const by of ['activation', 'relevance']) {
      const r = JSON.parse(run(['references', '--atlas', shipped, '--layer', layer, '--channel', String(channels - 1), '--by', by, '--json']));
      assert.equal(r.references.length, 9, `${layer} by ${by}`);
      r.references.forEach((x, k) => {
        assert.match(x.name, /^t10k:\d+$/);
        assert.ok(x.image >= 0 && x.image < 10000);
        if (k) assert.ok(x.score <= r.references[k - 1].score, 'not best first');
      });
    }
  }
  assert.match(fails(['references', '--atlas', shipped, '--layer', 'fc8', '--channel', '0']),
               new RegExp(`it has ${layers.join(', ')}\\)`));
  const g = path.join(work, 'shipped.png');
  run(['references', '--atlas', shipped, '--layer', 'conv5_3', '--channel', '0', '--out', g, '--model', model]);
  assert.ok(fs.statSync(g).size > 1000);
  console.log(`the default atlas: ${(fs.statSync(shipped).size / 1e6).toFixed(2)} MB, every conv channel and fc unit, top 9`);
}
console.log('atlas and references: the top images, resumable, refused when they do not fit');
