#include "engine/elementwise.h"

#include <cmath>

#include "engine/simd.h"

namespace lrp {

using namespace lrp::simd;

void relu(const float* in, float* out, std::size_t n) {
  const f32x4 z = zero();
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) store(out + i, max(load(in + i), z));
  for (; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void multiply(const float* a, const float* b, float* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) store(out + i, mul(load(a + i), load(b + i)));
  for (; i < n; ++i) out[i] = a[i] * b[i];
}

double sum(const float* a, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += a[i];
  return s;
}

float max_abs(const float* a, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(a[i]));
  return m;
}

}  // namespace lrp
