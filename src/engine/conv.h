// Convolutions (NCHW, one image at a time) as a packed GEMM: weights are packed once into panels of kMR output
// channels, input patches are packed on the fly (im2col per cache block), and the SIMD micro-kernel multiplies.
// The backward-data direction (transposed convolution) of a stride-1 convolution is itself a convolution with
// spatially flipped, in/out-swapped weights and runs on the same fast path; other strides use GEMM + col2im.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/aligned.h"
#include "engine/conv_shape.h"
#include "engine/kernel_plan.h"
#include "engine/weight_mod.h"

namespace lrp {

class ThreadPool;

// A row-major matrix (rows x depth) rearranged into zero-padded panels of kMR rows: [panel][depth][kMR].
struct PackedMatrix {
  int rows = 0, depth = 0;
  FloatBuffer data;
  bool empty() const { return rows == 0; }
};
PackedMatrix pack_matrix(const float* m, int rows, int depth);

// Weights W[cout][cin][kh][kw] -> W'[cin][cout][kh-1-y][kw-1-x], the kernel of the transposed convolution.
FloatBuffer flip_transpose_weights(const float* w, int cout, int cin, int kh, int kw);

// Packed operands for one convolution layer, forward and (optionally) backward-data, and the plan that says which
// algorithm each direction runs (decided by the planner when they were packed; kernel_plan.h).
struct WinogradWeights;

struct ConvWeights {
  ConvShape shape;
  ConvPlan plan;
  std::shared_ptr<const WinogradWeights> winograd;             // plan.forward is Winograd*
  std::shared_ptr<const WinogradWeights> winograd_transposed;  // plan.transposed is FlippedWinograd*
  PackedMatrix forward;     // plan.forward is Im2col: W as cout x (cin*kh*kw)
  PackedMatrix transposed;  // FlippedConv: flip_transpose(W) as cin x (cout*kh*kw); Col2im: W^T as (cin*kh*kw) x cout
  std::size_t bytes() const;
};

// Which directions to pack.
enum class ConvParts { Forward = 1, Transposed = 2, Both = 3 };

// w: [cout][cin][kh][kw]. The planner chooses each direction's algorithm from the policy.
ConvWeights pack_conv(const ConvShape& shape, const float* w, ConvParts parts, const KernelPolicy& policy = {});

struct Epilogue {
  const float* bias = nullptr;  // per output channel, or null
  bool relu = false;
};

// out[cout][oh][ow] for output rows [row_begin, row_end) (the rest of out is untouched).
void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, int row_begin, int row_end,
            ThreadPool* pool);
void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, ThreadPool* pool);

// Backward data: s[cout][oh][ow] -> out[cin][h][w] = sum over outputs of W * s (no bias). Needs the transposed part.
// Computes input-channel rows [row_begin, row_end) of out when the stride is 1 (the whole tensor otherwise).
void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, ThreadPool* pool);
void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, int row_begin, int row_end,
                      ThreadPool* pool);
// A batch of them (s: batch x cout x oh x ow, out: batch x cin x h x w). On small maps (few pixels per member) the
// members' pixels are the columns of one GEMM instead of one narrow GEMM each.
void conv_transpose2d_batch(const ConvWeights& cw, const float* s, int batch, float* out, ThreadPool* pool);
bool conv_transpose2d_batches_members(const ConvWeights& cw);  // true when the batch runs as one GEMM (its plan
                                                               // is FlippedConv and the map is small)

// The transposed product restricted to a few channels, straight from the (unpacked) weights w[cout][cin][kh][kw]
// with rho = mod applied on the fly: out[ci] = sum over co in `cos` of rho(W[co][ci]) * s[co] for every ci in `cis`;
// the other channels of out are zero. s: batch x cout x oh x ow, out: batch x cin x h x w (every member uses the
// same channels). For sparse relevance (a few output channels non-zero) and for callers that read a few input
// channels: |cos| * |cis| * kh * kw * oh * ow multiply-adds per member, as one small packed GEMM.
void conv_transpose2d_subset(const ConvShape& shape, const float* w, WeightMod mod, float gamma, const float* s,
                             int batch, const std::vector<int>& cos, const std::vector<int>& cis, float* out,
                             ThreadPool* pool);

// Scalar references (plain loops over the definition), used by the tests.
void conv2d_reference(const ConvShape& shape, const float* in, const float* w, const float* bias, float* out);
void conv_transpose2d_reference(const ConvShape& shape, const float* s, const float* w, float* out);

}  // namespace lrp
