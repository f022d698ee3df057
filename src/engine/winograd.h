// Winograd F(2x2, 3x3) and F(4x4, 3x3) (winograd4.cpp) for 3x3 / stride 1 / pad 1 convolutions. F(2x2): 2x2 output tiles from 4x4 input tiles, so the
// multiplications drop from 36 to 16 per tile and channel pair (2.25x fewer). The filter transform U = G g G^T is
// done once when the weights are packed; each block of tile rows is transformed (V = B^T d B, SIMD across four tiles),
// multiplied as 16 GEMMs (U_xi [cout x cin] * V_xi [cin x tiles]) by the same packed micro-kernel as the direct
// convolution, and transformed back (Y = A^T M A) with bias and ReLU fused into that last step.
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

// Whether a convolution takes the Winograd path (3x3, stride 1, pad 1, enough input channels to pay off).
bool winograd_eligible(const ConvShape& s);
// Global switch (tests compare both paths; LRPSCOPE_WINOGRAD=0 in the environment turns it off at start).
void set_winograd_enabled(bool on);
bool winograd_enabled();
// Largest output tile the weight packings may use: 4 (F(4x4) where the map is at least 14 wide and 4 high, F(2x2)
// elsewhere) by default with 128-bit kernels (WebAssembly, SSE, NEON), 2 (F(2x2) only) with the AVX2 / AVX-512
// kernels, where the transforms cost as much as the multiplications saved. LRPSCOPE_WINOGRAD=2 or =4 in the
// environment sets it at start.
void set_winograd_max_tile(int m);
int winograd_max_tile();

// m = 0: the tile for this shape (see winograd_max_tile); 2 or 4: that one (the kernels work on any size).
std::shared_ptr<const WinogradWeights> pack_winograd(const ConvShape& s, const float* w, int m = 0);
std::shared_ptr<const WinogradWeights> pack_winograd4(const ConvShape& s, const float* w);

// out rows [row_begin, row_end) of the convolution (the rest of out is untouched).
void conv2d_winograd(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                     int row_end, ThreadPool* pool);
void conv2d_winograd4(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                      int row_end, ThreadPool* pool);

}  // namespace lrp
