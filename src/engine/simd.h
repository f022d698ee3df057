// 128-bit SIMD vocabulary used by every hot loop: four float32 lanes.
// Compiles to WebAssembly SIMD (-msimd128), SSE (with FMA when the target has it) or NEON; a scalar
// fallback keeps the code portable (define LRPSCOPE_SCALAR_SIMD to force it).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(LRPSCOPE_SCALAR_SIMD)
#define LRPSCOPE_SIMD_SCALAR 1
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define LRPSCOPE_SIMD_WASM 1
#elif defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#define LRPSCOPE_SIMD_SSE 1
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define LRPSCOPE_SIMD_NEON 1
#else
#define LRPSCOPE_SIMD_SCALAR 1
#endif

namespace lrp::simd {

#if defined(LRPSCOPE_SIMD_WASM)
using f32x4 = v128_t;
inline f32x4 load(const float* p) { return wasm_v128_load(p); }
inline void store(float* p, f32x4 v) { wasm_v128_store(p, v); }
inline f32x4 splat(float x) { return wasm_f32x4_splat(x); }
inline f32x4 zero() { return wasm_f32x4_splat(0.0f); }
inline f32x4 add(f32x4 a, f32x4 b) { return wasm_f32x4_add(a, b); }
inline f32x4 sub(f32x4 a, f32x4 b) { return wasm_f32x4_sub(a, b); }
inline f32x4 mul(f32x4 a, f32x4 b) { return wasm_f32x4_mul(a, b); }
inline f32x4 div(f32x4 a, f32x4 b) { return wasm_f32x4_div(a, b); }
inline f32x4 max(f32x4 a, f32x4 b) { return wasm_f32x4_pmax(a, b); }
inline f32x4 min(f32x4 a, f32x4 b) { return wasm_f32x4_pmin(a, b); }
// a*b + c (fused where the target has FMA; WebAssembly SIMD without relaxed-simd rounds twice)
inline f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
// even = a0 a2 b0 b2, odd = a1 a3 b1 b3 (lanes of the 8 floats a|b)
inline void deinterleave(f32x4 a, f32x4 b, f32x4& even, f32x4& odd) {
  even = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
  odd = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
}
// lo = a0 b0 a1 b1, hi = a2 b2 a3 b3
inline void interleave(f32x4 a, f32x4 b, f32x4& lo, f32x4& hi) {
  lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5);
  hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
}
inline float hsum(f32x4 v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}
#elif defined(LRPSCOPE_SIMD_SSE)
using f32x4 = __m128;
inline f32x4 load(const float* p) { return _mm_loadu_ps(p); }
inline void store(float* p, f32x4 v) { _mm_storeu_ps(p, v); }
inline f32x4 splat(float x) { return _mm_set1_ps(x); }
inline f32x4 zero() { return _mm_setzero_ps(); }
inline f32x4 add(f32x4 a, f32x4 b) { return _mm_add_ps(a, b); }
inline f32x4 sub(f32x4 a, f32x4 b) { return _mm_sub_ps(a, b); }
inline f32x4 mul(f32x4 a, f32x4 b) { return _mm_mul_ps(a, b); }
inline f32x4 div(f32x4 a, f32x4 b) { return _mm_div_ps(a, b); }
inline f32x4 max(f32x4 a, f32x4 b) { return _mm_max_ps(a, b); }
inline f32x4 min(f32x4 a, f32x4 b) { return _mm_min_ps(a, b); }
inline void deinterleave(f32x4 a, f32x4 b, f32x4& even, f32x4& odd) {
  even = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  odd = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
}
inline void interleave(f32x4 a, f32x4 b, f32x4& lo, f32x4& hi) {
  lo = _mm_unpacklo_ps(a, b);
  hi = _mm_unpackhi_ps(a, b);
}
#if defined(__FMA__)
inline f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return _mm_fmadd_ps(a, b, c); }
#else
inline f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
#endif
inline float hsum(f32x4 v) {
  __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
#elif defined(LRPSCOPE_SIMD_NEON)
using f32x4 = float32x4_t;
inline f32x4 load(const float* p) { return vld1q_f32(p); }
inline void store(float* p, f32x4 v) { vst1q_f32(p, v); }
inline f32x4 splat(float x) { return vdupq_n_f32(x); }
inline f32x4 zero() { return vdupq_n_f32(0.0f); }
inline f32x4 add(f32x4 a, f32x4 b) { return vaddq_f32(a, b); }
inline f32x4 sub(f32x4 a, f32x4 b) { return vsubq_f32(a, b); }
inline f32x4 mul(f32x4 a, f32x4 b) { return vmulq_f32(a, b); }
inline f32x4 div(f32x4 a, f32x4 b) { return vdivq_f32(a, b); }
inline f32x4 max(f32x4 a, f32x4 b) { return vmaxq_f32(a, b); }
inline f32x4 min(f32x4 a, f32x4 b) { return vminq_f32(a, b); }
inline f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return vfmaq_f32(c, a, b); }
inline float hsum(f32x4 v) { return vaddvq_f32(v); }
inline void deinterleave(f32x4 a, f32x4 b, f32x4& even, f32x4& odd) {
  even = vuzp1q_f32(a, b);
  odd = vuzp2q_f32(a, b);
}
inline void interleave(f32x4 a, f32x4 b, f32x4& lo, f32x4& hi) {
  lo = vzip1q_f32(a, b);
  hi = vzip2q_f32(a, b);
}
#else
struct f32x4 {
  float v[4];
};
inline f32x4 load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
inline void store(float* p, f32x4 a) {
  for (int i = 0; i < 4; ++i) p[i] = a.v[i];
}
inline f32x4 splat(float x) { return {{x, x, x, x}}; }
inline f32x4 zero() { return splat(0.0f); }
#define LRPSCOPE_SCALAR_OP(name, expr)            \
  inline f32x4 name(f32x4 a, f32x4 b) {           \
    f32x4 r;                                      \
    for (int i = 0; i < 4; ++i) r.v[i] = (expr);  \
    return r;                                     \
  }
LRPSCOPE_SCALAR_OP(add, a.v[i] + b.v[i])
LRPSCOPE_SCALAR_OP(sub, a.v[i] - b.v[i])
LRPSCOPE_SCALAR_OP(mul, a.v[i] * b.v[i])
LRPSCOPE_SCALAR_OP(div, a.v[i] / b.v[i])
LRPSCOPE_SCALAR_OP(max, a.v[i] > b.v[i] ? a.v[i] : b.v[i])
LRPSCOPE_SCALAR_OP(min, a.v[i] < b.v[i] ? a.v[i] : b.v[i])
#undef LRPSCOPE_SCALAR_OP
inline f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return add(mul(a, b), c); }
inline float hsum(f32x4 a) { return a.v[0] + a.v[1] + a.v[2] + a.v[3]; }
inline void deinterleave(f32x4 a, f32x4 b, f32x4& even, f32x4& odd) {
  even = {{a.v[0], a.v[2], b.v[0], b.v[2]}};
  odd = {{a.v[1], a.v[3], b.v[1], b.v[3]}};
}
inline void interleave(f32x4 a, f32x4 b, f32x4& lo, f32x4& hi) {
  lo = {{a.v[0], b.v[0], a.v[1], b.v[1]}};
  hi = {{a.v[2], b.v[2], a.v[3], b.v[3]}};
}
#endif

// Name of the instruction set the kernels were compiled for (shown by `lrpscope info` and the bench).
inline const char* isa_name() {
#if defined(LRPSCOPE_SIMD_WASM)
  return "wasm-simd128";
#elif defined(LRPSCOPE_SIMD_SSE) && defined(__FMA__)
  return "sse+fma (128-bit)";
#elif defined(LRPSCOPE_SIMD_SSE)
  return "sse2 (128-bit)";
#elif defined(LRPSCOPE_SIMD_NEON)
  return "neon (128-bit)";
#else
  return "scalar";
#endif
}

}  // namespace lrp::simd
