#include "engine/winograd.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/thread_pool.h"
#include "engine/winograd_tiles.h"

namespace lrp {

using namespace lrp::winograd_detail;

namespace {

struct Buffers {
  float* padded;  // C x hp x wp
  float* v;       // n^2 x C x cols
  float* m;       // n^2 x K x cols
};

// The calling thread's scratch (one set for both tile sizes), grown to at least these sizes.
Buffers scratch(std::size_t padded_n, std::size_t v_n, std::size_t m_n) {
  thread_local FloatBuffer pad, v, m;
  if (pad.size() < padded_n) pad.resize(padded_n);
  if (v.size() < v_n) v.resize(v_n);
  if (m.size() < m_n) m.resize(m_n);
  return {pad.data(), v.data(), m.data()};
}

// Zero-padded copy of one channel's input rows y0 .. y0 + hp - 1 (rows outside the map are zero); column xx of a
// padded row holds input column xx - 1.
void pad_rows(const float* channel, int H, int W, int y0, int hp, int wp, float* dst) {
  for (int yy = 0; yy < hp; ++yy) {
    float* pr = dst + static_cast<std::size_t>(yy) * wp;
    const int y = y0 + yy;
    std::memset(pr, 0, sizeof(float) * wp);
    if (y >= 0 && y < H) std::memcpy(pr + 1, channel + static_cast<std::size_t>(y) * W, sizeof(float) * W);
  }
}

// M_x = U_x V_x for the block's cols columns; threads (inner) take whole GEMMs (one synchronisation, not one each).
void multiply(const WinogradWeights& ww, const float* V, float* M, int cols, ThreadPool* inner) {
  const int C = ww.shape.cin, K = ww.shape.cout, count = static_cast<int>(ww.u.size());
  auto gemm = [&](int x) {
    MatrixCtx ctx{V + static_cast<std::size_t>(x) * C * cols, cols};
    gemm_packed(ww.u[static_cast<std::size_t>(x)], pack_plain, &ctx, cols, 0, cols,
                M + static_cast<std::size_t>(x) * K * cols, cols, Epilogue{}, nullptr);
  };
  if (inner && inner->size() > 1) inner->run(count, gemm);
  else for (int x = 0; x < count; ++x) gemm(x);
}

// Tile rows per block: the GEMMs see cols = rows * twp columns, and V, M stay under about 2M floats each.
int block_rows(int twp, int matrices, int C, int K) {
  const int n_cap = std::max(twp, std::min(512, (2 << 20) / (matrices * std::max(C, K)) / twp * twp));
  return std::max(1, n_cap / twp);
}

// Runs block(tb0, tb1, inner) over [ty_begin, ty_end): whole blocks per thread when there are many (large maps, no
// synchronisation inside them), otherwise one block at a time, parallel inside.
void for_blocks(int ty_begin, int ty_end, int rows_per_block, ThreadPool* pool,
                const std::function<void(int, int, ThreadPool*)>& block) {
  const int blocks = (ty_end - ty_begin + rows_per_block - 1) / rows_per_block;
  const int threads = pool ? pool->size() : 1;
  if (threads > 1 && blocks >= 2 * threads) {
    pool->run(blocks, [&](int b) {
      const int tb0 = ty_begin + b * rows_per_block;
      block(tb0, std::min(ty_end, tb0 + rows_per_block), nullptr);
    });
  } else {
    for (int tb0 = ty_begin; tb0 < ty_end; tb0 += rows_per_block)
      block(tb0, std::min(ty_end, tb0 + rows_per_block), pool);
  }
}

// U = G g G^T for every channel pair, as n^2 packed cout x cin matrices.
template <class Tile>
std::shared_ptr<const WinogradWeights> pack(const ConvShape& s, const float* w) {
  constexpr int n = Tile::n;
  auto ww = std::make_shared<WinogradWeights>();
  ww->shape = s;
  ww->m = Tile::m;
  const std::size_t plane = static_cast<std::size_t>(s.cout) * s.cin;
  std::vector<float> u(static_cast<std::size_t>(n) * n * plane);
  for (int k = 0; k < s.cout; ++k)
    for (int c = 0; c < s.cin; ++c) {
      const float* g = w + (static_cast<std::size_t>(k) * s.cin + c) * 9;
      double t[n][3];  // G g
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < 3; ++j)
          t[i][j] = Tile::G[i][0] * g[j] + Tile::G[i][1] * g[3 + j] + Tile::G[i][2] * g[6 + j];
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          u[static_cast<std::size_t>(n * i + j) * plane + static_cast<std::size_t>(k) * s.cin + c] =
              static_cast<float>(t[i][0] * Tile::G[j][0] + t[i][1] * Tile::G[j][1] + t[i][2] * Tile::G[j][2]);
    }
  ww->u.resize(static_cast<std::size_t>(n) * n);
  for (int x = 0; x < n * n; ++x)
    ww->u[static_cast<std::size_t>(x)] = pack_matrix(u.data() + static_cast<std::size_t>(x) * plane, s.cout, s.cin);
  return ww;
}

// Each block of tile rows: transform the input (channels split across threads), n^2 GEMMs, transform back with the
// epilogue (output channels split across threads).
template <class Tile>
void run(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin, int row_end,
         ThreadPool* pool) {
  constexpr int m = Tile::m, nn = Tile::n * Tile::n;
  const ConvShape& s = ww.shape;
  const int H = s.h, W = s.w, C = s.cin, K = s.cout;  // pad 1: output H x W
  row_begin = std::max(0, row_begin);
  row_end = std::min(H, row_end);
  if (row_end <= row_begin) return;
  const int tw = (W + m - 1) / m, twp = (tw + 3) / 4 * 4;  // tiles per row, padded to whole vectors
  const int ty_begin = row_begin / m, ty_end = (row_end + m - 1) / m;
  const int rows_per_block = block_rows(twp, nn, C, K);
  const int wp = Tile::padded_width(twp);  // padded row: column xx holds input column xx - 1
  auto block = [&](int tb0, int tb1, ThreadPool* inner) {
    const int threads = inner ? inner->size() : 1;
    const int rows = tb1 - tb0, cols = rows * twp;
    const int hp = m * rows + 2;  // padded row yy holds input row m*tb0 - 1 + yy
    const Buffers b = scratch(static_cast<std::size_t>(C) * hp * wp, static_cast<std::size_t>(nn) * C * cols,
                              static_cast<std::size_t>(nn) * K * cols);
    const std::size_t vstride = static_cast<std::size_t>(C) * cols, mstride = static_cast<std::size_t>(K) * cols;
    parallel_ranges(threads > 1 ? inner : nullptr, C, std::min(C, threads * 2), [&](int c0, int c1) {
      FloatBuffer trow(Tile::row_scratch(wp));
      for (int c = c0; c < c1; ++c) {
        float* pc = b.padded + static_cast<std::size_t>(c) * hp * wp;
        pad_rows(in + static_cast<std::size_t>(c) * H * W, H, W, m * tb0 - 1, hp, wp, pc);
        for (int r = 0; r < rows; ++r)
          Tile::input(pc + static_cast<std::size_t>(m * r) * wp, wp, twp,
                      b.v + static_cast<std::size_t>(c) * cols + static_cast<std::size_t>(r) * twp, vstride, trow.data());
      }
    });
    multiply(ww, b.v, b.m, cols, threads > 1 ? inner : nullptr);
    parallel_ranges(threads > 1 ? inner : nullptr, K, std::min(K, threads * 2), [&](int k0, int k1) {
      for (int k = k0; k < k1; ++k) {
        const OutRows o{out + static_cast<std::size_t>(k) * H * W, W, row_begin, row_end};
        const simd::f32x4 bias = simd::splat(ep.bias ? ep.bias[k] : 0.0f);
        for (int r = 0; r < rows; ++r)
          Tile::output(b.m + static_cast<std::size_t>(k) * cols + static_cast<std::size_t>(r) * twp, mstride, twp,
                       m * (tb0 + r), bias, ep.relu, o);
      }
    });
  };
  for_blocks(ty_begin, ty_end, rows_per_block, pool, block);
}

}  // namespace

std::shared_ptr<const WinogradWeights> pack_winograd(const ConvShape& s, const float* w, int m) {
  require(s.kh == 3 && s.kw == 3 && s.stride == 1 && s.pad == 1, "Winograd needs a 3x3 stride-1 pad-1 convolution");
  require(m == 2 || m == 4, "Winograd tile must be 2 or 4");
  return m == 4 ? pack<TileF4>(s, w) : pack<TileF2>(s, w);
}

void conv2d_winograd(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                     int row_end, ThreadPool* pool) {
  if (ww.m == 4) run<TileF4>(ww, in, ep, out, row_begin, row_end, pool);
  else run<TileF2>(ww, in, ep, out, row_begin, row_end, pool);
}

}  // namespace lrp
