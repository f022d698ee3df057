#include "engine/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/gemm_kernel.h"
#include "engine/thread_pool.h"
#include "engine/winograd.h"

namespace lrp {

using kernels::kMR;
using kernels::kNR;

namespace {

constexpr int kKC = 256;  // depth of a cache block
constexpr int kNB = 128;  // columns (output pixels) of a cache block, a multiple of kNR

FloatBuffer& scratch() {
  thread_local FloatBuffer buf;
  return buf;
}


struct Im2colCtx {
  const ConvShape* s;
  const float* in;
  int batch = 1;  // columns run over batch members: member m's pixels are columns [m*oh*ow, (m+1)*oh*ow)
};

// Packs the im2col matrix (rows ci*kh*kw + ky*kw + kx, columns = output pixels of every batch member). A group of
// kNR columns on one output row of one member reads contiguous input; any other group (row ends, small maps, batch
// boundaries) reads through a per-tap offset table made once per group, so no division runs per element.
void pack_im2col(const void* vctx, int k0, int kc, int n0, int nb, int ncols, float* dst) {
  const auto& ctx = *static_cast<const Im2colCtx*>(vctx);
  const ConvShape& s = *ctx.s;
  const int ow = s.ow(), npm = s.oh() * ow, ksz = s.kh * s.kw;
  const long plane = static_cast<long>(s.h) * s.w, member = static_cast<long>(s.cin) * plane;
  const int groups = (nb + kNR - 1) / kNR;
  long base[kNR];
  int iy0[kNR], ix0[kNR];
  thread_local std::vector<long> offsets;  // [tap][kNR]: offset within a channel plane, or -1 (zero)
  for (int g = 0; g < groups; ++g) {
    float* d = dst + static_cast<long>(g) * kc * kNR;
    const int p0 = n0 + g * kNR;
    bool contiguous = s.stride == 1;
    for (int j = 0; j < kNR; ++j) {
      const int p = p0 + j;
      if (p >= ncols) {
        base[j] = -1;
        iy0[j] = ix0[j] = 0;
        contiguous = false;
        continue;
      }
      const int m = p / npm, q = p % npm, oy = q / ow, ox = q % ow;
      base[j] = m * member;
      iy0[j] = oy * s.stride - s.pad;
      ix0[j] = ox * s.stride - s.pad;
      if (base[j] != base[0] || iy0[j] != iy0[0] || ix0[j] != ix0[0] + j) contiguous = false;
    }
    int ci = k0 / ksz, r = k0 % ksz;
    if (contiguous) {
      for (int kk = 0; kk < kc; ++kk) {
        const int ky = r / s.kw, kx = r % s.kw;
        float* dk = d + kk * kNR;
        const int iy = iy0[0] + ky, ix = ix0[0] + kx;
        if (iy < 0 || iy >= s.h) {
          std::memset(dk, 0, sizeof(float) * kNR);
        } else {
          const float* row = ctx.in + base[0] + ci * plane + static_cast<long>(iy) * s.w;
          if (ix >= 0 && ix + kNR <= s.w) {
            std::memcpy(dk, row + ix, sizeof(float) * kNR);
          } else {
            for (int j = 0; j < kNR; ++j) dk[j] = (ix + j >= 0 && ix + j < s.w) ? row[ix + j] : 0.0f;
          }
        }
        if (++r == ksz) r = 0, ++ci;
      }
      continue;
    }
    offsets.resize(static_cast<std::size_t>(ksz) * kNR);
    for (int t = 0; t < ksz; ++t) {
      const int ky = t / s.kw, kx = t % s.kw;
      for (int j = 0; j < kNR; ++j) {
        const int iy = iy0[j] + ky, ix = ix0[j] + kx;
        offsets[static_cast<std::size_t>(t) * kNR + j] =
            base[j] >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w ? base[j] + static_cast<long>(iy) * s.w + ix : -1;
      }
    }
    for (int kk = 0; kk < kc; ++kk) {
      const float* pl = ctx.in + ci * plane;
      const long* off = offsets.data() + static_cast<std::size_t>(r) * kNR;
      float* dk = d + kk * kNR;
      for (int j = 0; j < kNR; ++j) dk[j] = off[j] >= 0 ? pl[off[j]] : 0.0f;
      if (++r == ksz) r = 0, ++ci;
    }
  }
}

}  // namespace

void pack_plain(const void* vctx, int k0, int kc, int n0, int nb, int ncols, float* dst) {
  const auto& ctx = *static_cast<const MatrixCtx*>(vctx);
  const int groups = (nb + kNR - 1) / kNR;
  for (int g = 0; g < groups; ++g) {
    float* d = dst + static_cast<long>(g) * kc * kNR;
    const int p0 = n0 + g * kNR;
    const int cols = std::min(kNR, ncols - p0);
    for (int kk = 0; kk < kc; ++kk) {
      const float* src = ctx.m + static_cast<long>(k0 + kk) * ctx.ld + p0;
      float* dk = d + kk * kNR;
      if (cols == kNR) {
        std::memcpy(dk, src, sizeof(float) * kNR);
      } else {
        for (int j = 0; j < kNR; ++j) dk[j] = j < cols ? src[j] : 0.0f;
      }
    }
  }
}

void apply_epilogue(const Epilogue& ep, float* c, int ldc, int row0, int rows, int n0, int nb) {
  if (!ep.bias && !ep.relu) return;
  for (int r = 0; r < rows; ++r) {
    float* cr = c + static_cast<long>(r) * ldc + n0;
    const float b = ep.bias ? ep.bias[row0 + r] : 0.0f;
    if (ep.relu) {
      for (int j = 0; j < nb; ++j) cr[j] = std::max(cr[j] + b, 0.0f);
    } else {
      for (int j = 0; j < nb; ++j) cr[j] += b;
    }
  }
}

void gemm_packed(const PackedMatrix& a, PackFn pack, const void* ctx, int ncols, int n_begin, int n_end, float* c,
                 int ldc, const Epilogue& ep, ThreadPool* pool) {
  if (n_end <= n_begin || a.rows == 0) return;
  const int K = a.depth;
  const int panels = (a.rows + kMR - 1) / kMR;
  const int nblocks = (n_end - n_begin + kNB - 1) / kNB;
  const int threads = pool ? pool->size() : 1;
  // Split the rows too when there are few column blocks, so every thread has work.
  int msplit = 1;
  if (threads > 1 && nblocks < 2 * threads) msplit = std::min(panels, (2 * threads + nblocks - 1) / nblocks);
  const int tasks = nblocks * msplit;
  auto task = [&](int t) {
    const int blk = t / msplit, ms = t % msplit;
    const int p_begin = static_cast<int>(1LL * panels * ms / msplit);
    const int p_end = static_cast<int>(1LL * panels * (ms + 1) / msplit);
    const int n0 = n_begin + blk * kNB;
    const int nb = std::min(kNB, n_end - n0);
    const int groups = (nb + kNR - 1) / kNR;
    FloatBuffer& buf = scratch();
    const std::size_t need = static_cast<std::size_t>(kKC) * groups * kNR;
    if (buf.size() < need) buf.resize(need);
    for (int k0 = 0; k0 < K; k0 += kKC) {
      const int kc = std::min(kKC, K - k0);
      pack(ctx, k0, kc, n0, nb, ncols, buf.data());
      for (int p = p_begin; p < p_end; ++p) {
        const float* ap = a.data.data() + (static_cast<long>(p) * K + k0) * kMR;
        const int rows = std::min(kMR, a.rows - p * kMR);
        float* cp = c + static_cast<long>(p) * kMR * ldc;
        for (int g = 0; g < groups; ++g) {
          const int cols = std::min(kNR, nb - g * kNR);
          kernels::micro_kernel(kc, ap, buf.data() + static_cast<long>(g) * kc * kNR, cp + n0 + g * kNR, ldc, rows,
                                cols, k0 > 0);
        }
      }
    }
    if (K == 0) {
      for (int p = p_begin; p < p_end; ++p)
        for (int r = 0; r < std::min(kMR, a.rows - p * kMR); ++r)
          std::fill(c + static_cast<long>(p * kMR + r) * ldc + n0, c + static_cast<long>(p * kMR + r) * ldc + n0 + nb,
                    0.0f);
    }
    const int r0 = p_begin * kMR, r1 = std::min(a.rows, p_end * kMR);
    apply_epilogue(ep, c + static_cast<long>(r0) * ldc, ldc, r0, r1 - r0, n0, nb);
  };
  if (pool && tasks > 1) {
    pool->run(tasks, task);
  } else {
    for (int t = 0; t < tasks; ++t) task(t);
  }
}


void ConvShape::validate() const {
  require(cin > 0 && cout > 0 && h > 0 && w > 0 && kh > 0 && kw > 0 && stride > 0 && pad >= 0,
          "invalid convolution shape");
  require(h + 2 * pad >= kh && w + 2 * pad >= kw, "convolution kernel larger than its padded input");
}

PackedMatrix pack_matrix(const float* m, int rows, int depth) {
  PackedMatrix p;
  p.rows = rows;
  p.depth = depth;
  const int panels = (rows + kMR - 1) / kMR;
  p.data.assign(static_cast<std::size_t>(panels) * depth * kMR, 0.0f);
  for (int r = 0; r < rows; ++r) {
    float* dst = p.data.data() + static_cast<long>(r / kMR) * depth * kMR + r % kMR;
    const float* src = m + static_cast<long>(r) * depth;
    for (int k = 0; k < depth; ++k) dst[static_cast<long>(k) * kMR] = src[k];
  }
  return p;
}

FloatBuffer flip_transpose_weights(const float* w, int cout, int cin, int kh, int kw) {
  FloatBuffer t(static_cast<std::size_t>(cout) * cin * kh * kw);
  for (int o = 0; o < cout; ++o)
    for (int i = 0; i < cin; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          t[((static_cast<long>(i) * cout + o) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)] =
              w[((static_cast<long>(o) * cin + i) * kh + y) * kw + x];
  return t;
}

std::size_t ConvWeights::bytes() const {
  std::size_t n = forward.data.size() + transposed.data.size();
  for (const auto* ww : {winograd.get(), winograd_transposed.get()})
    if (ww)
      for (const PackedMatrix& u : ww->u) n += u.data.size();
  return n * sizeof(float);
}

ConvWeights pack_conv(const ConvShape& shape, const float* w, ConvParts parts, const KernelPolicy& policy) {
  shape.validate();
  ConvWeights cw;
  cw.shape = shape;
  cw.plan.mr = kMR;
  cw.plan.nr = kNR;
  const int ksz = shape.kh * shape.kw;
  if (static_cast<int>(parts) & static_cast<int>(ConvParts::Forward)) {
    cw.plan.forward = plan_conv_forward(shape, policy);
    if (const int m = winograd_tile(cw.plan.forward)) cw.winograd = pack_winograd(shape, w, m);
    else cw.forward = pack_matrix(w, shape.cout, shape.cin * ksz);
  }
  if (static_cast<int>(parts) & static_cast<int>(ConvParts::Transposed)) {
    cw.plan.transposed = plan_conv_transposed(shape, policy);
    if (cw.plan.transposed == ConvPath::Col2im) {
      // W^T: (cin*kh*kw) x cout
      FloatBuffer t(static_cast<std::size_t>(shape.cin) * ksz * shape.cout);
      for (int o = 0; o < shape.cout; ++o)
        for (int j = 0; j < shape.cin * ksz; ++j)
          t[static_cast<long>(j) * shape.cout + o] = w[static_cast<long>(o) * shape.cin * ksz + j];
      cw.transposed = pack_matrix(t.data(), shape.cin * ksz, shape.cout);
    } else {
      FloatBuffer t = flip_transpose_weights(w, shape.cout, shape.cin, shape.kh, shape.kw);
      if (const int m = winograd_tile(cw.plan.transposed)) cw.winograd_transposed = pack_winograd(flipped_conv_shape(shape), t.data(), m);
      else cw.transposed = pack_matrix(t.data(), shape.cin, shape.cout * ksz);
    }
  }
  return cw;
}

void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, int row_begin, int row_end,
            ThreadPool* pool) {
  const ConvShape& s = cw.shape;
  require(cw.plan.forward != ConvPath::None, "convolution was packed without its forward weights");
  require(cw.plan.mr == kMR && cw.plan.nr == kNR, "convolution weights packed for another micro-kernel");
  if (winograd_tile(cw.plan.forward)) {
    conv2d_winograd(*cw.winograd, in, ep, out, row_begin, row_end, pool);
    return;
  }
  const int ow = s.ow(), n = s.oh() * ow;
  row_begin = std::max(0, row_begin);
  row_end = std::min(s.oh(), row_end);
  Im2colCtx ctx{&s, in, 1};
  gemm_packed(cw.forward, pack_im2col, &ctx, n, row_begin * ow, row_end * ow, out, n, ep, pool);
}

void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, ThreadPool* pool) {
  conv2d(cw, in, ep, out, 0, cw.shape.oh(), pool);
}

void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, int row_begin, int row_end,
                      ThreadPool* pool) {
  const ConvShape& f = cw.shape;
  require(cw.plan.transposed != ConvPath::None, "convolution was packed without its transposed weights");
  require(cw.plan.mr == kMR && cw.plan.nr == kNR, "convolution weights packed for another micro-kernel");
  if (winograd_tile(cw.plan.transposed)) {
    conv2d_winograd(*cw.winograd_transposed, s, Epilogue{}, out, row_begin, row_end, pool);
    return;
  }
  if (cw.plan.transposed == ConvPath::FlippedConv) {
    const ConvShape t = flipped_conv_shape(f);
    // The transposed convolution may produce more rows than the forward input had when (h+2p-k) was not
    // divisible: with stride 1 it never happens, and t.oh() == f.h.
    Im2colCtx ctx{&t, s, 1};
    const int n = f.h * f.w;
    row_begin = std::max(0, row_begin);
    row_end = std::min(f.h, row_end);
    gemm_packed(cw.transposed, pack_im2col, &ctx, n, row_begin * f.w, row_end * f.w, out, n, Epilogue{}, pool);
    return;
  }
  // General stride: columns = W^T s, then scatter-add (col2im).
  const int oh = f.oh(), ow = f.ow(), n = oh * ow, ksz = f.kh * f.kw;
  FloatBuffer cols(static_cast<std::size_t>(f.cin) * ksz * n);
  MatrixCtx ctx{s, n};
  gemm_packed(cw.transposed, pack_plain, &ctx, n, 0, n, cols.data(), n, Epilogue{}, pool);
  std::fill(out, out + static_cast<long>(f.cin) * f.h * f.w, 0.0f);
  for (int ci = 0; ci < f.cin; ++ci)
    for (int ky = 0; ky < f.kh; ++ky)
      for (int kx = 0; kx < f.kw; ++kx) {
        const float* col = cols.data() + (static_cast<long>(ci) * ksz + ky * f.kw + kx) * n;
        float* plane = out + static_cast<long>(ci) * f.h * f.w;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * f.stride - f.pad + ky;
          if (iy < 0 || iy >= f.h) continue;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * f.stride - f.pad + kx;
            if (ix >= 0 && ix < f.w) plane[static_cast<long>(iy) * f.w + ix] += col[oy * ow + ox];
          }
        }
      }
}

void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, ThreadPool* pool) {
  conv_transpose2d(cw, s, out, 0, cw.shape.h, pool);
}

bool conv_transpose2d_batches_members(const ConvWeights& cw) {
  const ConvShape& f = cw.shape;
  return cw.plan.transposed == ConvPath::FlippedConv && f.h * f.w < 4 * kNR;
}

void conv_transpose2d_batch(const ConvWeights& cw, const float* s, int batch, float* out, ThreadPool* pool) {
  const ConvShape& f = cw.shape;
  const long in_n = static_cast<long>(f.cin) * f.h * f.w, out_n = static_cast<long>(f.cout) * f.oh() * f.ow();
  if (batch == 1 || !conv_transpose2d_batches_members(cw)) {
    for (int b = 0; b < batch; ++b) conv_transpose2d(cw, s + b * out_n, out + b * in_n, pool);
    return;
  }
  const ConvShape t = flipped_conv_shape(f);
  const int npm = f.h * f.w, n = batch * npm;
  Im2colCtx ctx{&t, s, batch};
  FloatBuffer c(static_cast<std::size_t>(f.cin) * n);  // cin x (batch x pixels)
  gemm_packed(cw.transposed, pack_im2col, &ctx, n, 0, n, c.data(), n, Epilogue{}, pool);
  for (int b = 0; b < batch; ++b)
    for (int ci = 0; ci < f.cin; ++ci)
      std::memcpy(out + b * in_n + static_cast<long>(ci) * npm, c.data() + static_cast<long>(ci) * n + b * npm,
                  sizeof(float) * static_cast<std::size_t>(npm));
}

void conv_transpose2d_subset(const ConvShape& f, const float* w, WeightMod mod, float gamma, const float* s,
                             int batch, const std::vector<int>& cos, const std::vector<int>& cis, float* out,
                             ThreadPool* pool) {
  const int oh = f.oh(), ow = f.ow(), ksz = f.kh * f.kw;
  const long plane_i = static_cast<long>(f.h) * f.w, plane_o = static_cast<long>(oh) * ow;
  const long in_n = f.cin * plane_i, out_n = f.cout * plane_o;
  std::fill(out, out + batch * in_n, 0.0f);
  const int nco = static_cast<int>(cos.size()), nci = static_cast<int>(cis.size());
  if (nco == 0 || nci == 0) return;
  const bool as_conv = f.stride == 1 && f.pad <= f.kh - 1 && f.pad <= f.kw - 1 && f.kh - 1 - f.pad == f.kw - 1 - f.pad;
  if (!as_conv) {  // general stride: direct loops
    for (int b = 0; b < batch; ++b)
      for (int ci : cis)
        for (int co : cos) {
          const float* wk = w + (static_cast<long>(co) * f.cin + ci) * ksz;
          const float* sc = s + b * out_n + co * plane_o;
          float* o = out + b * in_n + ci * plane_i;
          for (int ky = 0; ky < f.kh; ++ky)
            for (int kx = 0; kx < f.kw; ++kx) {
              const float v = apply_mod(wk[ky * f.kw + kx], mod, gamma);
              for (int oy = 0; oy < oh; ++oy) {
                const int iy = oy * f.stride - f.pad + ky;
                if (iy < 0 || iy >= f.h) continue;
                for (int ox = 0; ox < ow; ++ox) {
                  const int ix = ox * f.stride - f.pad + kx;
                  if (ix >= 0 && ix < f.w) o[iy * f.w + ix] += v * sc[oy * ow + ox];
                }
              }
            }
        }
    return;
  }
  // The transposed product of the sub-convolution (cis <- cos) is itself a convolution of the compacted relevance
  // with flipped, transposed weights: one packed GEMM over every member's pixels.
  FloatBuffer sc(static_cast<std::size_t>(batch) * nco * plane_o);
  for (int b = 0; b < batch; ++b)
    for (int j = 0; j < nco; ++j)
      std::memcpy(sc.data() + (static_cast<long>(b) * nco + j) * plane_o, s + b * out_n + cos[static_cast<std::size_t>(j)] * plane_o,
                  sizeof(float) * static_cast<std::size_t>(plane_o));
  FloatBuffer t(static_cast<std::size_t>(nci) * nco * ksz);
  for (int i = 0; i < nci; ++i)
    for (int j = 0; j < nco; ++j) {
      const float* wk = w + (static_cast<long>(cos[static_cast<std::size_t>(j)]) * f.cin + cis[static_cast<std::size_t>(i)]) * ksz;
      float* tk = t.data() + (static_cast<long>(i) * nco + j) * ksz;
      for (int k = 0; k < ksz; ++k) tk[ksz - 1 - k] = apply_mod(wk[k], mod, gamma);
    }
  const PackedMatrix a = pack_matrix(t.data(), nci, nco * ksz);
  ConvShape sub = f;
  sub.cin = nci;
  sub.cout = nco;
  const ConvShape ts = flipped_conv_shape(sub);
  Im2colCtx ctx{&ts, sc.data(), batch};
  const int n = batch * static_cast<int>(plane_i);
  FloatBuffer c(static_cast<std::size_t>(nci) * n);
  gemm_packed(a, pack_im2col, &ctx, n, 0, n, c.data(), n, Epilogue{}, pool);
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < nci; ++i)
      std::memcpy(out + b * in_n + cis[static_cast<std::size_t>(i)] * plane_i, c.data() + static_cast<long>(i) * n + b * plane_i,
                  sizeof(float) * static_cast<std::size_t>(plane_i));
}

void conv2d_reference(const ConvShape& s, const float* in, const float* w, const float* bias, float* out) {
  const int oh = s.oh(), ow = s.ow();
  for (int co = 0; co < s.cout; ++co)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        double acc = bias ? bias[co] : 0.0;
        for (int ci = 0; ci < s.cin; ++ci)
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad + kx;
              if (ix < 0 || ix >= s.w) continue;
              acc += static_cast<double>(in[(static_cast<long>(ci) * s.h + iy) * s.w + ix]) *
                     w[((static_cast<long>(co) * s.cin + ci) * s.kh + ky) * s.kw + kx];
            }
          }
        out[(static_cast<long>(co) * oh + oy) * ow + ox] = static_cast<float>(acc);
      }
}

void conv_transpose2d_reference(const ConvShape& s, const float* g, const float* w, float* out) {
  const int oh = s.oh(), ow = s.ow();
  std::vector<double> acc(static_cast<std::size_t>(s.cin) * s.h * s.w, 0.0);
  for (int co = 0; co < s.cout; ++co)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const double v = g[(static_cast<long>(co) * oh + oy) * ow + ox];
        if (v == 0.0) continue;
        for (int ci = 0; ci < s.cin; ++ci)
          for (int ky = 0; ky < s.kh; ++ky) {
            const int iy = oy * s.stride - s.pad + ky;
            if (iy < 0 || iy >= s.h) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              const int ix = ox * s.stride - s.pad + kx;
              if (ix < 0 || ix >= s.w) continue;
              acc[(static_cast<long>(ci) * s.h + iy) * s.w + ix] +=
                  v * w[((static_cast<long>(co) * s.cin + ci) * s.kh + ky) * s.kw + kx];
            }
          }
      }
  for (std::size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<float>(acc[i]);
}

}  // namespace lrp
