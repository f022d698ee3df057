// Properties every LRP implementation must have, on small random VGGs.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/error.h"
#include "explain/explanation.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/net_util.h"
#include "job_util.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

struct Fixture {
  std::shared_ptr<Network> net;
  std::shared_ptr<ForwardPass> fwd;
  std::shared_ptr<WeightCache> cache;
};

Fixture make(Tensor input, uint64_t seed = 11, bool biases = true) {
  Fixture f;
  if (biases) {
    f.net = tiny_network(seed, tiny_spec(32));
  } else {
    f.net = Network::from_tensors(tiny_spec(32), ModelConfig{}, random_vgg_tensors(tiny_spec(32), seed));
  }
  f.fwd = std::make_shared<ForwardPass>(f.net, std::move(input));
  f.fwd->run();
  f.cache = std::make_shared<WeightCache>(f.net);
  return f;
}

Composite uniform(const Network& net, Rule r, PoolMode pool = PoolMode::WinnerTakeAll) {
  Composite c = Composite::preset("lrp0", net);
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights()) c.rules[static_cast<std::size_t>(i)] = r;
  c.set_maxpool(pool, net);
  c.name = "test";
  return c;
}

Explanation run(const Fixture& f, const Composite& c, Target t = Target::top1()) {
  ExplainOptions o;
  o.target = t;
  Explanation ex(f.fwd, f.cache, c, o);
  ex.run();
  return ex;
}

int positive_class(const Tensor& logits) {
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (logits[i] > 0.01f) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST(LrpProperties, Lrp0WithoutBiasConservesRelevance) {
  // LRP-0 on a network without biases (with biases present but ignored by the rule, conservation still holds in
  // exact arithmetic, but dividing by a bias-free z near zero makes it numerically unstable).
  auto f = make(random_input({3, 32, 32}, 3), 11, false);
  for (PoolMode pm : {PoolMode::WinnerTakeAll, PoolMode::Proportional}) {
    Rule r = Rule::zero();
    r.bias = false;
    auto ex = run(f, uniform(*f.net, r, pm));
    for (int i = 0; i < f.net->size(); ++i) {
      if (f.net->layer(i).kind == LayerKind::AvgPool) continue;
      EXPECT_NEAR(ex.layer_sums()[static_cast<std::size_t>(i)], ex.target_logit(), 2e-4 * std::fabs(ex.target_logit()))
          << f.net->layer(i).name;
    }
    EXPECT_NEAR(ex.input_sum(), ex.target_logit(), 2e-4 * std::fabs(ex.target_logit()));
  }
}

TEST(LrpProperties, ZPlusIsNonNegativeForNonNegativeInputs) {
  Tensor x = random_input({3, 32, 32}, 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::fabs(x[i]);
  auto f = make(x);
  const int t = positive_class(f.fwd->logits());
  ASSERT_GE(t, 0);
  for (PoolMode pm : {PoolMode::WinnerTakeAll, PoolMode::Proportional}) {
    auto ex = run(f, uniform(*f.net, Rule::zplus(), pm), Target::cls(t));
    for (std::size_t i = 0; i < ex.input_relevance().size(); ++i) EXPECT_GE(ex.input_relevance()[i], 0.0f);
    for (int l = 0; l < f.net->size(); ++l) {
      const Tensor& r = ex.relevance(l);
      for (std::size_t i = 0; i < r.size(); ++i) ASSERT_GE(r[i], 0.0f) << f.net->layer(l).name;
    }
  }
}

TEST(LrpProperties, GammaTendsToNonNegativeAsGammaGrows) {
  // gamma = 0.25 is not non-negative in general (negative weights keep a share); the negative mass shrinks as gamma
  // grows and vanishes in the limit, where gamma becomes z+.
  Tensor x = random_input({3, 32, 32}, 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::fabs(x[i]);
  auto f = make(x);
  const int t = positive_class(f.fwd->logits());
  ASSERT_GE(t, 0);
  double last = 1e30;
  for (float g : {0.25f, 2.0f, 100.0f, 1e5f}) {
    for (bool classic : {false, true}) {
      auto ex = run(f, uniform(*f.net, Rule::gamma_rule(g, classic)), Target::cls(t));
      const Tensor& r = ex.input_relevance();
      double neg = 0, abs = 0;
      for (std::size_t i = 0; i < r.size(); ++i) {
        neg += std::min(0.0f, r[i]);
        abs += std::fabs(r[i]);
      }
      if (!classic) {
        EXPECT_LE(-neg / abs, last + 1e-6) << g;
        last = -neg / abs;
      }
      if (g >= 1e5f) {
        EXPECT_LT(-neg / abs, 1e-3) << "gamma " << g << (classic ? " classic" : "");
      }
    }
  }
}

TEST(LrpProperties, ContrastIsTheDifferenceOfTwoExplanations) {
  auto f = make(random_input({3, 32, 32}, 5));
  for (const char* preset : {"epsilon-gamma-box", "montavon", "epsilon-alpha2-beta1-flat"}) {
    Composite c = Composite::preset(preset, *f.net);
    auto a = run(f, c, Target::cls(2));
    auto b = run(f, c, Target::cls(7));
    auto d = run(f, c, Target::contrast(2, 7));
    const Tensor& ra = a.input_relevance();
    const Tensor& rb = b.input_relevance();
    std::vector<float> diff(ra.size());
    for (std::size_t i = 0; i < ra.size(); ++i) diff[i] = ra[i] - rb[i];
    EXPECT_LT(rel_l2(d.input_relevance().data(), diff.data(), diff.size()), 1e-5) << preset;
    EXPECT_NEAR(d.target_logit(), a.target_logit() - b.target_logit(), 1e-6);
  }
}

TEST(LrpProperties, Lrp0EqualsGradientTimesInput) {
  auto f = make(random_input({3, 32, 32}, 6));
  auto lrp0 = run(f, uniform(*f.net, Rule::zero()));
  auto gxi = run(f, Composite::preset("gradient-x-input", *f.net), Target::cls(lrp0.target_class()));
  // (LRP-0 starts from the logit z_t, so R_t / z_t = 1: the gradient's own seed)
  EXPECT_LT(rel_l2(lrp0.input_relevance().data(), gxi.input_relevance().data(), gxi.input_relevance().size()), 1e-4);
}

TEST(LrpProperties, GradientMatchesFiniteDifferences) {
  Tensor x = random_input({3, 32, 32}, 8);
  auto f = make(x);
  auto g = run(f, Composite::preset("gradient", *f.net), Target::cls(3));
  for (std::size_t i : {0u, 100u, 1500u, 3071u}) {
    // central difference in double steps
    Tensor xp = x, xm = x;
    const float h = 1e-2f;
    xp[i] += h;
    xm[i] -= h;
    const float lp = forward_logits(f.net, xp)[3], lm = forward_logits(f.net, xm)[3];
    EXPECT_NEAR(g.input_relevance()[i], (lp - lm) / (2 * h), 2e-3 + 0.02 * std::fabs(g.input_relevance()[i])) << i;
  }
}

TEST(LrpProperties, GuidedBackpropAndDeconvnetRectify) {
  auto f = make(random_input({3, 32, 32}, 9));
  auto gb = run(f, Composite::preset("guided-backprop", *f.net), Target::top1());
  auto dc = run(f, Composite::preset("deconvnet", *f.net), Target::top1());
  // below every ReLU (at the output of the layer feeding it) the back-propagated signal is rectified
  for (int i = 1; i < f.net->size(); ++i) {
    if (f.net->layer(i).kind != LayerKind::ReLU) continue;
    for (const Explanation* e : {&gb, &dc}) {
      const Tensor& below = e->relevance(i - 1);
      for (std::size_t k = 0; k < below.size(); ++k) ASSERT_GE(below[k], 0.0f) << f.net->layer(i).name;
    }
  }
  EXPECT_GT(max_abs(gb.input_relevance().data(), gb.input_relevance().size()), 0.0);
  EXPECT_GT(max_abs(dc.input_relevance().data(), dc.input_relevance().size()), 0.0);
}

TEST(LrpProperties, SteppingGivesTheSameResultAsRunning) {
  auto f = make(random_input({3, 32, 32}, 10));
  Composite c = Composite::preset("epsilon-gamma-box", *f.net);
  auto a = run(f, c);
  Explanation b(f.fwd, f.cache, c, ExplainOptions{});
  EXPECT_GT(test::run_in_steps(b, 1e5), 3);
  EXPECT_EQ(max_abs_diff(a.input_relevance().data(), b.input_relevance().data(), a.input_relevance().size()), 0.0);
}

// The low-memory policy of the weight cache (big models in the page) drops the forward packings of modified
// weights once a layer is built and makes them again for the next explanation: the results do not change.
TEST(LrpProperties, ReleasingForwardPackingsGivesTheSameResults) {
  auto f = make(random_input({3, 32, 32}, 12));
  for (const char* preset : {"epsilon-gamma-box", "epsilon-alpha2-beta1", "montavon"}) {
    Composite c = Composite::preset(preset, *f.net);
    auto keep = run(f, c);
    const std::size_t kept_bytes = f.cache->bytes();
    Fixture g = f;
    g.cache = std::make_shared<WeightCache>(f.net);
    g.cache->set_keep_forward(false);
    for (int round = 0; round < 2; ++round) {
      auto lean = run(g, c);
      EXPECT_LT(g.cache->bytes(), kept_bytes) << preset;
      EXPECT_EQ(max_abs_diff(keep.input_relevance().data(), lean.input_relevance().data(), keep.input_relevance().size()),
                0.0) << preset;
      for (int i = 0; i < f.net->size(); ++i)
        EXPECT_EQ(max_abs_diff(keep.relevance(i).data(), lean.relevance(i).data(), keep.relevance(i).size()), 0.0)
            << preset << " " << f.net->layer(i).name;
    }
  }
}

TEST(LrpErrors, ClearMessagesForBadSettings) {
  auto f = make(random_input({3, 32, 32}, 1));
  auto msg = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg([&] { Composite::preset("nope", *f.net); }).find("unknown composite 'nope'"), std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"layers":{"conv9_9":{"rule":"epsilon"}}})", *f.net); })
                .find("unknown layer 'conv9_9'"),
            std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"layers":{"conv1_2":{"rule":"alphabeta","alpha":2,"beta":2}}})", *f.net); })
                .find("alpha - beta must equal 1"),
            std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"layers":{"features.2":{"rule":"gamma","gamma":-1}}})", *f.net); })
                .find("gamma must be >= 0"),
            std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"default":{"rule":"magic"}})", *f.net); }).find("unknown rule 'magic'"),
            std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"base":"nope"})", *f.net); }).find("unknown composite"), std::string::npos);
  EXPECT_NE(msg([&] { Composite::from_json(R"({"layers":{"conv1_1":{"rule":"epsilon","eps":1}}})", *f.net); })
                .find("unknown key 'eps'"),
            std::string::npos);
  EXPECT_NE(msg([&] { run(f, Composite::preset("lrp0", *f.net), Target::cls(10)); }).find("out of range"), std::string::npos);
  EXPECT_NE(msg([&] { run(f, Composite::preset("lrp0", *f.net), Target::contrast(1, 1)); }).find("two different"),
            std::string::npos);
  // a user table round-trips through JSON
  Composite c = Composite::from_json(
      R"({"base":"montavon","maxpool":"wta","layers":{"classifier.6":{"rule":"epsilon","epsilon":0.1}}})", *f.net);
  EXPECT_EQ(c.maxpool(*f.net), PoolMode::WinnerTakeAll);
  EXPECT_EQ(c.rule(f.net->find("fc8")).kind, RuleKind::Epsilon);
  Composite d = Composite::from_json(c.to_json(*f.net), *f.net);
  EXPECT_EQ(d.to_json(*f.net), c.to_json(*f.net));
}
