// Every SIMD kernel against its scalar reference, on odd sizes and non-multiples of the vector width.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "engine/conv.h"
#include "engine/gemm_kernel.h"
#include "engine/linear.h"
#include "engine/pool.h"
#include "engine/thread_pool.h"
#include "engine/elementwise.h"
#include "test_util.h"

using namespace lrp;
using lrp::test::max_abs_diff;
using lrp::test::random_vector;

TEST(MicroKernel, MatchesReferenceOnFullAndEdgeTiles) {
  for (int kc : {1, 3, 17, 256}) {
    auto a = random_vector(static_cast<std::size_t>(kc) * kernels::kMR, 1 + kc);
    auto b = random_vector(static_cast<std::size_t>(kc) * kernels::kNR, 2 + kc);
    for (int rows : {1, std::min(5, kernels::kMR), kernels::kMR})  // edge rows exist only below kMR
      for (int cols : {1, 7, kernels::kNR / 2 + 1, kernels::kNR})
        for (bool acc : {false, true}) {
          const int ldc = kernels::kNR + 3;  // rows of C further apart than a tile is wide
          std::vector<float> c1 = random_vector(static_cast<std::size_t>(kernels::kMR) * ldc, 3), c2 = c1;
          kernels::micro_kernel(kc, a.data(), b.data(), c1.data(), ldc, rows, cols, acc);
          kernels::micro_kernel_reference(kc, a.data(), b.data(), c2.data(), ldc, rows, cols, acc);
          EXPECT_LT(max_abs_diff(c1.data(), c2.data(), c1.size()), 1e-4 * std::sqrt(kc)) << kc << " " << rows << " " << cols;
        }
  }
}

struct ConvCase {
  int cin, h, w, cout, k, stride, pad;
};

static const ConvCase kConvCases[] = {
    {3, 7, 11, 13, 3, 1, 1}, {1, 5, 5, 1, 3, 1, 1},   {5, 9, 6, 7, 5, 2, 2},  {4, 8, 8, 6, 1, 1, 0},
    {16, 14, 14, 32, 3, 1, 1}, {7, 3, 3, 20, 3, 1, 1}, {3, 10, 10, 5, 3, 3, 0}, {2, 13, 17, 9, 3, 2, 1},
    {9, 2, 2, 11, 3, 1, 1},   {64, 6, 5, 7, 3, 1, 1},  {3, 33, 20, 8, 3, 1, 1}, {6, 7, 7, 5, 3, 1, 0},
    {12, 9, 7, 10, 1, 2, 0}};  // (1x1 stride 2: its W^T has as many rows as a flipped convolution would)

static ConvShape shape_of(const ConvCase& c) { return ConvShape{c.cin, c.h, c.w, c.cout, c.k, c.k, c.stride, c.pad}; }

TEST(Conv2d, MatchesReferenceWithBiasAndRelu) {
  int seed = 10;
  for (const auto& cc : kConvCases) {
    const ConvShape s = shape_of(cc);
    auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, seed++);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * s.kh * s.kw, seed++);
    auto bias = random_vector(static_cast<std::size_t>(s.cout), seed++);
    const std::size_t n = static_cast<std::size_t>(s.cout) * s.oh() * s.ow();
    std::vector<float> ref(n), out(n, 99.0f);
    conv2d_reference(s, in.data(), w.data(), bias.data(), ref.data());
    ConvWeights cw = pack_conv(s, w.data(), ConvParts::Both);
    conv2d(cw, in.data(), Epilogue{bias.data(), false}, out.data(), nullptr);
    const double tol = 1e-5 * std::sqrt(static_cast<double>(s.cin * s.kh * s.kw)) * 4;
    EXPECT_LT(max_abs_diff(out.data(), ref.data(), n), tol) << "cin " << cc.cin << " h " << cc.h << " k " << cc.k;
    // ReLU epilogue
    conv2d(cw, in.data(), Epilogue{bias.data(), true}, out.data(), nullptr);
    for (auto& r : ref) r = std::max(r, 0.0f);
    EXPECT_LT(max_abs_diff(out.data(), ref.data(), n), tol);
  }
}

TEST(Conv2d, RowRangesAndThreadsGiveTheSameResult) {
  ThreadPool pool(2);
  for (const auto& cc : kConvCases) {
    const ConvShape s = shape_of(cc);
    auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, 5);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * s.kh * s.kw, 6);
    ConvWeights cw = pack_conv(s, w.data(), ConvParts::Forward);
    const std::size_t n = static_cast<std::size_t>(s.cout) * s.oh() * s.ow();
    std::vector<float> full(n), parts(n, 7.0f), threaded(n);
    conv2d(cw, in.data(), Epilogue{}, full.data(), nullptr);
    for (int r = 0; r < s.oh(); r += 2) conv2d(cw, in.data(), Epilogue{}, parts.data(), r, r + 2, nullptr);
    conv2d(cw, in.data(), Epilogue{}, threaded.data(), &pool);
    EXPECT_EQ(max_abs_diff(full.data(), parts.data(), n), 0.0);
    EXPECT_EQ(max_abs_diff(full.data(), threaded.data(), n), 0.0);
  }
}

TEST(ConvTranspose2d, MatchesReferenceAndIsTheAdjoint) {
  ThreadPool pool(2);
  int seed = 100;
  for (const auto& cc : kConvCases) {
    const ConvShape s = shape_of(cc);
    auto x = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, seed++);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * s.kh * s.kw, seed++);
    const std::size_t no = static_cast<std::size_t>(s.cout) * s.oh() * s.ow();
    const std::size_t ni = x.size();
    auto g = random_vector(no, seed++);
    ConvWeights cw = pack_conv(s, w.data(), ConvParts::Both);
    std::vector<float> ref(ni), out(ni, 5.0f), out2(ni, 3.0f);
    conv_transpose2d_reference(s, g.data(), w.data(), ref.data());
    conv_transpose2d(cw, g.data(), out.data(), nullptr);
    conv_transpose2d(cw, g.data(), out2.data(), &pool);
    const double tol = 1e-5 * std::sqrt(static_cast<double>(s.cout * s.kh * s.kw)) * 4;
    EXPECT_LT(max_abs_diff(out.data(), ref.data(), ni), tol) << "cin " << cc.cin << " k " << cc.k << " s " << cc.stride;
    EXPECT_EQ(max_abs_diff(out.data(), out2.data(), ni), 0.0);
    // <conv(x), g> == <x, conv^T(g)>
    std::vector<float> y(no);
    conv2d(cw, x.data(), Epilogue{}, y.data(), nullptr);
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < no; ++i) lhs += static_cast<double>(y[i]) * g[i];
    for (std::size_t i = 0; i < ni; ++i) rhs += static_cast<double>(x[i]) * out[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (std::fabs(lhs) + 1.0));
  }
}

// A batch of transposed products equals one product per member, whether the members' pixels share one GEMM (small
// maps) or not.
TEST(ConvTranspose2d, BatchEqualsOneMemberAtATime) {
  ThreadPool pool(2);
  int seed = 300;
  for (const auto& cc : kConvCases) {
    const ConvShape s = shape_of(cc);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * s.kh * s.kw, seed++);
    const std::size_t no = static_cast<std::size_t>(s.cout) * s.oh() * s.ow(), ni = static_cast<std::size_t>(s.cin) * s.h * s.w;
    ConvWeights cw = pack_conv(s, w.data(), ConvParts::Both);
    for (int batch : {1, 3, 7}) {
      auto g = random_vector(no * static_cast<std::size_t>(batch), seed++);
      std::vector<float> one(ni * static_cast<std::size_t>(batch)), many(one.size(), 9.0f), ref(ni);
      for (int b = 0; b < batch; ++b) conv_transpose2d(cw, g.data() + b * no, one.data() + b * ni, nullptr);
      conv_transpose2d_batch(cw, g.data(), batch, many.data(), &pool);
      const double tol = 1e-5 * std::sqrt(static_cast<double>(s.cout * s.kh * s.kw)) * 4;
      EXPECT_LT(max_abs_diff(one.data(), many.data(), one.size()), tol) << "cin " << cc.cin << " h " << cc.h << " batch " << batch;
      conv_transpose2d_reference(s, g.data() + (batch - 1) * no, w.data(), ref.data());
      EXPECT_LT(max_abs_diff(many.data() + (batch - 1) * ni, ref.data(), ni), tol);
    }
  }
}

// The channel-restricted transposed product equals the full one on relevance that lives in those channels only.
TEST(ConvTranspose2d, SubsetEqualsTheFullProductOnItsChannels) {
  ThreadPool pool(2);
  int seed = 400;
  for (const auto& cc : kConvCases) {
    const ConvShape s = shape_of(cc);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * s.kh * s.kw, seed++);
    const long no = static_cast<long>(s.oh()) * s.ow(), ni = static_cast<long>(s.h) * s.w;
    auto g = random_vector(static_cast<std::size_t>(s.cout * no), seed++);
    std::vector<int> cos, cis;
    for (int co = 0; co < s.cout; co += 3) cos.push_back(co);
    for (int ci = s.cin - 1; ci >= 0; ci -= 2) cis.push_back(ci);
    std::vector<float> gs(g.size(), 0.0f);
    for (int co : cos) std::copy(g.begin() + co * no, g.begin() + (co + 1) * no, gs.begin() + co * no);
    for (WeightMod mod : {WeightMod::Identity, WeightMod::GammaPositive}) {
      std::vector<float> wm(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) wm[i] = apply_mod(w[i], mod, 0.25f);
      std::vector<float> ref(static_cast<std::size_t>(s.cin * ni)), out(2 * ref.size(), 7.0f);
      conv_transpose2d_reference(s, gs.data(), wm.data(), ref.data());
      // two members: the second is the first scaled by -2
      std::vector<float> g2(2 * g.size());
      for (std::size_t i = 0; i < g.size(); ++i) g2[i] = g[i], g2[g.size() + i] = -2.0f * g[i];
      conv_transpose2d_subset(s, w.data(), mod, 0.25f, g2.data(), 2, cos, cis, out.data(), &pool);
      for (int ci = 0; ci < s.cin; ++ci) {
        const bool kept = std::find(cis.begin(), cis.end(), ci) != cis.end();
        for (long i = 0; i < ni; ++i) {
          const float want = kept ? ref[static_cast<std::size_t>(ci * ni + i)] : 0.0f;
          ASSERT_NEAR(out[static_cast<std::size_t>(ci * ni + i)], want, 1e-4) << "cin " << cc.cin << " stride " << cc.stride;
          ASSERT_NEAR(out[ref.size() + static_cast<std::size_t>(ci * ni + i)], -2.0f * want, 2e-4);
        }
      }
    }
  }
}

TEST(FlipTranspose, MovesEveryWeight) {
  const int co = 2, ci = 3, k = 3;
  std::vector<float> w(co * ci * k * k);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
  auto t = flip_transpose_weights(w.data(), co, ci, k, k);
  // t[i][o][y][x] = w[o][i][k-1-y][k-1-x]
  EXPECT_EQ(t[((1 * co + 0) * k + 0) * k + 0], w[((0 * ci + 1) * k + 2) * k + 2]);
  EXPECT_EQ(t[((2 * co + 1) * k + 1) * k + 2], w[((1 * ci + 2) * k + 1) * k + 0]);
}

TEST(Linear, MatchesReferenceOnOddSizes) {
  ThreadPool pool(2);
  for (int out : {1, 13, 64}) {
    for (int in : {1, 5, 37, 129}) {
      for (int batch : {1, 3}) {
        auto w = random_vector(static_cast<std::size_t>(out) * in, out * 7 + in);
        auto b = random_vector(static_cast<std::size_t>(out), 3);
        auto x = random_vector(static_cast<std::size_t>(batch) * in, 4);
        std::vector<float> y(static_cast<std::size_t>(batch) * out), ref(y.size()), y2(y.size());
        linear(w.data(), b.data(), out, in, x.data(), batch, false, y.data(), nullptr);
        linear(w.data(), b.data(), out, in, x.data(), batch, false, y2.data(), &pool);
        linear_reference(w.data(), b.data(), out, in, x.data(), batch, ref.data());
        EXPECT_LT(max_abs_diff(y.data(), ref.data(), y.size()), 1e-5 * std::sqrt(in) * 4);
        EXPECT_EQ(max_abs_diff(y.data(), y2.data(), y.size()), 0.0);
        auto s = random_vector(static_cast<std::size_t>(batch) * out, 5);
        std::vector<float> xt(static_cast<std::size_t>(batch) * in), xr(xt.size()), xt2(xt.size());
        linear_transposed(w.data(), out, in, s.data(), batch, xt.data(), nullptr);
        linear_transposed(w.data(), out, in, s.data(), batch, xt2.data(), &pool);
        linear_transposed_reference(w.data(), out, in, s.data(), batch, xr.data());
        EXPECT_LT(max_abs_diff(xt.data(), xr.data(), xt.size()), 1e-5 * std::sqrt(out) * 4);
        EXPECT_LT(max_abs_diff(xt.data(), xt2.data(), xt.size()), 1e-6);
      }
    }
  }
}

TEST(Linear, ReluAndRowRanges) {
  const int out = 10, in = 23;
  auto w = random_vector(out * in, 1);
  auto x = random_vector(in, 2);
  std::vector<float> full(out), parts(out), ref(out);
  linear(w.data(), nullptr, out, in, x.data(), 1, true, full.data(), nullptr);
  for (int r = 0; r < out; r += 3) linear(w.data(), nullptr, out, in, x.data(), 1, true, parts.data(), r, r + 3, nullptr);
  linear_reference(w.data(), nullptr, out, in, x.data(), 1, ref.data());
  for (int i = 0; i < out; ++i) {
    EXPECT_NEAR(full[i], std::max(ref[i], 0.0f), 1e-5);
    EXPECT_EQ(full[i], parts[i]);
  }
}

TEST(MaxPool, SwitchesTiesAndUnpool) {
  PoolShape s{2, 5, 4, 2, 2};  // odd height: the last row is dropped like PyTorch's floor mode
  std::vector<float> in = {
      1, 1, 0, 2,  //
      0, 1, 2, 2,  //
      3, 0, 5, 4,  //
      0, 3, 6, 6,  //
      9, 9, 9, 9,  //
      -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18, -19, -20};
  std::vector<float> out(2 * 2 * 2);
  std::vector<int32_t> sw(out.size());
  maxpool2d(s, in.data(), out.data(), sw.data());
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(sw[0], 0);  // tie between (0,0), (0,1), (1,1): the first wins
  EXPECT_EQ(out[1], 2);
  EXPECT_EQ(sw[1], 3);
  EXPECT_EQ(out[2], 3);
  EXPECT_EQ(sw[2], 8);
  EXPECT_EQ(out[3], 6);
  EXPECT_EQ(sw[3], 14);
  EXPECT_EQ(out[4], -1);
  EXPECT_EQ(sw[4], 0);
  std::vector<float> r = {1, 2, 3, 4, 5, 6, 7, 8}, un(in.size(), 99.0f);
  maxunpool2d(s, r.data(), sw.data(), un.data());
  EXPECT_EQ(un[0], 1);
  EXPECT_EQ(un[3], 2);
  EXPECT_EQ(un[14], 4);
  EXPECT_EQ(un[1], 0);
  EXPECT_NEAR(lrp::sum(un.data(), un.size()), 36.0, 1e-9);
}

TEST(MaxPool, NanPropagatesLikePyTorch) {
  PoolShape s{1, 2, 2, 2, 2};
  std::vector<float> in = {1, std::numeric_limits<float>::quiet_NaN(), 5, 2};
  float out;
  int32_t sw;
  maxpool2d(s, in.data(), &out, &sw);
  EXPECT_TRUE(std::isnan(out));
  EXPECT_EQ(sw, 1);
}

TEST(AdaptiveAvgPool, MatchesPyTorchBins) {
  // 5 -> 3: bins [0,2), [1,4), [3,5) (overlapping, as PyTorch)
  std::vector<float> in(25);
  for (int i = 0; i < 25; ++i) in[i] = static_cast<float>(i);
  std::vector<float> out(9);
  adaptive_avgpool2d(1, 5, 5, 3, 3, in.data(), out.data());
  EXPECT_NEAR(out[0], (0 + 1 + 5 + 6) / 4.0, 1e-6);
  EXPECT_NEAR(out[4], (6 + 7 + 8 + 11 + 12 + 13 + 16 + 17 + 18) / 9.0, 1e-5);
  // 2 -> 7 replicates, 7 -> 7 is the identity
  std::vector<float> two = {1, 2, 3, 4}, up(49);
  adaptive_avgpool2d(1, 2, 2, 7, 7, two.data(), up.data());
  EXPECT_EQ(up[0], 1);
  EXPECT_EQ(up[6], 2);
  EXPECT_EQ(up[48], 4);
  std::vector<float> id(49);
  adaptive_avgpool2d(1, 7, 7, 7, 7, up.data(), id.data());
  EXPECT_EQ(max_abs_diff(id.data(), up.data(), 49), 0.0);
  // transposed: adjoint of the forward
  auto x = random_vector(25, 1), g = random_vector(9, 2);
  std::vector<float> y(9), xt(25);
  adaptive_avgpool2d(1, 5, 5, 3, 3, x.data(), y.data());
  adaptive_avgpool2d_transposed(1, 5, 5, 3, 3, g.data(), xt.data());
  double lhs = 0, rhs = 0;
  for (int i = 0; i < 9; ++i) lhs += y[i] * g[i];
  for (int i = 0; i < 25; ++i) rhs += x[i] * xt[i];
  EXPECT_NEAR(lhs, rhs, 1e-5);
}

TEST(Elementwise, ReluMultiplySum) {
  auto a = random_vector(19, 1), b = random_vector(19, 2);
  std::vector<float> r(19), m(19);
  relu(a.data(), r.data(), 19);
  multiply(a.data(), b.data(), m.data(), 19);
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(r[i], a[i] > 0 ? a[i] : 0.0f);
    EXPECT_EQ(m[i], a[i] * b[i]);
  }
  EXPECT_NEAR(lrp::sum(a.data(), 19), [&] { double s = 0; for (float v : a) s += v; return s; }(), 1e-9);
}

TEST(MaxPool, FastTwoByTwoPathEqualsTheReference) {
  for (auto [c, h, w] : {std::tuple{3, 7, 9}, std::tuple{5, 8, 8}, std::tuple{2, 2, 3}, std::tuple{4, 13, 6}}) {
    PoolShape s{c, h, w, 2, 2};
    auto in = random_vector(static_cast<std::size_t>(c) * h * w, 70 + h);
    for (std::size_t i = 0; i < in.size(); i += 5) in[i] = in[i + 1 < in.size() ? i + 1 : i];  // ties
    in[3] = std::numeric_limits<float>::quiet_NaN();
    in[in.size() / 2] = std::numeric_limits<float>::quiet_NaN();
    const std::size_t n = static_cast<std::size_t>(c) * s.oh() * s.ow();
    std::vector<float> a(n), b(n);
    std::vector<int32_t> sa(n), sb(n);
    maxpool2d(s, in.data(), a.data(), sa.data());
    maxpool2d_reference(s, in.data(), b.data(), sb.data());
    EXPECT_EQ(sa, sb);
    for (std::size_t i = 0; i < n; ++i) EXPECT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << i;
  }
}
