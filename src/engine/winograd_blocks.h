// Engine-internal: what F(2x2) (winograd.cpp) and F(4x4) (winograd4.cpp) share around their transforms — the
// per-thread scratch, the zero-padded input rows, the (m+2)^2 GEMMs, clipped row stores and the split of the
// output rows into blocks of tile rows.
#pragma once

#include <cstddef>
#include <functional>

#include "engine/simd.h"
#include "engine/winograd.h"

namespace lrp::winograd_detail {

struct Buffers {
  float* padded;  // C x hp x wp
  float* v;       // (m+2)^2 x C x n
  float* m;       // (m+2)^2 x K x n
};
// The calling thread's scratch (one set for both tile sizes), grown to at least these sizes.
Buffers scratch(std::size_t padded_n, std::size_t v_n, std::size_t m_n);

// Zero-padded copy of one channel's input rows y0 .. y0 + hp - 1 (rows outside the map are zero); column xx of a
// padded row holds input column xx - 1.
void pad_rows(const float* channel, int H, int W, int y0, int hp, int wp, float* dst);

// M_x = U_x V_x for the block's n columns; threads (inner) take whole GEMMs.
void multiply(const WinogradWeights& ww, const float* V, float* M, int n, ThreadPool* inner);

// Tile rows per block: the GEMMs see n = rows * twp columns, and V, M stay under about 2M floats each.
int block_rows(int twp, int matrices, int C, int K);

// Runs block(tb0, tb1, inner) over [ty_begin, ty_end): whole blocks per thread when there are many (large maps, no
// synchronisation inside them), otherwise one block at a time, parallel inside.
void for_blocks(int ty_begin, int ty_end, int rows_per_block, ThreadPool* pool,
                const std::function<void(int, int, ThreadPool*)>& block);

// Stores the first n (<= 4 * count) values of v at dst.
inline void store_clipped(float* dst, const simd::f32x4* v, int count, int n) {
  if (n >= 4 * count) {
    for (int j = 0; j < count; ++j) simd::store(dst + 4 * j, v[j]);
    return;
  }
  alignas(16) float tmp[64];
  for (int j = 0; j < count; ++j) simd::store(tmp + 4 * j, v[j]);
  for (int j = 0; j < n; ++j) dst[j] = tmp[j];
}

}  // namespace lrp::winograd_detail
