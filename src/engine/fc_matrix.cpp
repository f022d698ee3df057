#include "engine/fc_matrix.h"

#include "engine/half.h"

namespace lrp {

const char* fc_format_name(FcFormat f) {
  switch (f) {
    case FcFormat::F32: return "F32";
    case FcFormat::F16: return "F16";
    case FcFormat::BF16: return "BF16";
    case FcFormat::I8: return "I8";
  }
  return "?";
}

std::size_t fc_format_size(FcFormat f) {
  switch (f) {
    case FcFormat::F32: return 4;
    case FcFormat::F16:
    case FcFormat::BF16: return 2;
    case FcFormat::I8: return 1;
  }
  return 4;
}

// Branch-free half to float (vectorises): the exponent is rebased by a multiply with 2^112, which is exact for
// normal and subnormal halves alike; infinities and NaN keep an all-ones exponent.
void expand_f16(const uint16_t* src, int n, float* dst) {
  for (int i = 0; i < n; ++i) {
    const uint32_t h = src[i];
    const uint32_t mag = (h & 0x7fffu) << 13;
    float f = bits_to_float(mag) * 0x1p112f;
    uint32_t u = float_to_bits(f);
    u = (h & 0x7c00u) == 0x7c00u ? (mag | 0x7f800000u) : u;
    dst[i] = bits_to_float(u | (h & 0x8000u) << 16);
  }
}

void expand_bf16(const uint16_t* src, int n, float* dst) {
  for (int i = 0; i < n; ++i) dst[i] = bits_to_float(static_cast<uint32_t>(src[i]) << 16);
}

void expand_i8(const int8_t* src, float scale, int n, float* dst) {
  for (int i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) * scale;
}

const float* FcMatrix::row(int r, int c0, int c1, float* dst) const {
  const std::size_t off = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c0);
  const int n = c1 - c0;
  switch (format) {
    case FcFormat::F32: return static_cast<const float*>(data) + off;
    case FcFormat::F16: expand_f16(static_cast<const uint16_t*>(data) + off, n, dst); return dst;
    case FcFormat::BF16: expand_bf16(static_cast<const uint16_t*>(data) + off, n, dst); return dst;
    case FcFormat::I8: expand_i8(static_cast<const int8_t*>(data) + off, scale[r], n, dst); return dst;
  }
  return dst;
}

FcMatrix FcMatrix::sub_rows(int r0, int count) const {
  FcMatrix m = *this;
  m.data = static_cast<const uint8_t*>(data) +
           static_cast<std::size_t>(r0) * static_cast<std::size_t>(cols) * fc_format_size(format);
  if (scale) m.scale = scale + r0;
  m.rows = count;
  return m;
}

std::size_t FcMatrix::bytes() const {
  return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) * fc_format_size(format) +
         (format == FcFormat::I8 ? static_cast<std::size_t>(rows) * 4 : 0);
}

}  // namespace lrp
