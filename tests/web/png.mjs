// Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium's screenshots are) for pixel checks.
import zlib from 'node:zlib';

export function decodePng(buf) {
  let off = 8, w = 0, h = 0, ct = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unsupported PNG');
      ct = data[9];
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    off += 12 + len;
  }
  const bpp = ct === 6 ? 4 : ct === 2 ? 3 : ct === 0 ? 1 : 0;  // RGBA, RGB, grey
  if (!bpp) throw new Error('unsupported PNG colour type ' + ct);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * bpp;
  const out = Buffer.alloc(w * h * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = v & 255;
    }
    for (let x = 0; x < w; x++) {
      const g = bpp === 1;
      out[(y * w + x) * 4] = line[x * bpp];
      out[(y * w + x) * 4 + 1] = line[x * bpp + (g ? 0 : 1)];
      out[(y * w + x) * 4 + 2] = line[x * bpp + (g ? 0 : 2)];
      out[(y * w + x) * 4 + 3] = bpp === 4 ? line[x * bpp + 3] : 255;
    }
    prev = line;
  }
  return { width: w, height: h, data: out };
}

// Statistics of a region: distinct-ish colours, and the fraction of clearly red or blue pixels.
export function regionStats(img, x0, y0, x1, y1) {
  let n = 0, coloured = 0, sum = 0, sum2 = 0;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(img.height, Math.floor(y1)); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(img.width, Math.floor(x1)); x++) {
      const i = (y * img.width + x) * 4;
      const r = img.data[i], g = img.data[i + 1], b = img.data[i + 2];
      const l = (r + g + b) / 3;
      sum += l;
      sum2 += l * l;
      if (Math.abs(r - g) > 40 || Math.abs(b - g) > 40) coloured++;
      n++;
    }
  }
  const mean = sum / Math.max(1, n);
  return { n, coloured: coloured / Math.max(1, n), std: Math.sqrt(Math.max(0, sum2 / Math.max(1, n) - mean * mean)) };
}

// Minimal PNG encoder (8-bit RGB, filter 0) for the test pictures the tests make.
export function encodePng(width, height, rgb) {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc = (buf) => {
    let c = -1;
    for (const b of buf) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// An asymmetric test picture: black, a bright block in the top-left quadrant and a one-pixel marker column in
// the upper right half, so that a vertical or horizontal flip or a transpose of any view cannot pass unnoticed.
export function orientationPicture(width, height) {
  const rgb = new Uint8Array(width * height * 3);
  const set = (x, y, v) => { const i = (y * width + x) * 3; rgb[i] = rgb[i + 1] = rgb[i + 2] = v; };
  const bw = Math.floor(width * 0.3), bh = Math.floor(height * 0.3), x0 = Math.floor(width * 0.08), y0 = Math.floor(height * 0.08);
  for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) set(x, y, 235);
  const mx = Math.floor(width * 0.72);
  for (let y = 0; y < Math.floor(height / 2); y++) set(mx, y, 255);
  return { width, height, rgb, png: encodePng(width, height, rgb) };
}
