// Winograd F(2x2,3x3) and F(4x4,3x3) against the scalar reference and the direct (im2col) path: odd sizes, edge tiles, row
// ranges, threads, the fused epilogue; and its numerical error on layer-sized problems.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "engine/conv.h"
#include "engine/thread_pool.h"
#include "engine/winograd.h"
#include "test_util.h"

using namespace lrp;
using lrp::test::max_abs_diff;
using lrp::test::random_vector;

namespace {

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

struct Case {
  int cin, h, w, cout;
};

}  // namespace

TEST(Winograd, MatchesReferenceOnOddSizesRowRangesAndThreads) {
  ThreadPool pool(3);
  int seed = 40;
  for (const Case& c : {Case{16, 14, 14, 32}, Case{16, 1, 1, 16}, Case{17, 13, 9, 20}, Case{24, 2, 3, 19},
                        Case{32, 17, 30, 48}, Case{64, 28, 28, 64}, Case{20, 7, 33, 16}}) {
    const ConvShape s{c.cin, c.h, c.w, c.cout, 3, 3, 1, 1};
    auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, seed++);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * 9, seed++);
    auto bias = random_vector(static_cast<std::size_t>(s.cout), seed++);
    const std::size_t n = static_cast<std::size_t>(s.cout) * s.h * s.w;
    std::vector<float> ref(n);
    conv2d_reference(s, in.data(), w.data(), bias.data(), ref.data());
    // the kernel itself works on any size (pack_conv only takes it for maps at least 7 wide)
    EXPECT_EQ(winograd_tile(pack_conv(s, w.data(), ConvParts::Forward).plan.forward) != 0, s.w >= 7);
    for (int tile : {2, 4}) {
    SCOPED_TRACE("F(" + std::to_string(tile) + "x" + std::to_string(tile) + ")");
    // a plan the planner would not make for the small maps: the kernels themselves must still be right
    ConvWeights cw = pack_conv(s, w.data(), ConvParts::Forward, KernelPolicy{}.without_winograd());
    cw.forward = PackedMatrix{};
    cw.plan.forward = tile == 4 ? ConvPath::Winograd4 : ConvPath::Winograd2;
    cw.winograd = pack_winograd(s, w.data(), tile);
    ASSERT_EQ(cw.winograd->m, tile);
    const double tol = (tile == 4 ? 8e-6 : 2e-6) * std::sqrt(static_cast<double>(s.cin * 9)) * std::max(1.0, max_abs(ref));
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> out(n, 99.0f);
      conv2d(cw, in.data(), Epilogue{bias.data(), false}, out.data(), p);
      EXPECT_LT(max_abs_diff(out.data(), ref.data(), n), tol) << c.cin << "x" << c.h << "x" << c.w << "->" << c.cout;
      // row ranges with odd boundaries write exactly their rows
      std::vector<float> parts(n, 7.0f);
      for (int r0 = 0; r0 < s.h; r0 += 3) conv2d(cw, in.data(), Epilogue{bias.data(), false}, parts.data(), r0, r0 + 3, p);
      EXPECT_EQ(max_abs_diff(parts.data(), out.data(), n), 0.0);
      std::vector<float> one(n, 7.0f);
      conv2d(cw, in.data(), Epilogue{bias.data(), false}, one.data(), 1, 2, p);
      for (int k = 0; k < s.cout; ++k)
        for (int y = 0; y < s.h; ++y)
          for (int x = 0; x < s.w; ++x) {
            const std::size_t i = (static_cast<std::size_t>(k) * s.h + y) * s.w + x;
            if (y == 1) ASSERT_EQ(one[i], out[i]);
            else ASSERT_EQ(one[i], 7.0f);
          }
      // fused ReLU
      conv2d(cw, in.data(), Epilogue{bias.data(), true}, out.data(), p);
      std::vector<float> rr = ref;
      for (auto& v : rr) v = std::max(v, 0.0f);
      EXPECT_LT(max_abs_diff(out.data(), rr.data(), n), tol);
    }
    }
  }
}

TEST(Winograd, PolicySelectsThePathAndErrorIsSmallOnLayerSizedProblems) {
  // VGG-like layer (conv3_2 shape at a smaller image): He-scaled weights, non-negative inputs as after a ReLU
  const ConvShape s{256, 28, 28, 256, 3, 3, 1, 1};
  auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, 3);
  for (auto& v : in) v = std::fabs(v);
  auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * 9, 4);
  const float he = std::sqrt(2.0f / (s.cin * 9));
  for (auto& v : w) v *= he;
  const std::size_t n = static_cast<std::size_t>(s.cout) * s.h * s.w;
  std::vector<float> ref(n), fast(n), direct(n);
  conv2d_reference(s, in.data(), w.data(), nullptr, ref.data());
  KernelPolicy f2, f4, direct_only;
  f2.max_tile = 2;  // F(2x2) here; F(4x4) below
  f4.max_tile = 4;
  direct_only.winograd = false;
  ConvWeights wino = pack_conv(s, w.data(), ConvParts::Forward, f2);
  ConvWeights plain = pack_conv(s, w.data(), ConvParts::Forward, direct_only);
  ASSERT_EQ(wino.plan.forward, ConvPath::Winograd2);
  ASSERT_EQ(wino.winograd->m, 2);
  ASSERT_EQ(plain.plan.forward, ConvPath::Im2col);
  ASSERT_FALSE(plain.winograd);
  conv2d(wino, in.data(), Epilogue{}, fast.data(), nullptr);
  conv2d(plain, in.data(), Epilogue{}, direct.data(), nullptr);
  double e2 = 0, d2 = 0, r2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    e2 += (fast[i] - ref[i]) * static_cast<double>(fast[i] - ref[i]);
    d2 += (direct[i] - ref[i]) * static_cast<double>(direct[i] - ref[i]);
    r2 += ref[i] * static_cast<double>(ref[i]);
  }
  const double rel_w = std::sqrt(e2 / r2), rel_d = std::sqrt(d2 / r2);
  std::printf("relative L2 error vs float64-accumulated reference: Winograd F(2x2,3x3) %.2e, direct %.2e\n", rel_w, rel_d);
  EXPECT_LT(rel_w, 1e-6);
  EXPECT_LT(rel_w, 10 * rel_d + 1e-7);
  // F(4x4): its transform constants (up to 8, and 1/6, 1/24) lose about 2 more bits
  ConvWeights wino4 = pack_conv(s, w.data(), ConvParts::Forward, f4);
  ASSERT_EQ(wino4.plan.forward, ConvPath::Winograd4);
  ASSERT_EQ(wino4.winograd->m, 4);
  conv2d(wino4, in.data(), Epilogue{}, fast.data(), nullptr);
  double e4 = 0;
  for (std::size_t i = 0; i < n; ++i) e4 += (fast[i] - ref[i]) * static_cast<double>(fast[i] - ref[i]);
  const double rel_4 = std::sqrt(e4 / r2);
  std::printf("relative L2 error: Winograd F(4x4,3x3) %.2e\n", rel_4);
  EXPECT_LT(rel_4, 5e-6);
  EXPECT_GT(rel_4, rel_w);  // (a test that would notice F(4x4) silently falling back to F(2x2))
}
