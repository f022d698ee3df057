#include "engine/gemm_kernel.h"

#include "engine/simd.h"

#if defined(LRPSCOPE_KERNEL_AVX512) || defined(LRPSCOPE_KERNEL_AVX2)
#include <immintrin.h>
#endif

namespace lrp::kernels {

using namespace lrp::simd;

#if defined(LRPSCOPE_KERNEL_AVX512)

const char* micro_kernel_name() { return "avx512 12x32"; }

void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate) {
  __m512 acc[kMR][2];
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < kMR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    a += kMR;
    b += kNR;
  }
  const __mmask16 m0 = cols >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << cols) - 1u);
  const __mmask16 m1 = cols >= 32 ? static_cast<__mmask16>(0xffff)
                                  : cols > 16 ? static_cast<__mmask16>((1u << (cols - 16)) - 1u) : static_cast<__mmask16>(0);
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) {
    if (r >= rows) break;
    float* cr = c + static_cast<long>(r) * ldc;
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

#elif defined(LRPSCOPE_KERNEL_AVX2)

const char* micro_kernel_name() { return "avx2 6x16"; }

void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate) {
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    a += kMR;
    b += kNR;
  }
  if (rows == kMR && cols == kNR) {
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      float* cr = c + static_cast<long>(r) * ldc;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, v0);
      _mm256_storeu_ps(cr + 8, v1);
    }
    return;
  }
  alignas(32) float tile[kMR][kNR];
  for (int r = 0; r < kMR; ++r) {
    _mm256_store_ps(tile[r], acc[r][0]);
    _mm256_store_ps(tile[r] + 8, acc[r][1]);
  }
  for (int r = 0; r < rows; ++r) {
    float* cr = c + static_cast<long>(r) * ldc;
    for (int j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + tile[r][j] : tile[r][j];
  }
}

#elif defined(LRPSCOPE_KERNEL_WASM_2X16)

const char* micro_kernel_name() { return "simd128 2x16"; }

void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate) {
  f32x4 c00 = zero(), c01 = zero(), c02 = zero(), c03 = zero(), c10 = zero(), c11 = zero(), c12 = zero(), c13 = zero();
  for (int k = 0; k < kc; ++k) {
    const f32x4 b0 = load(b), b1 = load(b + 4), b2 = load(b + 8), b3 = load(b + 12);
    f32x4 av = splat(a[0]);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    c02 = madd(av, b2, c02);
    c03 = madd(av, b3, c03);
    av = splat(a[1]);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    c12 = madd(av, b2, c12);
    c13 = madd(av, b3, c13);
    a += kMR;
    b += kNR;
  }
  const f32x4 acc[kMR][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}};
  if (rows == kMR && cols == kNR) {
    for (int r = 0; r < kMR; ++r) {
      float* cr = c + static_cast<long>(r) * ldc;
      for (int v = 0; v < 4; ++v) store(cr + 4 * v, accumulate ? add(load(cr + 4 * v), acc[r][v]) : acc[r][v]);
    }
    return;
  }
  alignas(16) float tile[kMR][kNR];
  for (int r = 0; r < kMR; ++r)
    for (int v = 0; v < 4; ++v) store(tile[r] + 4 * v, acc[r][v]);
  for (int r = 0; r < rows; ++r) {
    float* cr = c + static_cast<long>(r) * ldc;
    for (int j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + tile[r][j] : tile[r][j];
  }
}

#else

const char* micro_kernel_name() { return "simd128 6x8"; }

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

#endif

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
