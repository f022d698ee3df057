// Convolutions (NCHW, one image at a time) as a packed GEMM: weights are packed once into panels of kMR output
// channels, input patches are packed on the fly (im2col per cache block), and the SIMD micro-kernel multiplies.
// The backward-data direction (transposed convolution) of a stride-1 convolution is itself a convolution with
// spatially flipped, in/out-swapped weights and runs on the same fast path; other strides use GEMM + col2im.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/aligned.h"
#include "engine/weight_mod.h"

namespace lrp {

class ThreadPool;

struct ConvShape {
  int cin = 0, h = 0, w = 0;  // input
  int cout = 0, kh = 3, kw = 3;
  int stride = 1, pad = 1;
  int oh() const { return (h + 2 * pad - kh) / stride + 1; }
  int ow() const { return (w + 2 * pad - kw) / stride + 1; }
  long long macs() const { return 1LL * cout * oh() * ow() * cin * kh * kw; }
  // Throws Error when the shape is not a valid convolution.
  void validate() const;
};

// A row-major matrix (rows x depth) rearranged into zero-padded panels of kMR rows: [panel][depth][kMR].
struct PackedMatrix {
  int rows = 0, depth = 0;
  FloatBuffer data;
  bool empty() const { return rows == 0; }
};
PackedMatrix pack_matrix(const float* m, int rows, int depth);

// Weights W[cout][cin][kh][kw] -> W'[cin][cout][kh-1-y][kw-1-x], the kernel of the transposed convolution.
FloatBuffer flip_transpose_weights(const float* w, int cout, int cin, int kh, int kw);

// Packed operands for one convolution layer, forward and (optionally) backward-data.
struct WinogradWeights;

struct ConvWeights {
  ConvShape shape;
  std::shared_ptr<const WinogradWeights> winograd;  // set: conv2d takes the Winograd path (forward is then empty)
  std::shared_ptr<const WinogradWeights> winograd_transposed;  // set: so does conv_transpose2d (transposed empty)
  PackedMatrix forward;    // W as cout x (cin*kh*kw)
  PackedMatrix transposed; // stride 1: flip_transpose(W) as cin x (cout*kh*kw); else W^T as (cin*kh*kw) x cout
  bool transposed_is_conv = false;  // which of the two `transposed` holds (1x1 kernels make the row counts equal)
};
// w: [cout][cin][kh][kw]. with_transposed: also pack the backward-data operand.
ConvWeights pack_conv(const ConvShape& shape, const float* w, bool with_transposed);
// Only the parts asked for (conv2d needs `forward`, conv_transpose2d `transposed`).
// winograd: use the Winograd path where it applies (3x3 stride 1) and is enabled; it keeps 16/9 as many values.
// max_tile: 4 allows Winograd F(4x4) where it applies (see winograd_max_tile), 2 keeps F(2x2). F(4x4) rounds
// differently at each position of its 4x4 tile, so exact ties between neighbouring outputs (flat image regions)
// no longer stay exact; the network's own forward pass keeps F(2x2) for its max-pool switches.
ConvWeights pack_conv_parts(const ConvShape& shape, const float* w, bool forward, bool transposed, bool winograd,
                            int max_tile = 4);

struct Epilogue {
  const float* bias = nullptr;  // per output channel, or null
  bool relu = false;
};

// out[cout][oh][ow] for output rows [row_begin, row_end) (the rest of out is untouched).
void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, int row_begin, int row_end,
            ThreadPool* pool);
void conv2d(const ConvWeights& cw, const float* in, const Epilogue& ep, float* out, ThreadPool* pool);

// Backward data: s[cout][oh][ow] -> out[cin][h][w] = sum over outputs of W * s (no bias). Needs cw.transposed.
// Computes input-channel rows [row_begin, row_end) of out when the stride is 1 (the whole tensor otherwise).
void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, ThreadPool* pool);
void conv_transpose2d(const ConvWeights& cw, const float* s, float* out, int row_begin, int row_end,
                      ThreadPool* pool);
// A batch of them (s: batch x cout x oh x ow, out: batch x cin x h x w). On small maps (few pixels per member) the
// members' pixels are the columns of one GEMM instead of one narrow GEMM each.
void conv_transpose2d_batch(const ConvWeights& cw, const float* s, int batch, float* out, ThreadPool* pool);
bool conv_transpose2d_batches_members(const ConvWeights& cw);  // true when the batch runs as one GEMM

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
