#include "engine/winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/gemm_kernel.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"
#include "engine/winograd_blocks.h"

namespace lrp {

using namespace lrp::simd;

namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* e = std::getenv("LRPSCOPE_WINOGRAD");
    return !(e && e[0] == '0');
  }()};
  return on;
}

std::atomic<int>& max_tile() {
  static std::atomic<int> m{[] {
    const char* e = std::getenv("LRPSCOPE_WINOGRAD");
    if (e && e[0] == '2') return 2;
    if (e && e[0] == '4') return 4;
    // F(4x4) pays where the GEMM is the cost (128-bit kernels: WebAssembly, SSE, NEON); with the AVX2 / AVX-512
    // kernels the 128-bit transforms weigh as much as the multiplications saved (measured: equal time, 4/16*9 the
    // weight memory), so those builds keep F(2x2).
#if defined(LRPSCOPE_KERNEL_AVX512) || defined(LRPSCOPE_KERNEL_AVX2)
    return 2;
#else
    return 4;
#endif
  }()};
  return m;
}

}  // namespace

namespace winograd_detail {

Buffers scratch(std::size_t padded_n, std::size_t v_n, std::size_t m_n) {
  thread_local FloatBuffer pad, v, m;
  if (pad.size() < padded_n) pad.resize(padded_n);
  if (v.size() < v_n) v.resize(v_n);
  if (m.size() < m_n) m.resize(m_n);
  return {pad.data(), v.data(), m.data()};
}

void pad_rows(const float* channel, int H, int W, int y0, int hp, int wp, float* dst) {
  for (int yy = 0; yy < hp; ++yy) {
    float* pr = dst + static_cast<std::size_t>(yy) * wp;
    const int y = y0 + yy;
    std::memset(pr, 0, sizeof(float) * wp);
    if (y >= 0 && y < H) std::memcpy(pr + 1, channel + static_cast<std::size_t>(y) * W, sizeof(float) * W);
  }
}

void multiply(const WinogradWeights& ww, const float* V, float* M, int n, ThreadPool* inner) {
  const int C = ww.shape.cin, K = ww.shape.cout, count = static_cast<int>(ww.u.size());
  // (threads take whole GEMMs: one synchronisation instead of one per GEMM)
  auto gemm = [&](int x) {
    MatrixCtx ctx{V + static_cast<std::size_t>(x) * C * n, n};
    gemm_packed(ww.u[static_cast<std::size_t>(x)], pack_plain, &ctx, n, 0, n, M + static_cast<std::size_t>(x) * K * n, n,
                Epilogue{}, nullptr);
  };
  if (inner && inner->size() > 1) inner->run(count, gemm);
  else for (int x = 0; x < count; ++x) gemm(x);
}

int block_rows(int twp, int matrices, int C, int K) {
  const int n_cap = std::max(twp, std::min(512, (2 << 20) / (matrices * std::max(C, K)) / twp * twp));
  return std::max(1, n_cap / twp);
}

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

}  // namespace winograd_detail

using namespace winograd_detail;

bool winograd_eligible(const ConvShape& s) {
  // tiles are processed four abreast: maps narrower than 7 would mostly compute padding
  return s.kh == 3 && s.kw == 3 && s.stride == 1 && s.pad == 1 && s.cin >= 16 && s.cout >= 16 && s.w >= 7 && s.h >= 2;
}
void set_winograd_enabled(bool on) { enabled_flag() = on; }
bool winograd_enabled() { return enabled_flag(); }
void set_winograd_max_tile(int m) { max_tile() = m >= 4 ? 4 : 2; }
int winograd_max_tile() { return max_tile(); }

std::shared_ptr<const WinogradWeights> pack_winograd(const ConvShape& s, const float* w, int m) {
  if (m == 0) m = winograd_max_tile() >= 4 && s.w >= 14 && s.h >= 4 ? 4 : 2;
  if (m == 4) return pack_winograd4(s, w);
  require(s.kh == 3 && s.kw == 3 && s.stride == 1, "Winograd needs a 3x3 stride-1 convolution");
  auto ww = std::make_shared<WinogradWeights>();
  ww->shape = s;
  ww->u.resize(16);
  std::vector<float> u(static_cast<std::size_t>(16) * s.cout * s.cin);
  const std::size_t plane = static_cast<std::size_t>(s.cout) * s.cin;
  for (int k = 0; k < s.cout; ++k)
    for (int c = 0; c < s.cin; ++c) {
      const float* g = w + (static_cast<std::size_t>(k) * s.cin + c) * 9;
      // G g (4x3), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
      float t[4][3];
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      // (G g) G^T (4x4)
      for (int i = 0; i < 4; ++i) {
        const float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; ++j) u[static_cast<std::size_t>(4 * i + j) * plane + static_cast<std::size_t>(k) * s.cin + c] = r[j];
      }
    }
  for (int x = 0; x < 16; ++x) ww->u[x] = pack_matrix(u.data() + static_cast<std::size_t>(x) * plane, s.cout, s.cin);
  return ww;
}

void conv2d_winograd(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                     int row_end, ThreadPool* pool) {
  if (ww.m == 4) {
    conv2d_winograd4(ww, in, ep, out, row_begin, row_end, pool);
    return;
  }
  const ConvShape& s = ww.shape;
  const int H = s.h, W = s.w, C = s.cin, K = s.cout;  // pad 1: output H x W
  row_begin = std::max(0, row_begin);
  row_end = std::min(H, row_end);
  if (row_end <= row_begin) return;
  const int tw = (W + 1) / 2, twp = (tw + 3) / 4 * 4;  // tiles per row, padded to whole vectors
  const int ty_begin = row_begin / 2, ty_end = (row_end + 1) / 2;
  const int rows_per_block = block_rows(twp, 16, C, K);
  const int wp = 2 * twp + 2 + 8;  // padded row: column xx holds input column xx - 1
  // One block of tile rows [tb0, tb1): transform, 16 GEMMs, transform back; `inner` parallelises inside it.
  auto block = [&](int tb0, int tb1, ThreadPool* inner) {
    const int threads = inner ? inner->size() : 1;
    const int rows = tb1 - tb0, n = rows * twp;
    // zero-padded copy of the input rows this block reads: padded row yy holds input row 2*tb0 - 1 + yy
    const int hp = 2 * rows + 2;
    const Buffers b = scratch(static_cast<std::size_t>(C) * hp * wp, static_cast<std::size_t>(16) * C * n,
                              static_cast<std::size_t>(16) * K * n);
    float* padded = b.padded;
    float* V = b.v;
    float* M = b.m;
    // input transform, channels split across threads
    parallel_ranges(threads > 1 ? inner : nullptr, C, std::min(C, threads * 2), [&](int c0, int c1) {
      for (int c = c0; c < c1; ++c) {
        float* pc = padded + static_cast<std::size_t>(c) * hp * wp;
        pad_rows(in + static_cast<std::size_t>(c) * H * W, H, W, 2 * tb0 - 1, hp, wp, pc);
        for (int r = 0; r < rows; ++r) {
          const float* r0 = pc + static_cast<std::size_t>(2 * r) * wp;
          const float* r1 = r0 + wp;
          const float* r2 = r1 + wp;
          const float* r3 = r2 + wp;
          float* vrow = V + static_cast<std::size_t>(c) * n + static_cast<std::size_t>(r) * twp;
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
              const std::size_t stride = static_cast<std::size_t>(C) * n;
              store(vrow + (4 * i + 0) * stride + q, sub(E[i], E2[i]));
              store(vrow + (4 * i + 1) * stride + q, add(O[i], E2[i]));
              store(vrow + (4 * i + 2) * stride + q, sub(E2[i], O[i]));
              store(vrow + (4 * i + 3) * stride + q, sub(O[i], O2[i]));
            }
          }
        }
      }
    });
    // 16 GEMMs: M_xi = U_xi V_xi
    multiply(ww, V, M, n, threads > 1 ? inner : nullptr);
    // output transform with the epilogue, output channels split across threads
    parallel_ranges(threads > 1 ? inner : nullptr, K, std::min(K, threads * 2), [&](int k0, int k1) {
      const std::size_t stride = static_cast<std::size_t>(K) * n;
      for (int k = k0; k < k1; ++k) {
        const f32x4 bias = splat(ep.bias ? ep.bias[k] : 0.0f), z = zero();
        float* plane = out + static_cast<std::size_t>(k) * H * W;
        for (int r = 0; r < rows; ++r) {
          const int oy = 2 * (tb0 + r);
          const bool row0 = oy >= row_begin && oy < row_end, row1 = oy + 1 >= row_begin && oy + 1 < row_end;
          const float* mrow = M + static_cast<std::size_t>(k) * n + static_cast<std::size_t>(r) * twp;
          for (int q = 0; q < twp; q += 4) {
            f32x4 m[16];
            for (int x = 0; x < 16; ++x) m[x] = load(mrow + x * stride + q);
            f32x4 sj[4], dj[4];
            for (int j = 0; j < 4; ++j) {
              sj[j] = add(add(m[j], m[4 + j]), m[8 + j]);
              dj[j] = sub(sub(m[4 + j], m[8 + j]), m[12 + j]);
            }
            f32x4 y00 = add(add(add(sj[0], sj[1]), sj[2]), bias);
            f32x4 y01 = add(sub(sub(sj[1], sj[2]), sj[3]), bias);
            f32x4 y10 = add(add(add(dj[0], dj[1]), dj[2]), bias);
            f32x4 y11 = add(sub(sub(dj[1], dj[2]), dj[3]), bias);
            if (ep.relu) {
              y00 = max(y00, z);
              y01 = max(y01, z);
              y10 = max(y10, z);
              y11 = max(y11, z);
            }
            const int ox = 2 * q;
            for (int line = 0; line < 2; ++line) {
              if (!(line ? row1 : row0)) continue;
              f32x4 lohi[2];
              interleave(line ? y10 : y00, line ? y11 : y01, lohi[0], lohi[1]);
              if (ox < W) store_clipped(plane + static_cast<std::size_t>(oy + line) * W + ox, lohi, 2, W - ox);
            }
          }
        }
      }
    });
  };
  for_blocks(ty_begin, ty_end, rows_per_block, pool, block);
}

}  // namespace lrp
