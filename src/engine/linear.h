// Fully connected layers: y = W x + b (W row-major, out x in) as a streaming SIMD matrix-vector product, and the
// backward-data direction x' = W^T s, for a batch of vectors that share one pass over W.
#pragma once

#include "engine/fc_matrix.h"
#include "engine/weight_mod.h"

namespace lrp {

class ThreadPool;

// y[b][o] for o in [row_begin, row_end); x: batch x in, y: batch x out.
void linear(const float* w, const float* bias, int out, int in, const float* x, int batch, bool relu, float* y,
            int row_begin, int row_end, ThreadPool* pool);
void linear(const float* w, const float* bias, int out, int in, const float* x, int batch, bool relu, float* y,
            ThreadPool* pool);

// x[b][i] = sum_o w[o][i] * s[b][o]; s: batch x out, x: batch x in.
void linear_transposed(const float* w, int out, int in, const float* s, int batch, float* x, ThreadPool* pool);

// The same products with rho(w) applied on the fly (no modified copy of a large fc matrix is made).
void linear_mod(const float* w, WeightMod mod, float gamma, int out, int in, const float* x, int batch, float* y,
                ThreadPool* pool);
void linear_transposed_mod(const float* w, WeightMod mod, float gamma, int out, int in, const float* s, int batch,
                           float* x, ThreadPool* pool);

// The same four products on a matrix that may be kept compressed (F16, BF16, int8 rows expanded as they stream).
void linear(const FcMatrix& w, const float* bias, const float* x, int batch, bool relu, float* y, int row_begin,
            int row_end, ThreadPool* pool);
void linear_transposed(const FcMatrix& w, const float* s, int batch, float* x, ThreadPool* pool);
void linear_mod(const FcMatrix& w, WeightMod mod, float gamma, const float* x, int batch, float* y, ThreadPool* pool);
void linear_transposed_mod(const FcMatrix& w, WeightMod mod, float gamma, const float* s, int batch, float* x,
                           ThreadPool* pool);

float dot(const float* a, const float* b, int n);

void linear_reference(const float* w, const float* bias, int out, int in, const float* x, int batch, float* y);
void linear_transposed_reference(const float* w, int out, int in, const float* s, int batch, float* x);

}  // namespace lrp
