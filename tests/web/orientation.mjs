// Is a drawn picture the right way up? Shared by the page and desktop tests: a screenshot region is sampled at
// the centre of every model pixel and compared, by rank correlation, with what the CLI computed for the same
// state — and with the same data flipped vertically, horizontally and transposed, which must fit clearly worse.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { orientationPicture } from './png.mjs';

// The test pictures (28x28, and 64 wide x 96 high) and a random model with that non-square input (96x64),
// written into dir; the model is made once with the CLI.
export function orientationFixtures(dir, cli) {
  const square = path.join(dir, 'orient-28.png');
  fs.writeFileSync(square, orientationPicture(28, 28).png);
  const tall = path.join(dir, 'orient-64x96.png');
  fs.writeFileSync(tall, orientationPicture(64, 96).png);
  const tallModel = path.join(dir, 'tall-96x64.safetensors');
  if (!fs.existsSync(tallModel))
    execFileSync(cli, ['make-random', '--arch', 'vgg16', '--seed', '5', '--width-div', '16', '--classes', '10',
                       '--input', '96x64', '--channels', '1', '--out', tallModel]);
  return { square, tall, tallModel };
}

// A NumPy .npy file (float32, little-endian, C order) as { shape, data }.
export function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  assert.ok(header.includes("'descr': '<f4'"), `${file}: not float32 (${header})`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const off = 10 + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
  return { shape, data };
}

// The channel sum of a (C,H,W) array: one value per pixel, row-major.
export function channelSum({ shape, data }) {
  const [c, h, w] = shape.length === 3 ? shape : [1, ...shape];
  const out = new Float64Array(h * w);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[i] += data[k * h * w + i];
  return { w, h, v: out };
}

// Samples an RGBA screenshot at the centre of each of w x h cells of rect = [x0, y0, x1, y1] (device pixels).
export function sampleCells(img, rect, w, h, scale = 1) {
  const [x0, y0, x1, y1] = rect.map((v) => v * scale);
  const r = new Float64Array(w * h), g = new Float64Array(w * h), b = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = Math.floor(x0 + (x + 0.5) * (x1 - x0) / w), py = Math.floor(y0 + (y + 0.5) * (y1 - y0) / h);
      const i = (py * img.width + px) * 4;
      r[y * w + x] = img.data[i];
      g[y * w + x] = img.data[i + 1];
      b[y * w + x] = img.data[i + 2];
    }
  }
  return { r, g, b, redness: r.map((v, i) => v - b[i]), luma: r.map((v, i) => 0.299 * v + 0.587 * g[i] + 0.114 * b[i]) };
}

function ranks(a) {
  const idx = Array.from(a, (_, i) => i).sort((i, j) => a[i] - a[j]);
  const r = new Float64Array(a.length);
  for (let s = 0; s < idx.length;) {
    let e = s;
    while (e + 1 < idx.length && a[idx[e + 1]] === a[idx[s]]) e++;
    for (let k = s; k <= e; k++) r[idx[k]] = (s + e) / 2;
    s = e + 1;
  }
  return r;
}

function pearson(a, b) {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

export function spearman(a, b) { return pearson(ranks(a), ranks(b)); }

export function flipV(v, w, h) { const o = new Float64Array(w * h); for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) o[y * w + x] = v[(h - 1 - y) * w + x]; return o; }
export function flipH(v, w, h) { const o = new Float64Array(w * h); for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) o[y * w + x] = v[y * w + (w - 1 - x)]; return o; }
export function transpose(v, w, h) { const o = new Float64Array(w * h); for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) o[y * w + x] = v[x * w + y]; return o; }

// Asserts that `drawn` (per cell) matches `expected` the right way up: correlation >= minCorr, and at least
// `margin` better than each flipped or transposed version of the expected data. Returns the figures.
export function assertUpright(drawn, expected, w, h, what, minCorr = 0.75, margin = 0.2) {
  const c = spearman(drawn, expected);
  const others = { 'flipped vertically': spearman(drawn, flipV(expected, w, h)),
                   'flipped horizontally': spearman(drawn, flipH(expected, w, h)) };
  if (w === h) others.transposed = spearman(drawn, transpose(expected, w, h));
  const worst = Math.max(...Object.values(others));
  const text = `${what}: upright ${c.toFixed(3)}, ` + Object.entries(others).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
  assert.ok(c >= minCorr && c >= worst + margin, `${text} — the picture is not drawn the right way up`);
  return text;
}

// Where a model pixel's centre is on the screen (CSS pixels), for hovering it.
export function cellCentre(rect, w, h, x, y, scale = 1) {
  const [x0, y0, x1, y1] = rect;
  return [(x0 + (x + 0.5) * (x1 - x0) / w) / scale, (y0 + (y + 0.5) * (y1 - y0) / h) / scale];
}
