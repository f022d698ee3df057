// Compressed fully connected weights: the fast expansion agrees with the bit-exact conversions, and every
// matrix-vector product on a compressed matrix equals the same product on its float32 expansion.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/fc_matrix.h"
#include "engine/half.h"
#include "engine/linear.h"
#include "engine/thread_pool.h"
#include "test_util.h"

using namespace lrp;
using lrp::test::random_vector;

TEST(FcMatrix, ExpandF16MatchesTheExactConversionForEveryValue) {
  std::vector<uint16_t> all(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) all[h] = static_cast<uint16_t>(h);
  std::vector<float> got(all.size());
  expand_f16(all.data(), static_cast<int>(all.size()), got.data());
  for (uint32_t h = 0; h < 0x10000; ++h)
    ASSERT_EQ(float_to_bits(got[h]), float_to_bits(f16_to_float(static_cast<uint16_t>(h)))) << std::hex << h;
}

TEST(FcMatrix, ExpandBf16AndInt8) {
  const uint16_t b[3] = {0x3f80, 0xc0a0, 0x0000};
  float f[3];
  expand_bf16(b, 3, f);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -5.0f);
  EXPECT_EQ(f[2], 0.0f);
  const int8_t q[4] = {-128, -1, 0, 127};
  float g[4];
  expand_i8(q, 0.5f, 4, g);
  EXPECT_EQ(g[0], -64.0f);
  EXPECT_EQ(g[1], -0.5f);
  EXPECT_EQ(g[2], 0.0f);
  EXPECT_EQ(g[3], 63.5f);
}

namespace {

struct Stored {
  FcFormat format;
  std::vector<uint8_t> bytes;
  std::vector<float> scale;
  std::vector<float> dense;  // the float32 expansion
  FcMatrix m;
};

Stored make(FcFormat format, int rows, int cols, uint64_t seed) {
  Stored s;
  s.format = format;
  const std::vector<float> w = random_vector(static_cast<std::size_t>(rows) * cols, seed);
  s.dense.resize(w.size());
  s.bytes.resize(w.size() * fc_format_size(format));
  if (format == FcFormat::I8) s.scale = random_vector(static_cast<std::size_t>(rows), seed + 1);
  for (std::size_t i = 0; i < w.size(); ++i) {
    const int r = static_cast<int>(i / static_cast<std::size_t>(cols));
    if (format == FcFormat::F16 || format == FcFormat::BF16) {
      const uint16_t h = format == FcFormat::F16 ? float_to_f16(w[i]) : float_to_bf16(w[i]);
      std::memcpy(&s.bytes[2 * i], &h, 2);
      s.dense[i] = format == FcFormat::F16 ? f16_to_float(h) : bf16_to_float(h);
    } else if (format == FcFormat::I8) {
      const int8_t q = static_cast<int8_t>(static_cast<int>(w[i] * 127.0f));
      s.bytes[i] = static_cast<uint8_t>(q);
      s.dense[i] = static_cast<float>(q) * s.scale[static_cast<std::size_t>(r)];
    }
  }
  s.m = FcMatrix{format, s.bytes.data(), s.scale.empty() ? nullptr : s.scale.data(), rows, cols};
  return s;
}

}  // namespace

TEST(FcMatrix, ProductsOnCompressedWeightsEqualTheExpandedOnes) {
  ThreadPool pool(3);
  const int rows = 37, cols = 203, batch = 3;
  for (FcFormat f : {FcFormat::F16, FcFormat::BF16, FcFormat::I8}) {
    Stored s = make(f, rows, cols, 11 + static_cast<uint64_t>(f));
    const FcMatrix d = FcMatrix::f32(s.dense.data(), rows, cols);
    EXPECT_EQ(s.m.bytes(), static_cast<std::size_t>(rows) * cols * fc_format_size(f) + (f == FcFormat::I8 ? rows * 4u : 0u));
    const std::vector<float> x = random_vector(static_cast<std::size_t>(batch) * cols, 5);
    std::vector<float> sv = random_vector(static_cast<std::size_t>(batch) * rows, 6);
    for (int o = 0; o < rows; o += 3) sv[static_cast<std::size_t>(o)] = 0.0f;  // skipped rows
    const std::vector<float> bias = random_vector(static_cast<std::size_t>(rows), 7);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> a(static_cast<std::size_t>(batch) * rows), b(a.size());
      linear(s.m, bias.data(), x.data(), batch, true, a.data(), 0, rows, p);
      linear(d, bias.data(), x.data(), batch, true, b.data(), 0, rows, p);
      EXPECT_EQ(a, b) << fc_format_name(f);
      // a row range through sub_rows writes the same outputs as the whole matrix
      std::vector<float> c(rows, -1.0f), full(rows);
      linear_mod(s.m.sub_rows(5, 20), WeightMod::Identity, 0.0f, x.data(), 1, c.data() + 5, p);
      linear_mod(d, WeightMod::Identity, 0.0f, x.data(), 1, full.data(), p);
      for (int o = 0; o < rows; ++o)
        EXPECT_EQ(c[static_cast<std::size_t>(o)], o >= 5 && o < 25 ? full[static_cast<std::size_t>(o)] : -1.0f) << o;
      for (WeightMod mod : {WeightMod::Identity, WeightMod::Positive, WeightMod::GammaPositive, WeightMod::Square}) {
        std::vector<float> ya(static_cast<std::size_t>(batch) * rows), yb(ya.size());
        linear_mod(s.m, mod, 0.25f, x.data(), batch, ya.data(), p);
        linear_mod(d, mod, 0.25f, x.data(), batch, yb.data(), p);
        EXPECT_EQ(ya, yb) << fc_format_name(f) << " " << weight_mod_name(mod);
        std::vector<float> xa(static_cast<std::size_t>(batch) * cols), xb(xa.size());
        linear_transposed_mod(s.m, mod, 0.25f, sv.data(), batch, xa.data(), p);
        linear_transposed_mod(d, mod, 0.25f, sv.data(), batch, xb.data(), p);
        EXPECT_EQ(xa, xb) << fc_format_name(f) << " " << weight_mod_name(mod);
      }
      std::vector<float> ta(static_cast<std::size_t>(batch) * cols), tb(ta.size());
      linear_transposed(s.m, sv.data(), batch, ta.data(), p);
      linear_transposed_reference(s.dense.data(), rows, cols, sv.data(), batch, tb.data());
      for (std::size_t i = 0; i < ta.size(); ++i) EXPECT_NEAR(ta[i], tb[i], 1e-4) << fc_format_name(f);
    }
  }
}
