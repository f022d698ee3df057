// Equal patches give equal outputs after a Winograd convolution (equal_patches.h): checked against a brute-force
// comparison of every pair of neighbouring patches, on maps with flat regions (a U shape whose arms meet only at the
// bottom, a diagonal edge, flat borders) and on noise, where nothing may change.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/conv.h"
#include "engine/equal_patches.h"
#include "test_util.h"

using namespace lrp;
using lrp::test::random_vector;

namespace {

// A map of flat regions: background b, a U (two arms joined at the bottom) of value u, a diagonal band, in every
// channel with its own values.
std::vector<float> flat_map(int c, int h, int w) {
  std::vector<float> in(static_cast<std::size_t>(c) * h * w);
  for (int k = 0; k < c; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float v = 0.37f + 0.011f * k;                                               // background
        if ((x >= 4 && x < 10 || x >= 20 && x < 26) && y >= 3 && y < 22) v = 1.3f - 0.07f * k;  // the arms
        if (x >= 4 && x < 26 && y >= 16 && y < 22) v = 1.3f - 0.07f * k;           // the bottom joining them
        if (x - y > 14 && x - y < 19) v = -0.5f + 0.03f * k;                        // a diagonal band
        in[(static_cast<std::size_t>(k) * h + y) * w + x] = v;
      }
  return in;
}

bool patches_equal(const ConvShape& s, const std::vector<float>& in, int y0, int x0, int y1, int x1) {
  auto at = [&](int k, int y, int x) {
    return y < 0 || y >= s.h || x < 0 || x >= s.w ? 0.0f : in[(static_cast<std::size_t>(k) * s.h + y) * s.w + x];
  };
  for (int k = 0; k < s.cin; ++k)
    for (int a = -1; a <= 1; ++a)
      for (int b = -1; b <= 1; ++b)
        if (at(k, y0 + a, x0 + b) != at(k, y1 + a, x1 + b)) return false;
  return true;
}

// pairs of 8-neighbours with equal patches; unequal: how many of them have different outputs in some channel
int equal_pairs(const ConvShape& s, const std::vector<float>& in, const std::vector<float>& out, int* unequal) {
  int pairs = 0;
  *unequal = 0;
  for (int y = 0; y < s.h; ++y)
    for (int x = 0; x < s.w; ++x)
      for (const auto& [dy, dx] : {std::pair<int, int>{0, 1}, {1, 0}, {1, 1}, {1, -1}}) {
        const int y1 = y + dy, x1 = x + dx;
        if (y1 >= s.h || x1 < 0 || x1 >= s.w || !patches_equal(s, in, y, x, y1, x1)) continue;
        ++pairs;
        for (int k = 0; k < s.cout; ++k) {
          const std::size_t p = static_cast<std::size_t>(k) * s.h * s.w;
          if (std::memcmp(&out[p + static_cast<std::size_t>(y) * s.w + x], &out[p + static_cast<std::size_t>(y1) * s.w + x1], 4)) {
            ++*unequal;
            break;
          }
        }
      }
  return pairs;
}

}  // namespace

TEST(EqualPatches, WinogradOutputsOfEqualPatchesBecomeExactlyEqual) {
  for (int tile : {2, 4}) {
    SCOPED_TRACE("F(" + std::to_string(tile) + "x" + std::to_string(tile) + ")");
    const ConvShape s{16, 28, 30, 24, 3, 3, 1, 1};
    const auto in = flat_map(s.cin, s.h, s.w);
    const auto w = random_vector(static_cast<std::size_t>(s.cout) * s.cin * 9, 11);
    const auto bias = random_vector(static_cast<std::size_t>(s.cout), 12);
    KernelPolicy p;
    p.max_tile = tile;
    const ConvWeights cw = pack_conv(s, w.data(), ConvParts::Forward, p);
    ASSERT_EQ(winograd_tile(cw.plan.forward), tile);
    std::vector<float> out(static_cast<std::size_t>(s.cout) * s.h * s.w);
    conv2d(cw, in.data(), Epilogue{bias.data(), false}, out.data(), nullptr);
    int unequal_before = 0;
    const int pairs = equal_pairs(s, in, out, &unequal_before);
    ASSERT_GT(pairs, 500);
    // (what the function is for: Winograd itself leaves some of them unequal in their last bits)
    EXPECT_GT(unequal_before, 0);
    const std::vector<float> before = out;
    const long moved = equalize_equal_patches(s, in.data(), out.data());
    EXPECT_GT(moved, 0);
    int unequal_after = 0;
    equal_pairs(s, in, out, &unequal_after);
    EXPECT_EQ(unequal_after, 0) << "of " << pairs << " pairs";
    // a position whose patch equals no neighbour's keeps its output, and nothing moved by more than rounding
    double scale = 0;
    for (float v : before) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    long changed = 0;
    for (int y = 0; y < s.h; ++y)
      for (int x = 0; x < s.w; ++x) {
        bool any = false;
        for (int dy = -1; dy <= 1 && !any; ++dy)
          for (int dx = -1; dx <= 1 && !any; ++dx)
            if ((dy || dx) && y + dy >= 0 && y + dy < s.h && x + dx >= 0 && x + dx < s.w)
              any = patches_equal(s, in, y, x, y + dy, x + dx);
        for (int k = 0; k < s.cout; ++k) {
          const std::size_t i = (static_cast<std::size_t>(k) * s.h + y) * s.w + x;
          if (!any) ASSERT_EQ(std::memcmp(&out[i], &before[i], 4), 0) << y << "," << x;
          ASSERT_NEAR(out[i], before[i], 2e-5 * scale);
          changed += out[i] != before[i];
        }
      }
    EXPECT_GT(changed, 0);
  }
}

TEST(EqualPatches, NoiseAndOtherShapesAreLeftAlone) {
  const ConvShape s{8, 12, 13, 8, 3, 3, 1, 1};
  const auto in = random_vector(static_cast<std::size_t>(s.cin) * s.h * s.w, 5);
  auto out = random_vector(static_cast<std::size_t>(s.cout) * s.h * s.w, 6);
  const auto before = out;
  EXPECT_EQ(equalize_equal_patches(s, in.data(), out.data()), 0);
  EXPECT_EQ(out, before);
  // stride 2 or a 1x1 kernel: not a shape Winograd runs, untouched even on a flat map
  const std::vector<float> flat(static_cast<std::size_t>(s.cin) * s.h * s.w, 0.5f);
  EXPECT_EQ(equalize_equal_patches(ConvShape{8, 12, 13, 8, 3, 3, 2, 1}, flat.data(), out.data()), 0);
  EXPECT_EQ(equalize_equal_patches(ConvShape{8, 12, 13, 8, 1, 1, 1, 0}, flat.data(), out.data()), 0);
  EXPECT_EQ(out, before);
  // a flat map: every interior position joins one set, the borders (their patches hold padding) sets of their own
  auto o2 = out;
  EXPECT_GT(equalize_equal_patches(s, flat.data(), o2.data()), 0);
  for (int k = 0; k < s.cout; ++k) {
    const float* pl = o2.data() + static_cast<std::size_t>(k) * s.h * s.w;
    for (int y = 1; y + 1 < s.h; ++y)
      for (int x = 1; x + 1 < s.w; ++x) EXPECT_EQ(pl[y * s.w + x], pl[1 * s.w + 1]);
  }
}
