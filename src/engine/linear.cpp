#include "engine/linear.h"

#include <algorithm>
#include <vector>

#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace lrp {

using namespace lrp::simd;

namespace {

// rho(w): the identity (the plain products) ...
struct Plain {
  f32x4 operator()(f32x4 w) const { return w; }
  float operator()(float w) const { return w; }
};

// ... or an LRP weight modification on four lanes (the same products with rho(w) applied as the weights stream).
struct Modified {
  WeightMod m;
  float gamma;
  f32x4 g, z, one;
  Modified(WeightMod mod, float gm) : m(mod), gamma(gm), g(splat(gm)), z(zero()), one(splat(1.0f)) {}
  f32x4 operator()(f32x4 w) const {
    switch (m) {
      case WeightMod::Identity: return w;
      case WeightMod::Positive: return max(w, z);
      case WeightMod::Negative: return min(w, z);
      case WeightMod::GammaPositive: return madd(g, max(w, z), w);
      case WeightMod::GammaNegative: return madd(g, min(w, z), w);
      case WeightMod::Square: return mul(w, w);
      case WeightMod::Ones: return one;
    }
    return w;
  }
  float operator()(float w) const { return apply_mod(w, m, gamma); }
};

template <class Rho>
float dot_t(const float* w, const float* x, int n, const Rho& rho) {
  f32x4 s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = madd(rho(load(w + i)), load(x + i), s0);
    s1 = madd(rho(load(w + i + 4)), load(x + i + 4), s1);
    s2 = madd(rho(load(w + i + 8)), load(x + i + 8), s2);
    s3 = madd(rho(load(w + i + 12)), load(x + i + 12), s3);
  }
  for (; i + 4 <= n; i += 4) s0 = madd(rho(load(w + i)), load(x + i), s0);
  float s = hsum(add(add(s0, s1), add(s2, s3)));
  for (; i < n; ++i) s += rho(w[i]) * x[i];
  return s;
}

// y[i] += alpha * rho(w[i])
template <class Rho>
void axpy_t(float alpha, const float* w, float* y, int n, const Rho& rho) {
  const f32x4 av = splat(alpha);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    store(y + i, madd(av, rho(load(w + i)), load(y + i)));
    store(y + i + 4, madd(av, rho(load(w + i + 4)), load(y + i + 4)));
  }
  for (; i < n; ++i) y[i] += alpha * rho(w[i]);
}

// True when some batch member has a non-zero coefficient for row o (rows without one need not be read).
bool any_nonzero(const float* s, int out, int batch, int o) {
  for (int n = 0; n < batch; ++n)
    if (s[static_cast<long>(n) * out + o] != 0.0f) return true;
  return false;
}

// y[b][o] = rho(W) x[b] (+ bias, ReLU) for o in [row_begin, row_end)
template <class Rho>
void forward_t(const FcMatrix& w, const Rho& rho, const float* bias, const float* x, int batch, bool relu, float* y,
               int row_begin, int row_end, ThreadPool* pool) {
  const int out = w.rows, in = w.cols;
  row_begin = std::max(0, row_begin);
  row_end = std::min(out, row_end);
  if (row_end <= row_begin) return;
  const int threads = pool ? pool->size() : 1;
  const int parts = std::min(row_end - row_begin, threads * 4);
  parallel_ranges(threads > 1 ? pool : nullptr, row_end - row_begin, parts, [&](int b, int e) {
    std::vector<float> scratch(w.dense() ? 0 : static_cast<std::size_t>(in));
    for (int o = row_begin + b; o < row_begin + e; ++o) {
      const float* wr = w.row(o, 0, in, scratch.data());
      for (int n = 0; n < batch; ++n) {
        const float v = dot_t(wr, x + static_cast<long>(n) * in, in, rho) + (bias ? bias[o] : 0.0f);
        y[static_cast<long>(n) * out + o] = relu ? std::max(v, 0.0f) : v;
      }
    }
  });
}

// x[b] = rho(W)^T s[b]; each part owns a slice of the input columns, so no two threads write the same x
template <class Rho>
void transposed_t(const FcMatrix& w, const Rho& rho, const float* s, int batch, float* x, ThreadPool* pool) {
  const int out = w.rows, in = w.cols;
  std::fill(x, x + static_cast<long>(batch) * in, 0.0f);
  const int threads = pool ? pool->size() : 1;
  const int parts = std::max(1, std::min(threads, in / 64));
  parallel_ranges(threads > 1 ? pool : nullptr, in, parts, [&](int b, int e) {
    std::vector<float> scratch(w.dense() ? 0 : static_cast<std::size_t>(e - b));
    for (int o = 0; o < out; ++o) {
      if (!any_nonzero(s, out, batch, o)) continue;
      const float* wr = w.row(o, b, e, scratch.data());
      for (int n = 0; n < batch; ++n) {
        const float sv = s[static_cast<long>(n) * out + o];
        if (sv != 0.0f) axpy_t(sv, wr, x + static_cast<long>(n) * in + b, e - b, rho);
      }
    }
  });
}

}  // namespace

float dot(const float* a, const float* b, int n) { return dot_t(a, b, n, Plain{}); }

void linear(const FcMatrix& w, const float* bias, const float* x, int batch, bool relu, float* y, int row_begin,
            int row_end, ThreadPool* pool) {
  forward_t(w, Plain{}, bias, x, batch, relu, y, row_begin, row_end, pool);
}

void linear(const float* w, const float* bias, int out, int in, const float* x, int batch, bool relu, float* y,
            int row_begin, int row_end, ThreadPool* pool) {
  linear(FcMatrix::f32(w, out, in), bias, x, batch, relu, y, row_begin, row_end, pool);
}

void linear(const float* w, const float* bias, int out, int in, const float* x, int batch, bool relu, float* y,
            ThreadPool* pool) {
  linear(FcMatrix::f32(w, out, in), bias, x, batch, relu, y, 0, out, pool);
}

void linear_transposed(const FcMatrix& w, const float* s, int batch, float* x, ThreadPool* pool) {
  transposed_t(w, Plain{}, s, batch, x, pool);
}

void linear_transposed(const float* w, int out, int in, const float* s, int batch, float* x, ThreadPool* pool) {
  linear_transposed(FcMatrix::f32(w, out, in), s, batch, x, pool);
}

void linear_mod(const FcMatrix& w, WeightMod mod, float gamma, const float* x, int batch, float* y, ThreadPool* pool) {
  if (mod == WeightMod::Identity) forward_t(w, Plain{}, nullptr, x, batch, false, y, 0, w.rows, pool);
  else forward_t(w, Modified(mod, gamma), nullptr, x, batch, false, y, 0, w.rows, pool);
}

void linear_mod(const float* w, WeightMod mod, float gamma, int out, int in, const float* x, int batch, float* y,
                ThreadPool* pool) {
  linear_mod(FcMatrix::f32(w, out, in), mod, gamma, x, batch, y, pool);
}

void linear_transposed_mod(const FcMatrix& w, WeightMod mod, float gamma, const float* s, int batch, float* x,
                           ThreadPool* pool) {
  if (mod == WeightMod::Identity) transposed_t(w, Plain{}, s, batch, x, pool);
  else transposed_t(w, Modified(mod, gamma), s, batch, x, pool);
}

void linear_transposed_mod(const float* w, WeightMod mod, float gamma, int out, int in, const float* s, int batch,
                           float* x, ThreadPool* pool) {
  linear_transposed_mod(FcMatrix::f32(w, out, in), mod, gamma, s, batch, x, pool);
}

void linear_reference(const float* w, const float* bias, int out, int in, const float* x, int batch, float* y) {
  for (int n = 0; n < batch; ++n)
    for (int o = 0; o < out; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int i = 0; i < in; ++i) acc += static_cast<double>(w[static_cast<long>(o) * in + i]) * x[n * in + i];
      y[static_cast<long>(n) * out + o] = static_cast<float>(acc);
    }
}

void linear_transposed_reference(const float* w, int out, int in, const float* s, int batch, float* x) {
  for (int n = 0; n < batch; ++n)
    for (int i = 0; i < in; ++i) {
      double acc = 0.0;
      for (int o = 0; o < out; ++o) acc += static_cast<double>(w[static_cast<long>(o) * in + i]) * s[n * out + o];
      x[static_cast<long>(n) * in + i] = static_cast<float>(acc);
    }
}

const char* weight_mod_name(WeightMod m) {
  switch (m) {
    case WeightMod::Identity: return "w";
    case WeightMod::Positive: return "w+";
    case WeightMod::Negative: return "w-";
    case WeightMod::GammaPositive: return "w+gamma*w+";
    case WeightMod::GammaNegative: return "w+gamma*w-";
    case WeightMod::Square: return "w^2";
    case WeightMod::Ones: return "1";
  }
  return "?";
}

}  // namespace lrp
