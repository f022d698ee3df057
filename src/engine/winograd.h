// Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 / stride 1 / pad 1 convolutions, one driver for both tiles
// (winograd_tiles.h). F(2x2): 2x2 output tiles from 4x4 input tiles, so the multiplications drop from 36 to 16 per
// tile and channel pair (2.25x fewer); F(4x4): 4x4 from 6x6, 144 to 36 (4x). The filter transform U = G g G^T is done
// once when the weights are packed; each block of tile rows is transformed (V = B^T d B, SIMD across four tiles),
// multiplied as (m+2)^2 GEMMs (U_xi [cout x cin] * V_xi [cin x tiles]) by the same packed micro-kernel as the direct
// convolution, and transformed back (Y = A^T M A) with bias and ReLU fused into that last step. Which layers take
// it, with which tile, is the planner's decision (kernel_plan.h).
#pragma once

#include <memory>
#include <vector>

#include "engine/conv.h"

namespace lrp {

struct WinogradWeights {
  ConvShape shape;
  int m = 2;                    // output tile m x m: F(2x2) or F(4x4)
  std::vector<PackedMatrix> u;  // (m+2)^2 matrices, u[(m+2)*i+j]: cout x cin
};

// m: 2 or 4 (the kernels work on any map size).
std::shared_ptr<const WinogradWeights> pack_winograd(const ConvShape& s, const float* w, int m);

// out rows [row_begin, row_end) of the convolution (the rest of out is untouched).
void conv2d_winograd(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                     int row_end, ThreadPool* pool);

}  // namespace lrp
