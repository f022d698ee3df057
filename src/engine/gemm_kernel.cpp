#include "engine/gemm_kernel.h"

#include "engine/simd.h"

namespace lrp::kernels {

using namespace lrp::simd;

void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate) {
  f32x4 c00 = zero(), c01 = zero(), c10 = zero(), c11 = zero(), c20 = zero(), c21 = zero();
  f32x4 c30 = zero(), c31 = zero(), c40 = zero(), c41 = zero(), c50 = zero(), c51 = zero();
  for (int k = 0; k < kc; ++k) {
    const f32x4 b0 = load(b);
    const f32x4 b1 = load(b + 4);
    f32x4 av = splat(a[0]);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = splat(a[1]);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = splat(a[2]);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = splat(a[3]);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    av = splat(a[4]);
    c40 = madd(av, b0, c40);
    c41 = madd(av, b1, c41);
    av = splat(a[5]);
    c50 = madd(av, b0, c50);
    c51 = madd(av, b1, c51);
    a += kMR;
    b += kNR;
  }
  if (rows == kMR && cols == kNR) {
    f32x4 acc[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < kMR; ++r) {
      float* cr = c + static_cast<long>(r) * ldc;
      if (accumulate) {
        store(cr, add(load(cr), acc[r][0]));
        store(cr + 4, add(load(cr + 4), acc[r][1]));
      } else {
        store(cr, acc[r][0]);
        store(cr + 4, acc[r][1]);
      }
    }
    return;
  }
  alignas(16) float tile[kMR][kNR];
  store(tile[0], c00), store(tile[0] + 4, c01), store(tile[1], c10), store(tile[1] + 4, c11);
  store(tile[2], c20), store(tile[2] + 4, c21), store(tile[3], c30), store(tile[3] + 4, c31);
  store(tile[4], c40), store(tile[4] + 4, c41), store(tile[5], c50), store(tile[5] + 4, c51);
  for (int r = 0; r < rows; ++r) {
    float* cr = c + static_cast<long>(r) * ldc;
    for (int j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + tile[r][j] : tile[r][j];
  }
}

void micro_kernel_reference(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols,
                            bool accumulate) {
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < cols; ++j) {
      float s = 0.0f;
      for (int k = 0; k < kc; ++k) s += a[k * kMR + r] * b[k * kNR + j];
      float* cr = c + static_cast<long>(r) * ldc + j;
      *cr = accumulate ? *cr + s : s;
    }
  }
}

}  // namespace lrp::kernels
