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
  // eight independent double accumulators: one chain of dependent additions waited out the adder's latency on every
  // element (about 30 ms per full-size VGG16 explanation for the conservation report alone)
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + static_cast<std::size_t>(j)];
  for (; i < n; ++i) s[0] += a[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

float max_abs(const float* a, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(a[i]));
  return m;
}

}  // namespace lrp
