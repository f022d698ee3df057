#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/thread_pool.h"
#include "model/forward.h"
#include "model/random_weights.h"
#include "model/safetensors_writer.h"
#include "model/weight_store.h"
#include "net_util.h"
#include "job_util.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

static std::vector<uint8_t> to_bytes(const std::vector<std::pair<std::string, Tensor>>& t,
                                     std::map<std::string, std::string> meta = {}) {
  std::vector<NamedTensor> named;
  for (auto& [n, x] : t) named.push_back({n, &x, DType::F32});
  return safetensors_bytes(named, meta);
}

static std::string load_error(std::vector<std::pair<std::string, Tensor>> t, std::map<std::string, std::string> meta = {}) {
  try {
    Network::from_weights(WeightStore::from_buffer(to_bytes(t, meta)));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Network, InfersTheArchitectureFromKeysAndShapes) {
  for (const char* arch : {"vgg11", "vgg13", "vgg16", "vgg19"}) {
    VggSpec spec = VggSpec::by_name(arch).scaled(16, 7);
    spec.in_height = spec.in_width = 64;
    auto bytes = to_bytes(random_vgg_tensors(spec, 1));
    ModelConfig c;
    c.height = c.width = 64;
    auto net = Network::from_weights(WeightStore::from_buffer(to_bytes(random_vgg_tensors(spec, 1),
                                                                       {{"lrpscope.config", c.to_json()}})));
    EXPECT_EQ(net->spec().arch_name(), arch);
    EXPECT_EQ(net->spec().blocks, spec.blocks);
    EXPECT_EQ(net->spec().fc, spec.fc);
    EXPECT_EQ(net->spec().avgpool, 7);  // torchvision's 7x7 adaptive pool on a 2x2 map
    EXPECT_EQ(net->num_classes(), 7);
  }
}

TEST(Network, LayerNamesFollowTorchvision) {
  auto net = tiny_network();
  EXPECT_EQ(net->layer(net->find("conv5_3")).name, "features.28");
  EXPECT_EQ(net->layer(net->find("pool5")).name, "features.30");
  EXPECT_EQ(net->layer(net->find("fc8")).name, "classifier.6");
  EXPECT_EQ(net->find("classifier.3"), net->find("fc7"));
  EXPECT_THROW(net->require_layer("conv9_9"), Error);
}

TEST(Network, RejectsShapesThatDoNotFormAVgg) {
  VggSpec spec = tiny_spec();
  auto good = random_vgg_tensors(spec, 1);
  EXPECT_EQ(load_error(good, {{"lrpscope.config", R"({"input":{"channels":3,"height":32,"width":32}})"}}), "");
  {
    auto t = good;
    t.erase(t.begin() + 1);  // features.0.bias
    EXPECT_NE(load_error(t).find("missing 'features.0.bias'"), std::string::npos);
  }
  {
    auto t = good;
    t[2].second = Tensor({t[2].second.dim(0), 5, 3, 3});  // features.2 takes 5 channels
    EXPECT_NE(load_error(t).find("takes 5 channels"), std::string::npos);
  }
  {
    auto t = good;
    t[0].second = Tensor({t[0].second.dim(0), 3, 5, 5});
    EXPECT_NE(load_error(t).find("5x5 convolution"), std::string::npos);
  }
  {
    std::vector<std::pair<std::string, Tensor>> t(good.begin(), good.begin() + 26);
    EXPECT_NE(load_error(t).find("no classifier"), std::string::npos);
  }
  {
    auto t = good;
    t[26].second = Tensor({24, 33});  // fc6 input not a square map of the last channels
    EXPECT_NE(load_error(t).find("fc6"), std::string::npos);
  }
  EXPECT_NE(load_error({}).find("no 'features.N.weight'"), std::string::npos);
  EXPECT_NE(load_error(good, {{"lrpscope.config", "{"}}).find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(good, {{"lrpscope.config", R"({"input":{"channels":1,"height":32,"width":32},"color":"gray"})"}})
                .find("input channels"),
            std::string::npos);
  EXPECT_NE(load_error(good, {{"lrpscope.config", R"({"input":{"channels":3,"height":32,"width":32},"labels":["a"]})"}})
                .find("class labels"),
            std::string::npos);
}

TEST(Network, ReadsTimmKeyNames) {
  VggSpec spec = VggSpec::vgg16().scaled(32, 5);
  spec.in_height = spec.in_width = 224;
  auto tv = random_vgg_tensors(spec, 9);
  std::vector<std::pair<std::string, Tensor>> timm;
  for (auto& [n, t] : tv) {
    if (n.rfind("features.", 0) == 0) {
      timm.emplace_back(n, t);
      continue;
    }
    Tensor x = t;
    std::string name = n;
    if (n == "classifier.0.weight") x.reshape({t.dim(0), 16, 7, 7}), name = "pre_logits.fc1.weight";
    if (n == "classifier.0.bias") name = "pre_logits.fc1.bias";
    if (n == "classifier.3.weight") x.reshape({t.dim(0), t.dim(1), 1, 1}), name = "pre_logits.fc2.weight";
    if (n == "classifier.3.bias") name = "pre_logits.fc2.bias";
    if (n == "classifier.6.weight") name = "head.fc.weight";
    if (n == "classifier.6.bias") name = "head.fc.bias";
    timm.emplace_back(name, x);
  }
  auto a = Network::from_weights(WeightStore::from_buffer(to_bytes(tv)));
  auto b = Network::from_weights(WeightStore::from_buffer(to_bytes(timm)));
  Tensor in = random_input(a->input_shape(), 1);
  Tensor la = forward_logits(a, in), lb = forward_logits(b, in);
  EXPECT_EQ(max_abs_diff(la.data(), lb.data(), la.size()), 0.0);
}

TEST(Forward, MatchesTheScalarReference) {
  for (int avg : {0, 3}) {
    VggSpec spec = tiny_spec(48);
    spec.avgpool = avg;
    auto net = tiny_network(5, spec);
    Tensor in = random_input(net->input_shape(), 2);
    Tensor logits = forward_logits(net, in);
    auto ref = reference_forward(*net, in);
    ASSERT_EQ(ref.size(), logits.size());
    EXPECT_LT(max_abs_diff(logits.data(), ref.data(), ref.size()), 1e-4 * (max_abs(ref.data(), ref.size()) + 1e-3));
  }
}

// One layer's weights replaced: that layer computes with the new ones, and every other layer shares the first
// network's storage (the sanity check re-initialises a full-size VGG16 one layer at a time without copying it).
TEST(Network, WithLayerWeightsReplacesOneLayerAndSharesTheRest) {
  VggSpec spec = tiny_spec(32);
  auto tensors = random_vgg_tensors(spec, 4);
  auto net = Network::from_tensors(spec, {}, tensors);
  const int conv = net->find("conv2_1"), fc = net->find("fc7");
  Tensor w = random_vgg_tensor(spec, net->layer(conv).name + ".weight", 9);
  Tensor b(std::vector<int>{net->layer(conv).conv.cout}, 0.25f);
  auto changed = net->with_layer_weights(conv, w, b);
  for (int i = 0; i < net->size(); ++i) {
    if (!net->layer(i).has_weights()) continue;
    if (i == conv) {
      EXPECT_NE(changed->layer(i).weight, net->layer(i).weight);
      EXPECT_NE(changed->layer(i).packed, net->layer(i).packed);
    } else {
      EXPECT_EQ(changed->layer(i).weight, net->layer(i).weight) << i;  // the same storage
      EXPECT_EQ(changed->layer(i).packed, net->layer(i).packed) << i;
    }
  }
  // the same logits as the network built from the changed tensors
  for (auto& [name, t] : tensors)
    if (name == net->layer(conv).name + ".weight") t = w, t.reshape(net->layer(conv).weight->shape());
    else if (name == net->layer(conv).name + ".bias") t = b;
  auto want = Network::from_tensors(spec, {}, tensors);
  const Tensor in = random_input(net->input_shape(), 2);
  const Tensor x = forward_logits(changed, in), y = forward_logits(want, in), z = forward_logits(net, in);
  EXPECT_EQ(max_abs_diff(x.data(), y.data(), x.size()), 0.0);
  EXPECT_GT(max_abs_diff(x.data(), z.data(), x.size()), 1e-6);
  // a fully connected layer, and weights of the wrong size
  auto fc_changed = net->with_layer_weights(fc, Tensor(net->layer(fc).weight->shape(), 0.0f), Tensor({net->layer(fc).out_shape[0]}, 0.0f));
  EXPECT_EQ(fc_changed->layer(fc).weight->data()[0], 0.0f);
  EXPECT_THROW(net->with_layer_weights(fc, Tensor({3, 3}), Tensor({3})), Error);
  EXPECT_THROW(net->with_layer_weights(net->find("relu1_1"), Tensor({3}), Tensor({3})), Error);
}

TEST(Forward, StepsKeepAndThreadsAgree) {
  auto net = tiny_network();
  Tensor in = random_input(net->input_shape(), 4);
  ForwardOptions stream;
  stream.keep = false;
  ForwardPass a(net, in, stream);
  a.run();
  ForwardPass b(net, in);  // keeps every layer's output
  EXPECT_GT(test::run_in_steps(b, 2000), net->size());  // many small steps
  ThreadPool pool(2);
  ForwardOptions threaded;
  threaded.pool = &pool;
  ForwardPass c(net, in, threaded);
  c.run();
  EXPECT_EQ(max_abs_diff(a.logits().data(), b.logits().data(), a.logits().size()), 0.0);
  EXPECT_EQ(max_abs_diff(a.logits().data(), c.logits().data(), a.logits().size()), 0.0);
  // kept outputs: ReLU outputs are the ReLU of conv outputs; pool switches point at the maxima
  const int conv = net->find("conv2_2"), pool_i = net->find("pool2");
  const Tensor& co = b.output(conv);
  const Tensor& ro = b.output(conv + 1);
  for (std::size_t i = 0; i < co.size(); ++i) EXPECT_EQ(ro[i], std::max(co[i], 0.0f));
  const auto& sw = b.switches(pool_i);
  const Tensor& po = b.output(pool_i);
  const int hw = net->layer(pool_i).in_shape[1] * net->layer(pool_i).in_shape[2];
  for (std::size_t i = 0; i < po.size(); ++i) {
    const int c_idx = static_cast<int>(i) / (net->layer(pool_i).out_shape[1] * net->layer(pool_i).out_shape[2]);
    EXPECT_EQ(po[i], ro[static_cast<std::size_t>(c_idx) * hw + sw[i]]);
  }
}

TEST(Forward, RejectsAWrongInputShape) {
  auto net = tiny_network();
  EXPECT_THROW(ForwardPass(net, Tensor({3, 31, 32})), Error);
}

TEST(Forward, AfterLayerHookCanMaskNeurons) {
  auto net = tiny_network();
  Tensor in = random_input(net->input_shape(), 4);
  ForwardOptions o;
  const int fc7 = net->find("relu7");
  o.after_layer = [&](int layer, Tensor& out) {
    if (layer == fc7) out.fill(0.0f);
  };
  ForwardPass fp(net, in, o);
  fp.run();
  const Layer& fc8 = net->layer(net->find("fc8"));
  for (int c = 0; c < 10; ++c) EXPECT_FLOAT_EQ(fp.logits()[static_cast<std::size_t>(c)], fc8.bias[static_cast<std::size_t>(c)]);
}
