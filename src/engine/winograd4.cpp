// Winograd F(4x4, 3x3): 4x4 output tiles from 6x6 input tiles (interpolation points 0, +-1, +-2, infinity), so
// the multiplications drop from 144 to 36 per tile and channel pair (4x fewer; F(2x2) has 2.25x). The transforms
// work on four tiles abreast: the row transform B^T d runs on whole padded rows, then 4x4 transposes bring the
// columns of four tiles into one vector each. The larger transform constants cost precision: see the tests.
#include <algorithm>

#include "engine/error.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"
#include "engine/winograd.h"
#include "engine/winograd_blocks.h"

namespace lrp {

using namespace lrp::simd;
using namespace winograd_detail;

namespace {

// B^T on six values (a row or a column of a 6x6 input tile)
inline void input_6(const f32x4 d[6], f32x4 o[6]) {
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
inline void output_6(const f32x4 m[6], f32x4 o[4]) {
  const f32x4 s12 = add(m[1], m[2]), d12 = sub(m[1], m[2]), s34 = add(m[3], m[4]), d34 = sub(m[3], m[4]);
  o[0] = add(add(m[0], s12), s34);
  o[1] = add(d12, mul(splat(2.0f), d34));
  o[2] = add(s12, mul(splat(4.0f), s34));
  o[3] = add(add(d12, mul(splat(8.0f), d34)), m[5]);
}

// rows a, b, c, d -> columns
inline void transpose4(f32x4& a, f32x4& b, f32x4& c, f32x4& d) {
  f32x4 ac_lo, ac_hi, bd_lo, bd_hi;
  interleave(a, c, ac_lo, ac_hi);
  interleave(b, d, bd_lo, bd_hi);
  interleave(ac_lo, bd_lo, a, b);
  interleave(ac_hi, bd_hi, c, d);
}

}  // namespace

std::shared_ptr<const WinogradWeights> pack_winograd4(const ConvShape& s, const float* w) {
  require(s.kh == 3 && s.kw == 3 && s.stride == 1, "Winograd needs a 3x3 stride-1 convolution");
  auto ww = std::make_shared<WinogradWeights>();
  ww->shape = s;
  ww->m = 4;
  static const double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
  const std::size_t plane = static_cast<std::size_t>(s.cout) * s.cin;
  std::vector<float> u(36 * plane);
  for (int k = 0; k < s.cout; ++k)
    for (int c = 0; c < s.cin; ++c) {
      const float* g = w + (static_cast<std::size_t>(k) * s.cin + c) * 9;
      double t[6][3];  // G g
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 3; ++j) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j)
          u[static_cast<std::size_t>(6 * i + j) * plane + static_cast<std::size_t>(k) * s.cin + c] =
              static_cast<float>(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
    }
  ww->u.resize(36);
  for (int x = 0; x < 36; ++x) ww->u[static_cast<std::size_t>(x)] = pack_matrix(u.data() + static_cast<std::size_t>(x) * plane, s.cout, s.cin);
  return ww;
}

void conv2d_winograd4(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                      int row_end, ThreadPool* pool) {
  const ConvShape& s = ww.shape;
  const int H = s.h, W = s.w, C = s.cin, K = s.cout;  // pad 1: output H x W
  row_begin = std::max(0, row_begin);
  row_end = std::min(H, row_end);
  if (row_end <= row_begin) return;
  const int tw = (W + 3) / 4, twp = (tw + 3) / 4 * 4;  // tiles per row, padded to whole vectors
  const int ty_begin = row_begin / 4, ty_end = (row_end + 3) / 4;
  const int rows_per_block = block_rows(twp, 36, C, K);
  const int wp = 4 * twp + 8;  // padded row: column xx holds input column xx - 1
  auto block = [&](int tb0, int tb1, ThreadPool* inner) {
    const int threads = inner ? inner->size() : 1;
    const int rows = tb1 - tb0, n = rows * twp;
    const int hp = 4 * rows + 2;  // padded row yy holds input row 4*tb0 - 1 + yy
    const Buffers b = scratch(static_cast<std::size_t>(C) * hp * wp, static_cast<std::size_t>(36) * C * n,
                              static_cast<std::size_t>(36) * K * n);
    float* padded = b.padded;
    float* V = b.v;
    float* M = b.m;
    const std::size_t vstride = static_cast<std::size_t>(C) * n;
    parallel_ranges(threads > 1 ? inner : nullptr, C, std::min(C, threads * 2), [&](int c0, int c1) {
      FloatBuffer trow(static_cast<std::size_t>(6) * wp);
      for (int c = c0; c < c1; ++c) {
        float* pc = padded + static_cast<std::size_t>(c) * hp * wp;
        pad_rows(in + static_cast<std::size_t>(c) * H * W, H, W, 4 * tb0 - 1, hp, wp, pc);
        for (int r = 0; r < rows; ++r) {
          // B^T d on whole rows
          const float* src = pc + static_cast<std::size_t>(4 * r) * wp;
          for (int x = 0; x < 4 * twp + 4; x += 4) {
            f32x4 d[6], o[6];
            for (int j = 0; j < 6; ++j) d[j] = load(src + static_cast<std::size_t>(j) * wp + x);
            input_6(d, o);
            for (int i = 0; i < 6; ++i) store(trow.data() + static_cast<std::size_t>(i) * wp + x, o[i]);
          }
          // (B^T d) B on four tiles at a time: column j of tile t is trow[4 (q + t) + j]
          float* vrow = V + static_cast<std::size_t>(c) * n + static_cast<std::size_t>(r) * twp;
          for (int q = 0; q < twp; q += 4) {
            for (int i = 0; i < 6; ++i) {
              const float* t = trow.data() + static_cast<std::size_t>(i) * wp + 4 * q;
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
      }
    });
    multiply(ww, V, M, n, threads > 1 ? inner : nullptr);
    parallel_ranges(threads > 1 ? inner : nullptr, K, std::min(K, threads * 2), [&](int k0, int k1) {
      const std::size_t mstride = static_cast<std::size_t>(K) * n;
      for (int k = k0; k < k1; ++k) {
        const f32x4 bias = splat(ep.bias ? ep.bias[k] : 0.0f), z = zero();
        float* plane = out + static_cast<std::size_t>(k) * H * W;
        for (int r = 0; r < rows; ++r) {
          const int oy = 4 * (tb0 + r);
          const float* mrow = M + static_cast<std::size_t>(k) * n + static_cast<std::size_t>(r) * twp;
          for (int q = 0; q < twp; q += 4) {
            f32x4 t[4][6];  // A^T m, column by column
            for (int j = 0; j < 6; ++j) {
              f32x4 m6[6], o[4];
              for (int i = 0; i < 6; ++i) m6[i] = load(mrow + (6 * i + j) * mstride + q);
              output_6(m6, o);
              for (int i = 0; i < 4; ++i) t[i][j] = o[i];
            }
            const int ox = 4 * q;
            for (int i = 0; i < 4; ++i) {
              const int y = oy + i;
              if (y < row_begin || y >= row_end) continue;
              f32x4 yv[4];
              output_6(t[i], yv);
              for (int j = 0; j < 4; ++j) {
                yv[j] = add(yv[j], bias);
                if (ep.relu) yv[j] = max(yv[j], z);
              }
              transpose4(yv[0], yv[1], yv[2], yv[3]);  // yv[t]: the four columns of tile q + t
              if (ox < W) store_clipped(plane + static_cast<std::size_t>(y) * W + ox, yv, 4, W - ox);
            }
          }
        }
      }
    });
  };
  for_blocks(ty_begin, ty_end, rows_per_block, pool, block);
}

}  // namespace lrp
