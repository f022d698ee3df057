// The kernel planner: one decision per layer from an explicit policy, stored with the packed weights; every plan
// computes the same products; weights packed for one direction refuse the other.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/conv.h"
#include "engine/error.h"
#include "engine/gemm_kernel.h"
#include "engine/kernel_plan.h"
#include "engine/thread_pool.h"
#include "test_util.h"

using namespace lrp;
using lrp::test::max_abs_diff;
using lrp::test::random_vector;

namespace {

KernelPolicy tile(int m) {
  KernelPolicy p;
  p.max_tile = m;
  return p;
}

}  // namespace

TEST(KernelPlan, Vgg16LayersGetOnePlanPerPolicy) {
  // (cin, side) of VGG16's convolutions at 224 x 224
  struct L {
    int cin, side, cout;
  };
  for (const L& l : {L{3, 224, 64}, L{64, 224, 64}, L{128, 112, 128}, L{256, 56, 256}, L{512, 28, 512}, L{512, 14, 512}}) {
    const ConvShape s{l.cin, l.side, l.side, l.cout, 3, 3, 1, 1};
    SCOPED_TRACE(std::to_string(l.cin) + "x" + std::to_string(l.side));
    const bool first = l.cin == 3;
    EXPECT_EQ(plan_conv_forward(s, tile(4)), first ? ConvPath::Im2col : ConvPath::Winograd4);
    EXPECT_EQ(plan_conv_forward(s, tile(2)), first ? ConvPath::Im2col : ConvPath::Winograd2);
    EXPECT_EQ(plan_conv_forward(s, tile(4).at_most(2)), first ? ConvPath::Im2col : ConvPath::Winograd2);
    EXPECT_EQ(plan_conv_forward(s, KernelPolicy{}.without_winograd()), ConvPath::Im2col);
    // the first layer's transposed product (3 output rows as a convolution) is W^T s + col2im
    EXPECT_EQ(plan_conv_transposed(s, tile(4)), first ? ConvPath::Col2im : ConvPath::FlippedWinograd4);
    EXPECT_EQ(plan_conv_transposed(s, KernelPolicy{}.without_winograd()), first ? ConvPath::Col2im : ConvPath::FlippedConv);
  }
  // small maps take F(2x2) even when F(4x4) is allowed; stride 2 never takes Winograd
  EXPECT_EQ(plan_conv_forward(ConvShape{64, 8, 10, 64, 3, 3, 1, 1}, tile(4)), ConvPath::Winograd2);
  EXPECT_EQ(plan_conv_forward(ConvShape{64, 20, 20, 64, 3, 3, 2, 1}, tile(4)), ConvPath::Im2col);
  EXPECT_EQ(plan_conv_transposed(ConvShape{64, 20, 20, 64, 3, 3, 2, 1}, tile(4)), ConvPath::Col2im);
  EXPECT_EQ(KernelPolicy::native_max_tile(), KernelPolicy{}.max_tile);
}

TEST(KernelPlan, PolicyParsesItsTextAndRefusesAnythingElse) {
  EXPECT_EQ(KernelPolicy::parse(nullptr), KernelPolicy{});
  EXPECT_EQ(KernelPolicy::parse(""), KernelPolicy{});
  EXPECT_FALSE(KernelPolicy::parse("0").winograd);
  EXPECT_EQ(KernelPolicy::parse("2").max_tile, 2);
  EXPECT_EQ(KernelPolicy::parse("4").max_tile, 4);
  for (const char* bad : {"1", "yes", "44", " 2", "-4"}) {
    try {
      KernelPolicy::parse(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected 0"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(KernelPolicy::parse("0").describe(), "no Winograd");
  EXPECT_EQ(tile(4).at_most(2).describe(), "Winograd F(2x2) at most");
  EXPECT_EQ(tile(2).at_most(4).max_tile, 2);
}

TEST(KernelPlan, PackedWeightsCarryTheirPlanAndRefuseTheOtherDirection) {
  const ConvShape s{32, 20, 20, 24, 3, 3, 1, 1};
  auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * 9, 5);
  const ConvWeights fw = pack_conv(s, w.data(), ConvParts::Forward, tile(4));
  EXPECT_EQ(fw.plan.forward, ConvPath::Winograd4);
  EXPECT_EQ(fw.plan.transposed, ConvPath::None);
  EXPECT_EQ(fw.plan.mr, kernels::kMR);
  EXPECT_EQ(fw.plan.nr, kernels::kNR);
  EXPECT_NE(fw.plan.describe().find("forward Winograd F(4x4), transposed none"), std::string::npos) << fw.plan.describe();
  // F(4x4) keeps 36 values per 9 weights, F(2x2) 16, the direct path 9 (padded to whole panels of kMR rows)
  const double weights = static_cast<double>(w.size()) * sizeof(float);
  const ConvWeights f2 = pack_conv(s, w.data(), ConvParts::Forward, tile(2));
  const ConvWeights direct = pack_conv(s, w.data(), ConvParts::Forward, KernelPolicy{}.without_winograd());
  const double pad = static_cast<double>((s.cout + kernels::kMR - 1) / kernels::kMR * kernels::kMR) / s.cout;
  EXPECT_DOUBLE_EQ(static_cast<double>(fw.bytes()), weights * 4 * pad);
  EXPECT_DOUBLE_EQ(static_cast<double>(f2.bytes()), weights * 16 / 9 * pad);
  EXPECT_DOUBLE_EQ(static_cast<double>(direct.bytes()), weights * pad);
  std::vector<float> in(static_cast<std::size_t>(s.cin) * s.h * s.w, 1.0f), out(static_cast<std::size_t>(s.cout) * s.h * s.w);
  EXPECT_THROW(conv_transpose2d(fw, out.data(), in.data(), nullptr), Error);
  const ConvWeights tw = pack_conv(s, w.data(), ConvParts::Transposed, tile(4));
  EXPECT_EQ(tw.plan.forward, ConvPath::None);
  EXPECT_THROW(conv2d(tw, in.data(), Epilogue{}, out.data(), nullptr), Error);
}

TEST(KernelPlan, EveryPlanComputesTheSameProducts) {
  ThreadPool pool(2);
  int seed = 70;
  for (const ConvShape& s : {ConvShape{32, 20, 20, 24, 3, 3, 1, 1}, ConvShape{3, 17, 15, 16, 3, 3, 1, 1},
                             ConvShape{16, 9, 30, 20, 3, 3, 1, 1}, ConvShape{16, 11, 11, 8, 3, 3, 2, 1}}) {
    auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, seed++);
    auto g = random_vector(static_cast<std::size_t>(s.cout) * s.oh() * s.ow(), seed++);
    auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * 9, seed++);
    std::vector<float> ref(g.size()), ref_t(in.size());
    conv2d_reference(s, in.data(), w.data(), nullptr, ref.data());
    conv_transpose2d_reference(s, g.data(), w.data(), ref_t.data());
    for (const KernelPolicy& p : {tile(4), tile(2), KernelPolicy{}.without_winograd()}) {
      const ConvWeights cw = pack_conv(s, w.data(), ConvParts::Both, p);
      SCOPED_TRACE(cw.plan.describe());
      std::vector<float> out(g.size()), back(in.size());
      conv2d(cw, in.data(), Epilogue{}, out.data(), &pool);
      conv_transpose2d(cw, g.data(), back.data(), &pool);
      const double tol = 2e-5 * std::sqrt(static_cast<double>(s.cin * 9 + s.cout * 9));
      EXPECT_LT(max_abs_diff(out.data(), ref.data(), out.size()), tol);
      EXPECT_LT(max_abs_diff(back.data(), ref_t.data(), back.size()), tol);
    }
  }
}

TEST(KernelPlan, ChannelSubsetsPayBelowAThirdOfTheFullProduct) {
  const ConvShape s{512, 14, 14, 512, 3, 3, 1, 1};
  EXPECT_DOUBLE_EQ(conv_subset_limit(s, 512), 512.0 / 3);
  EXPECT_TRUE(conv_subset_pays(s, 170, 512));
  EXPECT_FALSE(conv_subset_pays(s, 171, 512));
  EXPECT_TRUE(conv_subset_pays(s, 512, 1));  // one input channel asked for: always
}
