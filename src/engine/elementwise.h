// Element-wise SIMD helpers used by the network and by LRP.
#pragma once

#include <cstddef>

namespace lrp {

void relu(const float* in, float* out, std::size_t n);
// out = a * b
void multiply(const float* a, const float* b, float* out, std::size_t n);
// Sum of all elements (in double for stable totals).
double sum(const float* a, std::size_t n);
float max_abs(const float* a, std::size_t n);

}  // namespace lrp
