// The kernel planner: which algorithm computes a convolution's products is decided here, once, when its weights are
// packed, from a policy the caller passes in (no process-wide switch, no environment read by a kernel). The choice
// is stored in the packed weights (ConvWeights::plan) together with the micro-kernel tile the panels were packed
// for; conv2d / conv_transpose2d run what the plan says.
#pragma once

#include <string>

#include "engine/conv_shape.h"

namespace lrp {

// What the caller allows. The defaults are the fastest choices of this build's kernels.
struct KernelPolicy {
  bool winograd = true;  // Winograd F(m x m, 3 x 3) where it pays (3x3, stride 1, >= 16 channels, >= 7 wide)
  // Largest Winograd output tile: 4 (F(4x4) on maps >= 14 wide and >= 4 high, F(2x2) on smaller ones) or 2.
  // F(4x4) pays where the GEMM is the cost (128-bit kernels: WebAssembly, SSE, NEON); with the AVX2 / AVX-512
  // kernels its 128-bit transforms weigh as much as the multiplications saved, so those builds default to 2.
  int max_tile = native_max_tile();

  static int native_max_tile();
  // The same with Winograd tiles of at most m x m (2: F(2x2) keeps 16/9 the weights, F(4x4) 4x), or none.
  KernelPolicy at_most(int m) const;
  KernelPolicy without_winograd() const;
  // "0" (no Winograd), "2" (F(2x2) at most), "4" (F(4x4) where it applies); null or "": the defaults. Throws Error
  // naming the accepted values on anything else. (Front ends read it from LRPSCOPE_WINOGRAD.)
  static KernelPolicy parse(const char* text);
  std::string describe() const;  // e.g. "Winograd F(4x4) at most"
  bool operator==(const KernelPolicy& o) const { return winograd == o.winograd && max_tile == o.max_tile; }
};

// The algorithms.
enum class ConvPath {
  None,         // that direction was not packed
  Im2col,       // im2col + packed GEMM
  Winograd2,    // Winograd F(2x2, 3x3)
  Winograd4,    // Winograd F(4x4, 3x3)
  FlippedConv,  // transposed direction of a stride-1 convolution: a convolution with flipped, transposed weights
  FlippedWinograd2, FlippedWinograd4,  // ... run by Winograd
  Col2im,       // transposed direction, any stride: W^T s as one GEMM, then scatter-add
};
const char* conv_path_name(ConvPath p);

// The decision for one layer, kept with its packed weights.
struct ConvPlan {
  ConvPath forward = ConvPath::None;
  ConvPath transposed = ConvPath::None;
  int mr = 0, nr = 0;  // the micro-kernel tile the panels were packed for (kernels::kMR x kernels::kNR)
  std::string describe() const;  // e.g. "forward Winograd F(2x2), transposed flipped Winograd F(4x4), tile 6x16"
};

// Whether a convolution may take the Winograd path (3x3, stride 1, pad 1, enough channels and width to pay off).
bool winograd_eligible(const ConvShape& s);
ConvPath plan_conv_forward(const ConvShape& s, const KernelPolicy& p);
ConvPath plan_conv_transposed(const ConvShape& s, const KernelPolicy& p);
// The convolution that computes the transposed one of a stride-1 convolution (flipped, transposed weights).
ConvShape flipped_conv_shape(const ConvShape& f);
// The Winograd tile of a path (2 or 4; 0 for the others).
int winograd_tile(ConvPath p);

// A transposed product restricted to the channels that carry relevance (conv_transpose2d_subset) beats the full
// packed product below a third of its multiply-adds (the small GEMM packs its own operands). active_out: output
// channels with non-zero relevance; needed_in: input channels asked for.
bool conv_subset_pays(const ConvShape& s, int active_out, int needed_in);
// The largest number of active output channels for which it does (a scan can stop there).
double conv_subset_limit(const ConvShape& s, int needed_in);

}  // namespace lrp
