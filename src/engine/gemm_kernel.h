// The register-tiled micro-kernel shared by convolutions and transposed convolutions.
// C[MR x NR] (+)= A_panel[k][MR] * B_panel[k][NR]. The tile is sized for the vector registers of the target:
//  - 128-bit SIMD (WebAssembly SIMD, SSE, NEON): MR = 6 rows (output channels) x NR = 8 columns (two 4-lane
//    vectors of output pixels): 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 registers;
//  - WebAssembly SIMD as V8 compiles it: 2 x 16 (8 accumulators + 4 B vectors + 1 broadcast + 1 product temporary).
//    Without fused multiply-add every product needs a temporary register, and V8 keeps one XMM register for
//    itself, so the 6 x 8 tile spills: measured in Node 20 with the B panel in L2, 6 x 8 ran at 34 GFLOP/s,
//    4 x 8 at 53 and 2 x 16 at 65;
//  - AVX2 + FMA (native builds for such CPUs): 6 x 16 in 16 ymm registers, the same shape twice as wide;
//  - AVX-512: 12 x 32 (24 zmm accumulators + 2 B vectors + 1 broadcast of the 32 registers).
// Packing and cache blocking read kMR / kNR, so every path shares them.
#pragma once

namespace lrp::kernels {

#if defined(__AVX512F__) && !defined(__EMSCRIPTEN__) && !defined(LRPSCOPE_KERNEL_128)
#define LRPSCOPE_KERNEL_AVX512 1
constexpr int kMR = 12;
constexpr int kNR = 32;
#elif defined(__AVX2__) && defined(__FMA__) && !defined(__EMSCRIPTEN__) && !defined(LRPSCOPE_KERNEL_128)
#define LRPSCOPE_KERNEL_AVX2 1
constexpr int kMR = 6;
constexpr int kNR = 16;
#elif defined(__EMSCRIPTEN__) && !defined(LRPSCOPE_KERNEL_6X8)
#define LRPSCOPE_KERNEL_WASM_2X16 1
constexpr int kMR = 2;
constexpr int kNR = 16;
#else
constexpr int kMR = 6;
constexpr int kNR = 8;
#endif

// Which micro-kernel this build uses ("avx512 12x32", "avx2 6x16", "simd128 6x8").
const char* micro_kernel_name();

// acc_in: if false the tile starts at zero, else at the values already in c (row stride ldc).
// rows/cols: how much of the tile is stored (edge tiles); the computation is always full width.
void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate);

// Same product, plain loops: the scalar reference the tests compare against.
void micro_kernel_reference(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols,
                            bool accumulate);

}  // namespace lrp::kernels
