// The packed GEMM behind every convolution (engine-internal): C = A * B where A is a PackedMatrix and B is packed
// a cache block at a time by a callback (im2col, a plain matrix, Winograd-transformed tiles).
#pragma once

#include "engine/conv.h"

namespace lrp {

class ThreadPool;

// Packs rows [k0, k0+kc) x columns [n0, n0+nb) of the virtual matrix B into [group][kc][kNR] (zero padded).
using PackFn = void (*)(const void* ctx, int k0, int kc, int n0, int nb, int ncols, float* dst);

struct MatrixCtx {
  const float* m;  // depth x ncols row-major
  int ld;
};
void pack_plain(const void* ctx, int k0, int kc, int n0, int nb, int ncols, float* dst);

// C[rows x ncols] (row stride ldc) = A * B over columns [n_begin, n_end), then the epilogue (bias, ReLU).
void gemm_packed(const PackedMatrix& a, PackFn pack, const void* ctx, int ncols, int n_begin, int n_end, float* c,
                 int ldc, const Epilogue& ep, ThreadPool* pool);

}  // namespace lrp
