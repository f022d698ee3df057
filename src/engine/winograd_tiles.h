// Engine-internal: the two Winograd tiles as the one driver in winograd.cpp uses them. A tile type gives its output
// size m, the filter transform G, the padded row length, and two SIMD transforms that work on four tiles abreast:
//   input:  one channel's zero-padded rows -> V (its (m+2)^2 transformed values per tile, one matrix each)
//   output: one output channel's (m+2)^2 products per tile -> the m x m outputs, with bias and ReLU.
#pragma once

#include <cstddef>

#include "engine/simd.h"

namespace lrp::winograd_detail {

using namespace lrp::simd;

// Stores the first n (<= 4 * count) values of v at dst.
inline void store_clipped(float* dst, const f32x4* v, int count, int n) {
  if (n >= 4 * count) {
    for (int j = 0; j < count; ++j) store(dst + 4 * j, v[j]);
    return;
  }
  alignas(16) float tmp[64];
  for (int j = 0; j < count; ++j) store(tmp + 4 * j, v[j]);
  for (int j = 0; j < n; ++j) dst[j] = tmp[j];
}

// Where an output transform writes: output rows [row_begin, row_end) of a W-wide plane.
struct OutRows {
  float* plane;
  int W, row_begin, row_end;
};

// F(2x2, 3x3): 2x2 outputs from 4x4 inputs, 16 multiplications per tile and channel pair instead of 36.
struct TileF2 {
  static constexpr int m = 2, n = 4;
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static int padded_width(int twp) { return 2 * twp + 2 + 8; }
  static std::size_t row_scratch(int) { return 0; }

  // pc: rows 2r .. 2r+3 of the padded channel (row stride wp); V row of this channel at vrow, matrices vstride apart.
  static void input(const float* pc, int wp, int twp, float* vrow, std::size_t vstride, float*) {
    const float* r0 = pc;
    const float* r1 = r0 + wp;
    const float* r2 = r1 + wp;
    const float* r3 = r2 + wp;
    for (int q = 0; q < twp; q += 4) {
      const int xp = 2 * q;
      f32x4 E[4], O[4], E2[4], O2[4];
      for (int half = 0; half < 2; ++half) {
        const int x = xp + 2 * half;  // half 1: shifted by one tile
        const f32x4 a0 = load(r0 + x), b0 = load(r0 + x + 4);
        const f32x4 a1 = load(r1 + x), b1 = load(r1 + x + 4);
        const f32x4 a2 = load(r2 + x), b2 = load(r2 + x + 4);
        const f32x4 a3 = load(r3 + x), b3 = load(r3 + x + 4);
        // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
        const f32x4 ta[4] = {sub(a0, a2), add(a1, a2), sub(a2, a1), sub(a1, a3)};
        const f32x4 tb[4] = {sub(b0, b2), add(b1, b2), sub(b2, b1), sub(b1, b3)};
        for (int i = 0; i < 4; ++i) deinterleave(ta[i], tb[i], half ? E2[i] : E[i], half ? O2[i] : O[i]);
      }
      for (int i = 0; i < 4; ++i) {
        // (B^T d) B: columns X0 - X2, X1 + X2, X2 - X1, X1 - X3 with X0 = E, X1 = O, X2 = E2, X3 = O2
        store(vrow + (4 * i + 0) * vstride + q, sub(E[i], E2[i]));
        store(vrow + (4 * i + 1) * vstride + q, add(O[i], E2[i]));
        store(vrow + (4 * i + 2) * vstride + q, sub(E2[i], O[i]));
        store(vrow + (4 * i + 3) * vstride + q, sub(O[i], O2[i]));
      }
    }
  }

  // mrow: this channel's products for one tile row (matrices mstride apart); oy: its first output row.
  static void output(const float* mrow, std::size_t mstride, int twp, int oy, f32x4 bias, bool relu, const OutRows& o) {
    const f32x4 z = zero();
    const bool row0 = oy >= o.row_begin && oy < o.row_end, row1 = oy + 1 >= o.row_begin && oy + 1 < o.row_end;
    for (int q = 0; q < twp; q += 4) {
      f32x4 mv[16];
      for (int x = 0; x < 16; ++x) mv[x] = load(mrow + x * mstride + q);
      f32x4 sj[4], dj[4];
      for (int j = 0; j < 4; ++j) {
        sj[j] = add(add(mv[j], mv[4 + j]), mv[8 + j]);
        dj[j] = sub(sub(mv[4 + j], mv[8 + j]), mv[12 + j]);
      }
      f32x4 y[4] = {add(add(add(sj[0], sj[1]), sj[2]), bias), add(sub(sub(sj[1], sj[2]), sj[3]), bias),
                    add(add(add(dj[0], dj[1]), dj[2]), bias), add(sub(sub(dj[1], dj[2]), dj[3]), bias)};
      if (relu)
        for (f32x4& v : y) v = max(v, z);
      const int ox = 2 * q;
      for (int line = 0; line < 2; ++line) {
        if (!(line ? row1 : row0)) continue;
        f32x4 lohi[2];
        interleave(y[2 * line], y[2 * line + 1], lohi[0], lohi[1]);
        if (ox < o.W) store_clipped(o.plane + static_cast<std::size_t>(oy + line) * o.W + ox, lohi, 2, o.W - ox);
      }
    }
  }
};

// F(4x4, 3x3): 4x4 outputs from 6x6 inputs (interpolation points 0, +-1, +-2, infinity), 36 multiplications per tile
// and channel pair instead of 144. The row transform B^T d runs on whole padded rows, then 4x4 transposes bring the
// columns of four tiles into one vector each. The larger transform constants cost precision: see the tests.
struct TileF4 {
  static constexpr int m = 4, n = 6;
  static constexpr double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
  static int padded_width(int twp) { return 4 * twp + 8; }
  static std::size_t row_scratch(int wp) { return static_cast<std::size_t>(6) * wp; }

  // B^T on six values (a row or a column of a 6x6 input tile)
  static void input_6(const f32x4 d[6], f32x4 o[6]) {
    const f32x4 two = splat(2.0f), four = splat(4.0f), five = splat(5.0f);
    o[0] = add(sub(mul(four, d[0]), mul(five, d[2])), d[4]);
    o[1] = sub(add(d[3], d[4]), mul(four, add(d[1], d[2])));
    o[2] = add(sub(d[4], d[3]), mul(four, sub(d[1], d[2])));
    const f32x4 a = sub(d[4], d[2]), b = mul(two, sub(d[3], d[1]));
    o[3] = add(a, b);
    o[4] = sub(a, b);
    o[5] = add(sub(mul(four, d[1]), mul(five, d[3])), d[5]);
  }

  // A^T on six values -> four
  static void output_6(const f32x4 mv[6], f32x4 o[4]) {
    const f32x4 s12 = add(mv[1], mv[2]), d12 = sub(mv[1], mv[2]), s34 = add(mv[3], mv[4]), d34 = sub(mv[3], mv[4]);
    o[0] = add(add(mv[0], s12), s34);
    o[1] = add(d12, mul(splat(2.0f), d34));
    o[2] = add(s12, mul(splat(4.0f), s34));
    o[3] = add(add(d12, mul(splat(8.0f), d34)), mv[5]);
  }

  // rows a, b, c, d -> columns
  static void transpose4(f32x4& a, f32x4& b, f32x4& c, f32x4& d) {
    f32x4 ac_lo, ac_hi, bd_lo, bd_hi;
    interleave(a, c, ac_lo, ac_hi);
    interleave(b, d, bd_lo, bd_hi);
    interleave(ac_lo, bd_lo, a, b);
    interleave(ac_hi, bd_hi, c, d);
  }

  static void input(const float* src, int wp, int twp, float* vrow, std::size_t vstride, float* trow) {
    // B^T d on whole rows
    for (int x = 0; x < 4 * twp + 4; x += 4) {
      f32x4 d[6], o[6];
      for (int j = 0; j < 6; ++j) d[j] = load(src + static_cast<std::size_t>(j) * wp + x);
      input_6(d, o);
      for (int i = 0; i < 6; ++i) store(trow + static_cast<std::size_t>(i) * wp + x, o[i]);
    }
    // (B^T d) B on four tiles at a time: column j of tile t is trow[4 (q + t) + j]
    for (int q = 0; q < twp; q += 4) {
      for (int i = 0; i < 6; ++i) {
        const float* t = trow + static_cast<std::size_t>(i) * wp + 4 * q;
        f32x4 col[6], o[6];
        col[0] = load(t), col[1] = load(t + 4), col[2] = load(t + 8), col[3] = load(t + 12);
        const f32x4 v4 = load(t + 16);
        f32x4 lo13, hi13, lo24, hi24;
        interleave(col[1], col[3], lo13, hi13);
        interleave(col[2], v4, lo24, hi24);
        interleave(lo13, lo24, col[4], col[5]);
        transpose4(col[0], col[1], col[2], col[3]);
        input_6(col, o);
        for (int j = 0; j < 6; ++j) store(vrow + (6 * i + j) * vstride + q, o[j]);
      }
    }
  }

  static void output(const float* mrow, std::size_t mstride, int twp, int oy, f32x4 bias, bool relu, const OutRows& o) {
    const f32x4 z = zero();
    for (int q = 0; q < twp; q += 4) {
      f32x4 t[4][6];  // A^T m, column by column
      for (int j = 0; j < 6; ++j) {
        f32x4 m6[6], r[4];
        for (int i = 0; i < 6; ++i) m6[i] = load(mrow + (6 * i + j) * mstride + q);
        output_6(m6, r);
        for (int i = 0; i < 4; ++i) t[i][j] = r[i];
      }
      const int ox = 4 * q;
      for (int i = 0; i < 4; ++i) {
        const int y = oy + i;
        if (y < o.row_begin || y >= o.row_end) continue;
        f32x4 yv[4];
        output_6(t[i], yv);
        for (int j = 0; j < 4; ++j) {
          yv[j] = add(yv[j], bias);
          if (relu) yv[j] = max(yv[j], z);
        }
        transpose4(yv[0], yv[1], yv[2], yv[3]);  // yv[t]: the four columns of tile q + t
        if (ox < o.W) store_clipped(o.plane + static_cast<std::size_t>(y) * o.W + ox, yv, 4, o.W - ox);
      }
    }
  }
};

}  // namespace lrp::winograd_detail
