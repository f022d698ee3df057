// The explanation summary's figures (explain --json "summary") against the same figures computed here, independently,
// from the arrays the CLI writes (--npy-dir): evidence per region of the 3 x 3 grid, concentration, the strongest
// channels of the last convolution, conservation. node tests/cli/summary.test.mjs LRPSCOPE EMULATOR SRC WORK
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [lrpscope, emulator, src, work] = process.argv.slice(2);
fs.mkdirSync(work, { recursive: true });
const emu = emulator ? emulator.split('|').filter(Boolean) : [];

function run(args) {
  const cmd = emu.length ? emu[0] : lrpscope;
  const rest = emu.length ? [...emu.slice(1), lrpscope, ...args] : args;
  return execFileSync(cmd, rest, { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function readNpy(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.toString('latin1', 1, 6), 'NUMPY');
  const hlen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hlen);
  assert.match(header, /'descr': '<f4'/);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  return { shape, data };
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

const cases = [
  ['assets/models/fashion-vgg16.safetensors', 'assets/samples/fashion/sneaker-1.png', 'epsilon-gamma-box'],
  ['assets/models/fashion-vgg16.safetensors', 'assets/samples/fashion/bag-1.png', 'epsilon-plus-flat'],
  ['assets/models/fashion-vgg16.safetensors', 'assets/samples/fashion/ankle-boot-1.png', 'gradient-x-input'],
];
for (const [model, image, composite] of cases) {
  const dir = path.join(work, path.basename(image, '.png') + '-' + composite);
  fs.mkdirSync(dir, { recursive: true });
  const j = JSON.parse(run(['explain', '--model', path.join(src, model), '--image', path.join(src, image), '--composite',
    composite, '--json', '--npy-dir', dir]));
  const s = j.summary;
  const rin = readNpy(path.join(dir, 'relevance_input.npy'));
  const [C, H, W] = rin.shape;
  const r = new Float64Array(H * W);
  for (let c = 0; c < C; ++c) for (let i = 0; i < H * W; ++i) r[i] += rin.data[c * H * W + i];
  const pos = new Float64Array(9), neg = new Float64Array(9);
  for (let y = 0; y < H; ++y)
    for (let x = 0; x < W; ++x) {
      const by = y >= Math.floor(2 * H / 3) ? 2 : y >= Math.floor(H / 3) ? 1 : 0;
      const bx = x >= Math.floor(2 * W / 3) ? 2 : x >= Math.floor(W / 3) ? 1 : 0;
      const v = r[y * W + x];
      if (v > 0) pos[3 * by + bx] += v; else neg[3 * by + bx] += v;
    }
  const P = pos.reduce((a, b) => a + b, 0), N = neg.reduce((a, b) => a + b, 0);
  close(s.positive, P, 'positive evidence');
  close(s.negative, N, 'negative evidence');
  assert.deepEqual(s.regions.map((q) => q.name), ['top-left corner', 'top', 'top-right corner', 'left side', 'centre',
    'right side', 'bottom-left corner', 'bottom', 'bottom-right corner']);
  for (let k = 0; k < 9; ++k) {
    close(s.regions[k].positive, P > 0 ? pos[k] / P : 0, `${s.regions[k].name} positive share`);
    close(s.regions[k].negative, N < 0 ? neg[k] / N : 0, `${s.regions[k].name} negative share`);
  }
  const p = Array.from(r).filter((v) => v > 0).sort((a, b) => b - a);
  const top = Math.ceil(H * W / 10);
  close(s.top10_share, p.slice(0, top).reduce((a, b) => a + b, 0) / P, 'top 10 % share');
  let acc = 0, n = 0;
  while (n < p.length && acc < 0.5 * P) acc += p[n++];
  close(s.half_area, n / (H * W), 'area holding half');
  // the strongest channels of the last convolution
  const last = j.layers.filter((l) => l.nick.startsWith('conv'))[0].name;  // (layers are listed top down)
  assert.equal(s.neuron_layer, last);
  const rl = readNpy(path.join(dir, `relevance_${last}.npy`));
  const per = rl.shape[1] * rl.shape[2];
  const ch = Array.from({ length: rl.shape[0] }, (_, c) => {
    let t = 0;
    for (let i = 0; i < per; ++i) t += rl.data[c * per + i];
    return t;
  });
  const total = ch.reduce((a, v) => a + Math.max(v, 0), 0);
  const best = ch.map((v, c) => [c, v]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 3);
  assert.equal(s.neurons.length, best.length);
  s.neurons.forEach((q, i) => {
    assert.equal(q.channel, best[i][0], `neuron ${i}`);
    close(q.share, best[i][1] / total, `neuron ${i} share`);
  });
  close(s.conservation, j.input_sum / j.target_logit, 'conservation');
  // the words say the same
  assert.ok(s.text.includes(j.target_label), s.text);
  const strongest = s.regions.reduce((a, b) => (b.positive > a.positive ? b : a));
  assert.ok(s.text.includes(`the ${strongest.name} (${Math.round(100 * strongest.positive)} %)`), s.text);
  assert.ok(s.text.includes(`adds up to ${Math.round(100 * s.conservation)} % of the logit`), s.text);
  console.log(`${path.basename(image)} ${composite}: ${s.text}`);
}
console.log('summary: ok');
