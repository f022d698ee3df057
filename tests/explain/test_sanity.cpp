// The sanity check (cascading model randomisation, Adebayo et al. 2018): the scores that compare heatmaps
// (Spearman's rank correlation, SSIM) against independent computations; the job's every step against a network
// whose top layers are re-initialised by hand; the last step is make-random's network; deterministic runs.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "explain/heatmap.h"
#include "explain/metrics.h"
#include "explain/sanity.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/random_weights.h"
#include "model/weight_store.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

// Pearson's correlation in plain double loops (the reference for Spearman on ranks given by hand)
double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

std::shared_ptr<Network> tiny() {
  return Network::from_weights(WeightStore::open(source_path("tests/fixtures/tiny_vgg16.safetensors")), "tiny", 32);
}

std::vector<float> heatmap_of(std::shared_ptr<const Network> net, const Tensor& x, const Composite& c, Target t) {
  auto fwd = std::make_shared<ForwardPass>(net, x);
  fwd->run();
  ExplainOptions eo;
  eo.target = t;
  Explanation ex(fwd, std::make_shared<WeightCache>(net), c, eo);
  ex.run();
  return channel_sum(ex.input_relevance());
}

}  // namespace

TEST(Sanity, SpearmanRanksTiesByTheirMeanRank) {
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {1, 2, 3, 4}), 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {10, 200, 3000, 40000}), 1.0);  // any increasing map ranks alike
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  EXPECT_EQ(spearman({1, 1, 1}, {1, 2, 3}), 0.0);  // a constant map
  // ties: b's ranks are 1, 2, 3.5, 5, 3.5
  const double want = pearson({1, 2, 3, 4, 5}, {1, 2, 3.5, 5, 3.5});
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), want, 1e-12);
  EXPECT_THROW(spearman({1, 2}, {1}), Error);
  EXPECT_THROW(spearman({1, NAN}, {1, 2}), Error);
}

// Predict, then reveal: the share of the positive relevance in a painted mask against the share of the area painted.
TEST(Metrics, EvidenceShareCountsOnlyThePositiveRelevanceInsideTheMask) {
  const std::vector<float> r = {4, -3, 1, 0, 2, NAN, -1, 3};  // positive: 4 + 1 + 2 + 3 = 10
  const std::vector<uint8_t> m = {1, 1, 0, 0, 1, 1, 0, 0};   // holds 4 + 2 of it, on 4 of 8 pixels
  const EvidenceShare e = evidence_share(r, m);
  EXPECT_DOUBLE_EQ(e.share, 0.6);
  EXPECT_DOUBLE_EQ(e.area, 0.5);
  EXPECT_DOUBLE_EQ(e.ratio(), 1.2);
  EXPECT_DOUBLE_EQ(evidence_share(r, std::vector<uint8_t>(8, 1)).share, 1.0);
  EXPECT_DOUBLE_EQ(evidence_share(r, std::vector<uint8_t>(8, 0)).ratio(), 0.0);  // nothing painted
  EXPECT_DOUBLE_EQ(evidence_share(std::vector<float>(8, -1.0f), m).share, 0.0);  // no evidence for the class
  EXPECT_THROW(evidence_share(r, std::vector<uint8_t>(7, 1)), Error);
}

TEST(Sanity, SsimIsOneForEqualMapsAndFallsForOthers) {
  const int h = 24, w = 20;
  std::vector<float> a(h * w), b(h * w), c(h * w);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j) {
      a[i * w + j] = (i < 8 && j < 6) ? 1.0f : 0.05f * static_cast<float>(j);  // a block in one corner
      c[i * w + j] = (i >= 16 && j >= 14) ? 1.0f : 0.05f * static_cast<float>(j);  // ... in the opposite one
    }
  for (std::size_t k = 0; k < a.size(); ++k) b[k] = -3.0f * a[k];  // (absolute values, each by its maximum)
  EXPECT_NEAR(ssim(a, a, h, w), 1.0, 1e-12);
  EXPECT_NEAR(ssim(a, b, h, w), 1.0, 1e-12);
  EXPECT_LT(ssim(a, c, h, w), 0.8);
  EXPECT_NEAR(ssim(a, c, h, w), ssim(c, a, h, w), 1e-12);
  // a map smaller than the window: one window over all of it
  EXPECT_NEAR(ssim({0, 1, 0, 1}, {0, 1, 0, 1}, 2, 2), 1.0, 1e-12);
  EXPECT_LT(ssim({0, 1, 0, 1}, {1, 0, 1, 0}, 2, 2), 0.1);
  EXPECT_THROW(ssim(a, c, h, w + 1), Error);
}

TEST(Sanity, EveryStepIsTheExplanationOfTheModelWithItsTopLayersReinitialised) {
  auto net = tiny();
  const Tensor x = random_input(net->input_shape(), 3);
  const Composite comp = Composite::preset("epsilon-plus-flat", *net);
  SanityOptions so;
  so.seed = 7;
  SanityJob job(net, x, comp, Target::top1(), so);
  double last = -1;
  while (job.step(2e5) == Step::More) {
    EXPECT_GE(job.progress(), last);
    last = job.progress();
  }
  const SanityResult& r = job.result();
  ASSERT_EQ(r.steps.size(), job.order().size() + 1);
  ASSERT_EQ(job.order().size(), 16u);  // 13 convolutions and 3 fully connected layers, top first
  EXPECT_EQ(r.steps[1].layer, "fc8");
  EXPECT_EQ(r.steps[16].layer, "conv1_1");
  EXPECT_EQ(r.steps[0].spearman, 1.0);
  EXPECT_EQ(r.steps[0].ssim, 1.0);
  EXPECT_EQ(r.steps[0].heatmap, heatmap_of(net, x, comp, Target::top1()));
  // step 3 by hand: fc8, fc7 and fc6 re-initialised as make-random --seed 7 makes them, the rest trained
  std::vector<std::pair<std::string, Tensor>> t;
  for (const Layer& l : net->layers())
    if (l.has_weights()) {
      const bool top = l.nick == "fc8" || l.nick == "fc7" || l.nick == "fc6";
      t.emplace_back(l.name + ".weight", top ? random_vgg_tensor(net->spec(), l.name + ".weight", 7) : l.dense_weight());
      t.emplace_back(l.name + ".bias", top ? random_vgg_tensor(net->spec(), l.name + ".bias", 7) : l.bias);
    }
  auto by_hand = Network::from_tensors(net->spec(), net->config(), t);
  const std::vector<float> h3 = heatmap_of(by_hand, x, comp, Target::cls(r.target));
  EXPECT_EQ(r.steps[3].layer, "fc6");
  ASSERT_EQ(r.steps[3].heatmap.size(), h3.size());
  EXPECT_LT(max_abs_diff(r.steps[3].heatmap.data(), h3.data(), h3.size()), 1e-6 * max_abs(h3.data(), h3.size()) + 1e-12);
  EXPECT_NEAR(r.steps[3].spearman, spearman(r.steps[0].heatmap, h3), 1e-6);
  EXPECT_NEAR(r.steps[3].ssim, ssim(r.steps[0].heatmap, h3, 32, 32), 1e-6);
  // the last: every layer re-initialised, make-random's network of the same seed
  auto random = Network::from_tensors(net->spec(), net->config(), random_vgg_tensors(net->spec(), 7));
  const std::vector<float> hr = heatmap_of(random, x, comp, Target::cls(r.target));
  EXPECT_LT(max_abs_diff(r.steps[16].heatmap.data(), hr.data(), hr.size()), 1e-6 * max_abs(hr.data(), hr.size()) + 1e-12);
  // the class explained stays the trained model's
  for (const SanityStep& s : r.steps) EXPECT_TRUE(std::isfinite(s.target_logit));
}

TEST(Sanity, RunsAreDeterministicAndSeedsDiffer) {
  auto net = tiny();
  const Tensor x = random_input(net->input_shape(), 4);
  const Composite comp = Composite::preset("gradient-x-input", *net);
  auto run = [&](uint64_t seed) {
    SanityOptions so;
    so.seed = seed;
    SanityJob job(net, x, comp, Target::top1(), so);
    job.run();
    return job.result();
  };
  const SanityResult a = run(1), b = run(1), c = run(2);
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].heatmap, b.steps[i].heatmap) << i;
    EXPECT_EQ(a.steps[i].spearman, b.steps[i].spearman) << i;
  }
  EXPECT_NE(a.steps.back().heatmap, c.steps.back().heatmap);
}
