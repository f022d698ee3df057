// The register-tiled micro-kernel shared by convolutions and transposed convolutions.
// C[MR x NR] (+)= A_panel[k][MR] * B_panel[k][NR], with MR = 6 rows (output channels) and NR = 8 columns
// (two 4-lane vectors of output pixels): 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 registers.
#pragma once

namespace lrp::kernels {

constexpr int kMR = 6;
constexpr int kNR = 8;

// acc_in: if false the tile starts at zero, else at the values already in c (row stride ldc).
// rows/cols: how much of the tile is stored (edge tiles); the computation is always full width.
void micro_kernel(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, bool accumulate);

// Same product, plain loops: the scalar reference the tests compare against.
void micro_kernel_reference(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols,
                            bool accumulate);

}  // namespace lrp::kernels
