// The seed paper's techniques: selection, conditional LRP, optimiser, neuron graph, deconvnet, pixel flipping.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/deconv.h"
#include "explain/explanation.h"
#include "explain/graph_layout.h"
#include "explain/heatmap.h"
#include "explain/metrics.h"
#include "explain/neuron_graph.h"
#include "explain/optimizer.h"
#include "explain/pixel_flipping.h"
#include "explain/propagate_job.h"
#include "explain/selection.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/net_util.h"
#include "model/image.h"
#include "model/safetensors.h"
#include "job_util.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

struct Setup {
  std::shared_ptr<Network> net;
  std::shared_ptr<ForwardPass> fwd;
  std::shared_ptr<WeightCache> cache;
  std::unique_ptr<Explanation> ex;
};

Setup explain(std::shared_ptr<Network> net, Tensor x, const std::string& preset, Target t = Target::top1()) {
  Setup s;
  s.net = std::move(net);
  s.fwd = std::make_shared<ForwardPass>(s.net, std::move(x));
  s.fwd->run();
  s.cache = std::make_shared<WeightCache>(s.net);
  ExplainOptions o;
  o.target = t;
  s.ex = std::make_unique<Explanation>(s.fwd, s.cache, Composite::preset(preset, *s.net), o);
  s.ex->run();
  return s;
}

// A network in which only channels `carriers` of conv5_3 reach the output: fc6 ignores every other channel.
// With an empty `carriers`, picks three channels that are active on `x` and returns them in `carriers`.
std::shared_ptr<Network> carrier_network(std::vector<int>& carriers, const Tensor& x) {
  VggSpec spec = tiny_spec(32);
  auto t = random_vgg_tensors(spec, 21);
  uint64_t stream = 700;
  for (auto& [n, w] : t)
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0) fill_normal(w, 21, stream++, 0.05f);
  if (carriers.empty()) {
    auto full = Network::from_tensors(spec, ModelConfig{}, t);
    ForwardPass fp(full, x);
    fp.run();
    const Tensor& a = fp.output(full->find("relu5_3"));
    for (int c = 0; c < a.dim(0) && carriers.size() < 3; c += 3)
      if (a[static_cast<std::size_t>(c)] > 0.0f) carriers.push_back(c);
  }
  for (auto& [n, x] : t) {
    if (n != "classifier.0.weight") continue;
    const int out = x.dim(0), in = x.dim(1);  // in = channels of conv5_3 (1x1 map)
    for (int o = 0; o < out; ++o)
      for (int c = 0; c < in; ++c)
        if (std::find(carriers.begin(), carriers.end(), c) == carriers.end()) x[static_cast<std::size_t>(o) * in + c] = 0.0f;
  }
  return Network::from_tensors(spec, ModelConfig{}, t);
}

}  // namespace

// The heatmap scale: a percentile of |h|, never below 1 % of the strongest value (a map whose relevance sits in a few
// pixels would otherwise paint its rounding noise in full colour).
TEST(Heatmap, ScaleIsAPercentileWithAFloor) {
  std::vector<float> ramp(1000);
  for (int i = 0; i < 1000; ++i) ramp[static_cast<std::size_t>(i)] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i + 1);
  EXPECT_FLOAT_EQ(symmetric_scale(ramp, 99.5f), 995.0f);
  EXPECT_FLOAT_EQ(symmetric_scale(ramp, 100.0f), 1000.0f);
  std::vector<float> sparse(1000, 1e-11f);
  for (int i = 0; i < 5; ++i) sparse[static_cast<std::size_t>(100 * i)] = i % 2 ? -2.0f : 1.0f;
  EXPECT_FLOAT_EQ(symmetric_scale(sparse, 99.5f), 0.02f);  // (the percentile alone: 1e-11)
  EXPECT_EQ(symmetric_scale(std::vector<float>(10, 0.0f), 99.5f), 0.0f);
  EXPECT_EQ(symmetric_scale({}, 99.5f), 0.0f);
}

TEST(Selection, TopKThresholdCumulative) {
  const std::vector<double> r = {0.1, -0.5, 0.4, 0.0, 0.3, 0.2};
  Selection s;
  s.k = 3;
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{2, 4, 5}));
  s.absolute = true;
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{1, 2, 4}));
  s.absolute = false;
  s.mode = SelectMode::Threshold;
  s.threshold = 0.6f;  // >= 0.24
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{2, 4}));
  s.threshold = 0.5f;  // >= 0.2
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{2, 4, 5}));
  s.mode = SelectMode::Cumulative;
  s.fraction = 0.7f;  // positive total 1.0: 0.4 + 0.3 = 0.7
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{2, 4}));
  s.fraction = 1.0f;
  EXPECT_EQ(select_neurons(r, s), (std::vector<int>{2, 4, 5, 0}));
  s.mode = SelectMode::TopK;
  s.k = 0;
  EXPECT_THROW(select_neurons(r, s), Error);
}

TEST(Metrics, MseAndSmape) {
  EXPECT_EQ(mse({1, 2, 3}, {2, 4, 6}), 0.0);  // equal after normalisation
  EXPECT_EQ(smape({0, 0, 1}, {0, 0, 1}), 0.0);  // 0/0 := 0
  EXPECT_NEAR(smape({1, 0}, {0, 1}), 200.0, 1e-9);  // disjoint: the maximum
  EXPECT_NEAR(mse({1, 0}, {0, 1}), 1.0, 1e-12);
  EXPECT_NEAR(smape({3, 1}, {1, 3}), 100.0 / 2 * (0.5 / 0.5 + 0.5 / 0.5), 1e-9);
}

TEST(Conditional, OnlyTheCarrierChannelsMatterAndTheOptimiserFindsThem) {
  Tensor x = random_input({3, 32, 32}, 2);
  std::vector<int> carriers;
  auto net = carrier_network(carriers, x);
  ASSERT_EQ(carriers.size(), 3u);
  for (const char* preset : {"epsilon-gamma-box", "lrp0", "epsilon-alpha2-beta1"}) {
    SCOPED_TRACE(preset);
    auto s = explain(net, x, preset);
    const int layer = net->find("conv5_3");
    // every other channel of conv5_3 has exactly zero relevance
    const auto rel = neuron_relevance(s.ex->relevance(layer));
    int nonzero = 0;
    for (std::size_t c = 0; c < rel.size(); ++c) {
      const bool carrier = std::find(carriers.begin(), carriers.end(), static_cast<int>(c)) != carriers.end();
      if (!carrier) EXPECT_EQ(rel[c], 0.0) << c;
      nonzero += carrier && rel[c] != 0.0;
    }
    ASSERT_EQ(nonzero, 3);
    // restricted LRP through the carriers equals full LRP exactly
    Tensor r = restricted_lrp(*s.ex, {NeuronMask{layer, carriers}}, false);
    EXPECT_EQ(max_abs_diff(r.data(), s.ex->input_relevance().data(), r.size()), 0.0);
    // the optimiser: k = m with MSE = SMAPE = 0 there, both directions
    OptimizerOptions oo;
    oo.tolerance = 0.0;
    LayerCurve c = optimize_layer(*s.ex, layer, oo);
    EXPECT_EQ(c.chosen_k, 3);
    const auto it = std::find(c.k.begin(), c.k.end(), 3);
    ASSERT_NE(it, c.k.end());
    const std::size_t i = static_cast<std::size_t>(it - c.k.begin());
    EXPECT_EQ(c.backward_mse[i], 0.0);
    EXPECT_EQ(c.backward_smape[i], 0.0);
    EXPECT_EQ(c.forward_mse[i], 0.0);
    EXPECT_EQ(c.forward_smape[i], 0.0);
    EXPECT_GT(c.backward_smape[i - 1] + c.forward_smape[i - 1], 0.0);
    // the critical path runs through the strongest carrier
    GraphOptions go;
    go.layers = {layer};
    NeuronGraph g = build_graph(*s.ex, go);
    int strongest = carriers[0];
    for (int ch : carriers)
      if (rel[static_cast<std::size_t>(ch)] > rel[static_cast<std::size_t>(strongest)]) strongest = ch;
    ASSERT_EQ(g.path.size(), 2u);
    EXPECT_EQ(g.nodes[static_cast<std::size_t>(g.path[1])].index, strongest);
    EXPECT_EQ(g.nodes[static_cast<std::size_t>(g.path[0])].index, s.ex->target_class());
  }
}

TEST(Conditional, AllChannelsSumToTheFullHeatmapAndBatchingAgrees) {
  auto net = tiny_network(4, tiny_spec(32));
  auto s = explain(net, random_input({3, 32, 32}, 6), "epsilon-gamma-box");
  for (const char* name : {"conv3_3", "conv5_3", "pool2", "fc7"}) {
    const int layer = net->find(name);
    const int width = net->layer(layer).out_shape[0];
    std::vector<int> all(static_cast<std::size_t>(width));
    for (int c = 0; c < width; ++c) all[static_cast<std::size_t>(c)] = c;
    Tensor batched = conditional_heatmaps(*s.ex, layer, all, 16);
    Tensor single = conditional_heatmaps(*s.ex, layer, all, 1);
    EXPECT_LT(max_abs_diff(batched.data(), single.data(), batched.size()), 1e-6 * max_abs(batched.data(), batched.size()));
    const Tensor& full = s.ex->input_relevance();
    std::vector<float> sum(full.size(), 0.0f);
    for (int c = 0; c < width; ++c)
      for (std::size_t i = 0; i < full.size(); ++i) sum[i] += batched[static_cast<std::size_t>(c) * full.size() + i];
    EXPECT_LT(rel_l2(sum.data(), full.data(), full.size()), 1e-5) << name;
  }
}

TEST(Graph, DefaultLayersNodesEdgesAndPath) {
  auto net = tiny_network(4, tiny_spec(32));
  auto s = explain(net, random_input({3, 32, 32}, 6), "epsilon-gamma-box");
  NeuronGraph g = build_graph(*s.ex, GraphOptions{});
  // conv1_2, conv2_2, conv3_3, conv4_3, conv5_3, fc6, fc7, output
  ASSERT_EQ(g.layers.size(), 8u);
  EXPECT_EQ(net->layer(g.layers[0]).nick, "conv1_2");
  EXPECT_EQ(net->layer(g.layers[4]).nick, "conv5_3");
  EXPECT_EQ(net->layer(g.layers[6]).nick, "fc7");
  EXPECT_EQ(g.nodes.size(), 7u * 5u - 5u + 4u + 1u);  // conv1_2 has only 4 channels in the tiny network
  // edges out of each upper node: their conditional relevance sums (over ALL lower neurons) to the node's relevance;
  // over the selected lower nodes it is at most that
  EXPECT_EQ(g.path.size(), g.layers.size());
  double path = 0;
  for (std::size_t i = 0; i + 1 < g.path.size(); ++i)
    for (const auto& e : g.edges)
      if (e.from == g.path[i] && e.to == g.path[i + 1]) path += e.relevance;
  EXPECT_NEAR(path, g.path_relevance, 1e-9);
  // the path heatmap is restricted LRP through the path
  Tensor ph = path_heatmap(*s.ex, g);
  EXPECT_EQ(ph.shape(), net->input_shape());
  // the edge from the output node to a fc7 node is that node's full relevance
  for (const auto& e : g.edges)
    if (e.from == g.path[0]) EXPECT_NEAR(e.relevance, g.nodes[static_cast<std::size_t>(e.to)].relevance, 1e-5);
}

// Every edge equals the channel sum of plainly propagated conditional relevance. The graph computes only the lower
// column's channels and takes one-channel relevance through direct loops; the reference goes through the packed
// products (dense relevance) by linearity: prop(R + R_u) - prop(R) = prop(R_u).
TEST(Graph, EdgesEqualDensePropagation) {
  auto net = tiny_network(4, tiny_spec(32));
  for (const char* preset : {"epsilon-gamma-box", "montavon"}) {
    auto s = explain(net, random_input({3, 32, 32}, 6), preset);
    NeuronGraph g = build_graph(*s.ex, GraphOptions{});
    int checked = 0;
    for (const GraphEdge& e : g.edges) {
      const GraphNode& u = g.nodes[static_cast<std::size_t>(e.from)];
      const GraphNode& d = g.nodes[static_cast<std::size_t>(e.to)];
      const Tensor& ru = s.ex->relevance(u.layer);
      const std::size_t per = ru.size(), pc = per / static_cast<std::size_t>(ru.dim(0));
      std::vector<int> shape = ru.shape();
      shape.insert(shape.begin(), 2);
      Tensor two(shape);
      std::copy(ru.data(), ru.data() + per, two.data());
      std::copy(ru.data(), ru.data() + per, two.data() + per);
      for (std::size_t i = u.index * pc; i < (u.index + 1) * pc; ++i) two[i] += ru[i];
      Tensor rd = propagate(*s.ex->op_ptr(), u.layer, std::move(two), d.layer);
      const std::size_t dn = rd.size() / 2, dpc = dn / static_cast<std::size_t>(net->layer(d.layer).out_shape[0]);
      double want = 0, scale = 0;
      for (std::size_t i = d.index * dpc; i < (d.index + 1) * dpc; ++i) {
        want += static_cast<double>(rd[i]) - rd[dn + i];
        scale += std::fabs(rd[dn + i]);
      }
      EXPECT_NEAR(e.relevance, want, 1e-5 * (scale + std::fabs(want)) + 1e-9)
          << preset << " " << u.id << " -> " << d.id;
      ++checked;
    }
    EXPECT_GT(checked, 100);
  }
}

TEST(Deconv, MatchesThePyTorchReference) {
  auto net = Network::load(source_path("assets/models/fashion-vgg16.safetensors"));
  auto ref = SafetensorsFile::open(source_path("tests/fixtures/deconv_reference_fashion.safetensors"));
  auto fwd = std::make_shared<ForwardPass>(net, ref.read("input"));
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  int checked = 0;
  for (const auto& e : ref.tensors()) {
    if (e.name == "input") continue;
    // name: layer/channel/mode/method
    std::vector<std::string> p;
    std::string cur;
    for (char ch : e.name + "/") {
      if (ch == '/') {
        p.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
    DeconvOptions o;
    o.max_only = p[2] == "max";
    o.guided = p[3] == "guided";
    DeconvResult d = deconv(fwd, cache, net->find(p[0]), std::stoi(p[1]), o);
    Tensor want = ref.read(e);
    EXPECT_LT(rel_l2(d.reconstruction.data(), want.data(), want.size()), 1e-4) << e.name;
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(Deconv, ReceptiveFields) {
  auto net = tiny_network(4, tiny_spec(32));
  Box b = receptive_field(*net, net->find("conv1_1"), 5, 5);
  EXPECT_EQ(b.y0, 4);
  EXPECT_EQ(b.y1, 7);
  b = receptive_field(*net, net->find("conv1_2"), 0, 0);  // 5x5 clipped at the border
  EXPECT_EQ(b.y0, 0);
  EXPECT_EQ(b.y1, 3);
  b = receptive_field(*net, net->find("conv2_1"), 3, 3);  // conv1_1, conv1_2, pool1, conv2_1: 10x10
  EXPECT_EQ(b.y1 - b.y0, 10);
  b = receptive_field(*net, net->find("conv5_3"), 0, 0);  // covers the 32x32 input
  EXPECT_EQ(b.y1 - b.y0, 32);
}

TEST(PixelFlipping, LrpOrderBeatsRandomOnTheDefaultModel) {
  auto net = Network::load(source_path("assets/models/fashion-vgg16.safetensors"));
  double lrp = 0, rnd = 0;
  int n = 0;
  for (const char* name : {"ankle-boot-1", "bag-1", "coat-1", "dress-1", "pullover-1", "sandal-1", "shirt-1",
                           "sneaker-1", "t-shirt-top-1", "trouser-1"}) {
    auto pre = preprocess(load_image(source_path(std::string("assets/samples/fashion/") + name + ".png")), net->config());
    auto s = explain(net, pre.tensor, "epsilon-gamma-box");
    FlipOptions fo;
    fo.replace = FlipReplace::Background;
    fo.steps = 8;
    fo.random_runs = 3;
    FlipResult r = pixel_flipping(net, pre.tensor, channel_sum(s.ex->input_relevance()), s.ex->target_class(), fo);
    EXPECT_EQ(r.lrp.size(), 9u);
    EXPECT_NEAR(r.lrp.front(), s.ex->target_logit(), 1e-4);
    lrp += r.aopc_lrp;
    rnd += r.aopc_random;
    ++n;
  }
  EXPECT_GT(lrp / n, rnd / n);
}

TEST(Resumable, SlicedWorkEqualsWholeWork) {
  // the app spreads LRP, the graph and the neuron detail over frames in small slices; results must not change
  auto net = tiny_network(4, tiny_spec(48));
  Tensor x = random_input({3, 48, 48}, 6);
  auto whole = explain(net, x, "epsilon-gamma-box");
  Explanation sliced(whole.fwd, whole.cache, Composite::preset("epsilon-gamma-box", *net), ExplainOptions{});
  const int steps = test::run_in_steps(sliced, 2e4);  // a few rows of a conv at a time
  EXPECT_GT(steps, net->size() * 2);
  EXPECT_EQ(max_abs_diff(sliced.input_relevance().data(), whole.ex->input_relevance().data(),
                         whole.ex->input_relevance().size()), 0.0);
  for (int i = 0; i < net->size(); ++i) EXPECT_EQ(sliced.layer_sums()[static_cast<std::size_t>(i)], whole.ex->layer_sums()[static_cast<std::size_t>(i)]);
  NeuronGraph g1 = build_graph(*whole.ex, GraphOptions{});
  GraphBuilder gb(*whole.ex, GraphOptions{});
  EXPECT_GT(test::run_in_steps(gb, 2e4), 10);
  const NeuronGraph& g2 = gb.graph();
  ASSERT_EQ(g1.edges.size(), g2.edges.size());
  for (std::size_t i = 0; i < g1.edges.size(); ++i) EXPECT_EQ(g1.edges[i].relevance, g2.edges[i].relevance);
  EXPECT_EQ(g1.path, g2.path);
  const int layer = net->find("conv3_3");
  DeconvResult d1 = deconv(whole.fwd, whole.cache, layer, 3, DeconvOptions{});
  DeconvJob dj(whole.fwd, whole.cache, layer, 3, DeconvOptions{});
  test::run_in_steps(dj, 2e4);
  EXPECT_EQ(max_abs_diff(d1.reconstruction.data(), dj.result().reconstruction.data(), d1.reconstruction.size()), 0.0);
}

TEST(Resumable, OptimiserAndPixelFlippingInSlicesEqualWholeRuns) {
  // the app runs the optimiser and pixel flipping of a full-size VGG16 over frames; results must not change
  auto net = tiny_network(5, tiny_spec(48));
  Tensor x = random_input({3, 48, 48}, 8);
  auto s = explain(net, x, "epsilon-gamma-box");
  for (const char* name : {"conv2_2", "conv5_1", "fc6"}) {
    const int layer = net->find(name);
    OptimizerOptions oo;
    oo.chunk = 3;
    LayerCurve whole = optimize_layer(*s.ex, layer, oo);
    OptimizerJob job(*s.ex, layer, oo);
    EXPECT_GT(test::run_in_steps(job, 2e4), static_cast<int>(whole.k.size())) << name;
    const LayerCurve& sliced = job.result();
    EXPECT_EQ(sliced.k, whole.k);
    EXPECT_EQ(sliced.backward_mse, whole.backward_mse) << name;
    EXPECT_EQ(sliced.backward_smape, whole.backward_smape) << name;
    EXPECT_EQ(sliced.forward_mse, whole.forward_mse) << name;
    EXPECT_EQ(sliced.forward_logit, whole.forward_logit) << name;
    EXPECT_EQ(sliced.chosen_k, whole.chosen_k) << name;
    // the forward difference with every neuron kept reproduces the unmodified logit
    EXPECT_NEAR(whole.forward_logit.back(), s.fwd->logits()[static_cast<std::size_t>(s.ex->target_class())], 1e-4);
  }
  FlipOptions fo;
  fo.steps = 6;
  fo.random_runs = 2;
  const auto heat = channel_sum(s.ex->input_relevance());
  FlipResult whole = pixel_flipping(net, x, heat, s.ex->target_class(), fo);
  FlipJob fj(net, x, heat, s.ex->target_class(), fo);
  EXPECT_GT(test::run_in_steps(fj, 2e4), 3 * 7);
  EXPECT_EQ(fj.result().lrp, whole.lrp);
  EXPECT_EQ(fj.result().random, whole.random);
  EXPECT_EQ(fj.result().aopc_lrp, whole.aopc_lrp);
  EXPECT_NEAR(whole.lrp.front(), s.ex->target_logit(), 1e-4);
}

TEST(Jobs, EveryLongOperationFollowsOneContract) {
  // forward, explanation, propagation, graph (with the optimiser's k as sub-jobs), deconvnet, optimiser and pixel
  // flipping: one interface; small budgets take many steps, kWholeJob one; a job dropped half-way leaves the
  // explanation it reads usable
  auto net = tiny_network(6, tiny_spec(48));
  Tensor x = random_input({3, 48, 48}, 9);
  auto s = explain(net, x, "epsilon-gamma-box");
  const int conv = net->find("conv4_3");
  GraphOptions auto_k;
  auto_k.k_from_optimizer = true;
  auto_k.optimizer.chunk = 4;
  FlipOptions fo;
  fo.steps = 3;
  fo.random_runs = 1;
  const auto heat = channel_sum(s.ex->input_relevance());
  const std::vector<std::pair<std::string, std::function<std::unique_ptr<Job>()>>> makers = {
      {"forward", [&] { return std::make_unique<ForwardPass>(net, x); }},
      {"explanation", [&] { return std::make_unique<Explanation>(s.fwd, s.cache, Composite::preset("epsilon-gamma-box", *net), ExplainOptions{}); }},
      {"conditional", [&] { return restricted_lrp_job(*s.ex, {NeuronMask{conv, {2}}}, false); }},
      {"graph", [&] { return std::make_unique<GraphBuilder>(*s.ex, auto_k); }},
      {"deconvnet", [&] { return std::make_unique<DeconvJob>(s.fwd, s.cache, conv, 1, DeconvOptions{}); }},
      {"optimiser", [&] { return std::make_unique<OptimizerJob>(*s.ex, conv, OptimizerOptions{}); }},
      {"pixel flipping", [&] { return std::make_unique<FlipJob>(net, x, heat, s.ex->target_class(), fo); }},
  };
  for (const auto& [name, make] : makers) {
    SCOPED_TRACE(name);
    auto sliced = make();
    EXPECT_GT(test::run_in_steps(*sliced, 2e4), 2);
    auto whole = make();
    EXPECT_EQ(whole->step(kWholeJob), Step::Done);
    EXPECT_EQ(whole->progress(), 1.0);
    auto dropped = make();
    dropped->step(2e4);
    dropped->step(2e4);
    EXPECT_LT(dropped->progress(), 1.0);
    dropped.reset();  // cancelled
  }
  // the graph whose k come from the optimiser, in slices, is the graph built at once
  GraphBuilder sliced(*s.ex, auto_k);
  test::run_in_steps(sliced, 2e4);
  const NeuronGraph whole = build_graph(*s.ex, auto_k);
  ASSERT_EQ(sliced.graph().nodes.size(), whole.nodes.size());
  for (std::size_t i = 0; i < whole.nodes.size(); ++i) EXPECT_EQ(sliced.graph().nodes[i].id, whole.nodes[i].id);
  ASSERT_EQ(sliced.graph().edges.size(), whole.edges.size());
  for (std::size_t i = 0; i < whole.edges.size(); ++i) EXPECT_EQ(sliced.graph().edges[i].relevance, whole.edges[i].relevance);
  EXPECT_EQ(sliced.graph().path, whole.path);
  // (the optimiser chose the k: the columns differ from the default top-5)
  const OptimizerOptions oo = auto_k.optimizer;
  EXPECT_EQ(static_cast<int>(whole.column_nodes[0].size()), optimize_layer(*s.ex, whole.layers[0], oo).chosen_k);
}

// Node shares, the layout every picture of the graph uses, the SVG that names every node, the path in words.
TEST(Graph, SharesLayoutSvgAndWords) {
  auto net = tiny_network(4, tiny_spec(32));
  auto s = explain(net, random_input({3, 32, 32}, 6), "epsilon-gamma-box");
  NeuronGraph g = build_graph(*s.ex, GraphOptions{});
  for (const GraphNode& n : g.nodes) {
    if (n.layer == net->size() - 1) {
      EXPECT_EQ(n.share, 1.0);
      continue;
    }
    const NeuronShare ns = neuron_share(s.ex->relevance(n.layer), {n.index});
    EXPECT_NEAR(n.share, ns.share, 1e-9) << n.id;
  }
  const GraphLayout L = layout_graph(g);
  ASSERT_EQ(L.x.size(), g.nodes.size());
  ASSERT_EQ(L.edge.size(), g.edges.size());
  float top_edge = 0;
  for (float e : L.edge) top_edge = std::max(top_edge, e);
  EXPECT_FLOAT_EQ(top_edge, 1.0f);
  for (std::size_t c = 0; c < g.column_nodes.size(); ++c) {
    const auto& col = g.column_nodes[c];
    for (int a : col)
      for (int b : col) {
        const auto i = static_cast<std::size_t>(a), j = static_cast<std::size_t>(b);
        EXPECT_EQ(L.x[i], L.column_x[c]);
        // the more relevant neuron is higher up (smaller y); the one with more relevance either way is not smaller
        if (g.nodes[i].relevance > g.nodes[j].relevance) EXPECT_LT(L.y[i], L.y[j]);
        if (std::fabs(g.nodes[i].relevance) > std::fabs(g.nodes[j].relevance) && c + 1 < g.column_nodes.size())
          EXPECT_GE(L.size[i], L.size[j]);
      }
    if (c > 0) EXPECT_GT(L.column_x[c], L.column_x[c - 1]);  // the input side on the left
  }
  SvgOptions so;
  so.title = "a <title> & more";
  const std::string svg = graph_svg(g, *net, so);
  EXPECT_EQ(svg.find("<title> &"), std::string::npos);  // escaped
  EXPECT_NE(svg.find("a &lt;title&gt; &amp; more"), std::string::npos);
  for (const GraphNode& n : g.nodes) {
    EXPECT_NE(svg.find("data-id=\"" + n.id + "\""), std::string::npos) << n.id;
    EXPECT_NE(svg.find("data-label=\"" + node_label(n, *net) + "\""), std::string::npos) << n.id;
  }
  std::size_t count = 0;
  for (std::size_t p = svg.find("class=\"node\""); p != std::string::npos; p = svg.find("class=\"node\"", p + 1)) ++count;
  EXPECT_EQ(count, g.nodes.size());
  // the words carry the path's numbers
  const Tensor ph = path_heatmap(*s.ex, g);
  double sum = 0;
  for (std::size_t i = 0; i < ph.size(); ++i) sum += ph.data()[i];
  const std::string w = path_words(g, *net, s.ex->target_logit(), sum);
  double lo = 1e9, hi = -1e9;
  for (std::size_t i = 1; i < g.path.size(); ++i) {
    lo = std::min(lo, g.nodes[static_cast<std::size_t>(g.path[i])].share);
    hi = std::max(hi, g.nodes[static_cast<std::size_t>(g.path[i])].share);
    EXPECT_NE(w.find(node_label(g.nodes[static_cast<std::size_t>(g.path[i])], *net)), std::string::npos);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %% to %.1f %%", 100 * lo, 100 * hi);
  EXPECT_NE(w.find(buf), std::string::npos) << w;
  std::snprintf(buf, sizeof buf, "%.2g of the logit", sum / s.ex->target_logit());
  EXPECT_NE(w.find(buf), std::string::npos) << w;
}

TEST(Graph, CapLimitsTheOptimisersK) {
  auto net = tiny_network(4, tiny_spec(32));
  auto s = explain(net, random_input({3, 32, 32}, 6), "epsilon-gamma-box");
  GraphOptions go;
  go.k_from_optimizer = true;
  go.optimizer.tolerance = 1;  // strict: the optimiser keeps many
  const NeuronGraph free = build_graph(*s.ex, go);
  go.k_cap = 2;
  const NeuronGraph capped = build_graph(*s.ex, go);
  bool some_cut = false;
  for (std::size_t c = 0; c + 1 < capped.column_nodes.size(); ++c) {
    EXPECT_EQ(capped.column_nodes[c].size(), std::min<std::size_t>(2, free.column_nodes[c].size()));
    some_cut |= free.column_nodes[c].size() > 2;
  }
  EXPECT_TRUE(some_cut);
}

TEST(Heatmap, BoxReduceKeepsTheSum) {
  std::vector<float> m(7 * 5);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<float>(i % 3) - 0.5f;
  int h = 0, w = 0;
  const auto r = box_reduce(m, 7, 5, 3, &h, &w);
  EXPECT_EQ(h, 3);  // a factor of 3: 7 -> 3 rows, 5 -> 2 columns
  EXPECT_EQ(w, 2);
  double a = 0, b = 0;
  for (float v : m) a += v;
  for (float v : r) b += v;
  EXPECT_NEAR(a, b, 1e-5);
  EXPECT_FLOAT_EQ(r[0], m[0] + m[1] + m[2] + m[5] + m[6] + m[7] + m[10] + m[11] + m[12]);  // the top-left box
  const auto same = box_reduce(m, 7, 5, 7, &h, &w);
  EXPECT_EQ(same, m);
  EXPECT_THROW(box_reduce(m, 6, 5, 3, &h, &w), Error);
}
