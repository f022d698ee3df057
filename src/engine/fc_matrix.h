// A fully connected layer's weight matrix as the kernels read it: float32, or kept compressed in memory (F16, BF16,
// or int8 with one float scale per row) and expanded to float32 a row slice at a time while it streams through the
// matrix-vector products. Compressed weights cut the memory of VGG16's classifier (fc6 alone is 411 MB in float32)
// by 2x or 4x; the products stay float32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lrp {

enum class FcFormat { F32, F16, BF16, I8 };
const char* fc_format_name(FcFormat f);
std::size_t fc_format_size(FcFormat f);

struct FcMatrix {
  FcFormat format = FcFormat::F32;
  const void* data = nullptr;   // rows x cols values of `format`, row-major
  const float* scale = nullptr;  // I8: one scale per row
  int rows = 0, cols = 0;

  static FcMatrix f32(const float* w, int rows, int cols) { return FcMatrix{FcFormat::F32, w, nullptr, rows, cols}; }
  bool dense() const { return format == FcFormat::F32; }
  const float* f32_data() const { return static_cast<const float*>(data); }
  // Values [c0, c1) of row r as float32: a pointer into the matrix when it is float32, else into dst (which must
  // hold c1 - c0 floats) after expanding them.
  const float* row(int r, int c0, int c1, float* dst) const;
  // The first `rows` rows starting at r0 (for row-range kernels).
  FcMatrix sub_rows(int r0, int count) const;
  std::size_t bytes() const;
};

// Expands n values of a compressed row into float32 (scale applies to I8 only).
void expand_f16(const uint16_t* src, int n, float* dst);
void expand_bf16(const uint16_t* src, int n, float* dst);
void expand_i8(const int8_t* src, float scale, int n, float* dst);

}  // namespace lrp
