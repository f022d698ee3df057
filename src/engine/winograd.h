// Winograd F(2x2, 3x3) for 3x3 / stride 1 / pad 1 convolutions: 2x2 output tiles from 4x4 input tiles, so the
// multiplications drop from 36 to 16 per tile and channel pair (2.25x fewer). The filter transform U = G g G^T is
// done once when the weights are packed; each block of tile rows is transformed (V = B^T d B, SIMD across four tiles),
// multiplied as 16 GEMMs (U_xi [cout x cin] * V_xi [cin x tiles]) by the same packed micro-kernel as the direct
// convolution, and transformed back (Y = A^T M A) with bias and ReLU fused into that last step.
#pragma once

#include <memory>

#include "engine/conv.h"

namespace lrp {

struct WinogradWeights {
  ConvShape shape;
  PackedMatrix u[16];  // u[4*i+j]: cout x cin
};

// Whether a convolution takes the Winograd path (3x3, stride 1, pad 1, enough input channels to pay off).
bool winograd_eligible(const ConvShape& s);
// Global switch (tests compare both paths; LRPSCOPE_WINOGRAD=0 in the environment turns it off at start).
void set_winograd_enabled(bool on);
bool winograd_enabled();

std::shared_ptr<const WinogradWeights> pack_winograd(const ConvShape& s, const float* w);

// out rows [row_begin, row_end) of the convolution (the rest of out is untouched).
void conv2d_winograd(const WinogradWeights& ww, const float* in, const Epilogue& ep, float* out, int row_begin,
                     int row_end, ThreadPool* pool);

}  // namespace lrp
