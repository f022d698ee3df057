// LRP against the independent PyTorch reference (tools/reference_lrp.py): every preset, both max-pool modes,
// the default model and a reduced-width random VGG16.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/thread_pool.h"
#include "explain/deconv.h"
#include "explain/explanation.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/safetensors.h"
#include "model/image.h"
#include "model/random_weights.h"
#include "model/weight_store.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

std::vector<int64_t> subsample(std::size_t n, std::size_t k) {
  std::vector<int64_t> idx;
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) idx.push_back(static_cast<int64_t>(i));
  } else {
    for (std::size_t i = 0; i < k; ++i) idx.push_back(static_cast<int64_t>((i * 7919) % n));
  }
  return idx;
}

void check_model(const std::string& model_path, int input_size, const std::string& fixture) {
  auto net = Network::from_weights(WeightStore::open(source_path(model_path)), model_path, input_size);
  auto ref = SafetensorsFile::open(source_path(fixture));
  const std::size_t k = std::stoul(ref.metadata().at("subsample"));
  Tensor x = ref.read("input");
  auto fwd = std::make_shared<ForwardPass>(net, x);
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  // (the presets of tools/reference_lrp.py's PRESETS; the others have their own fixture)
  for (const std::string preset : {"epsilon-gamma-box", "montavon", "epsilon-plus-flat", "epsilon-alpha2-beta1",
                                   "epsilon-alpha2-beta1-flat", "lrp0", "epsilon"}) {
    for (const char* mp : {"wta", "avg"}) {
      const std::string key = preset + "/" + mp;
      SCOPED_TRACE(fixture + " " + key);
      Composite c = Composite::preset(preset, *net);
      c.set_maxpool(parse_pool_mode(mp), *net);
      Explanation ex(fwd, cache, c, ExplainOptions{});
      ex.run();
      EXPECT_EQ(ex.target_class(), std::stoi(ref.metadata().at(key + "/target")));
      EXPECT_NEAR(ex.target_logit(), std::stod(ref.metadata().at(key + "/logit")), 1e-4 * std::fabs(ex.target_logit()) + 1e-6);
      Tensor rin = ref.read(key + "/input");
      const double e_in = rel_l2(ex.input_relevance().data(), rin.data(), rin.size());
      EXPECT_LT(e_in, 1e-4) << "input relevance";
      for (int i = 0; i < net->size(); ++i) {
        const Layer& l = net->layer(i);
        if (!ref.has(key + "/" + l.name)) continue;
        const Tensor& got = ex.relevance(i);
        Tensor want = ref.read(key + "/" + l.name);
        const auto idx = subsample(got.size(), k);
        ASSERT_EQ(idx.size(), want.size()) << l.name;
        std::vector<float> g(idx.size());
        for (std::size_t j = 0; j < idx.size(); ++j) g[j] = got[static_cast<std::size_t>(idx[j])];
        EXPECT_LT(rel_l2(g.data(), want.data(), want.size()), 1e-4) << l.name;
        double norm = 0;
        for (std::size_t j = 0; j < got.size(); ++j) norm += static_cast<double>(got[j]) * got[j];
        const double want_norm = std::stod(ref.metadata().at(key + "/" + l.name + "/norm"));
        EXPECT_NEAR(std::sqrt(norm), want_norm, 1e-4 * want_norm + 1e-9) << l.name << " norm";
        EXPECT_NEAR(ex.layer_sums()[static_cast<std::size_t>(i)], std::stod(ref.metadata().at(key + "/" + l.name + "/sum")),
                    1e-4 * want_norm * std::sqrt(static_cast<double>(got.size())) + 1e-9)
            << l.name << " sum";
        if (ref.has(key + "/" + l.name + "/channels")) {
          Tensor ch = ref.read(key + "/" + l.name + "/channels");
          std::vector<float> mine(ch.size(), 0.0f);
          const std::size_t per = got.size() / ch.size();
          for (std::size_t c = 0; c < ch.size(); ++c)
            for (std::size_t j = 0; j < per; ++j) mine[c] += got[c * per + j];
          EXPECT_LT(rel_l2(mine.data(), ch.data(), ch.size()), 1e-4) << l.name << " channel sums";
        }
      }
    }
  }
}

}  // namespace

TEST(LrpReference, ReducedWidthRandomVgg16) {
  check_model("tests/fixtures/tiny_vgg16.safetensors", 32, "tests/fixtures/lrp_reference_tiny.safetensors");
}

// a batch-norm VGG16 (tools/make_checkpoints.py), each BatchNorm2d merged into its convolution as zennit's
// SequentialMergeBatchNorm does (the reference merges it in float64)
TEST(LrpReference, BatchNormVgg16) {
  check_model("tests/fixtures/checkpoints/vgg16_bn_tv.safetensors", 32, "tests/fixtures/lrp_reference_vgg16_bn.safetensors");
  check_model("tests/fixtures/checkpoints/vgg16_bn_tv.pth", 32, "tests/fixtures/lrp_reference_vgg16_bn.safetensors");
}

// the model zoo's layout of a batch-norm VGG11 in ONNX (BatchNormalization nodes, epsilon 1e-3), against the
// float64 reference that merges its state dict's batch norms with that epsilon
TEST(LrpReference, BatchNormVggFromOnnx) {
  check_model("tests/fixtures/checkpoints/vgg11_bn_zoo.onnx", 32, "tests/fixtures/lrp_reference_vgg11_bn_zoo.safetensors");
}

TEST(LrpReference, DefaultModel) {
  check_model("assets/models/fashion-vgg16.safetensors", 0, "tests/fixtures/lrp_reference_fashion.safetensors");
}

namespace {

// Full-size VGG16 (make-random --seed 1): made once for the tests below (about a second).
std::shared_ptr<Network> full_vgg16(ThreadPool& pool) {
  static std::shared_ptr<Network> net = [&] {
    VggSpec spec = VggSpec::vgg16();
    return Network::from_tensors(spec, ModelConfig::imagenet(), random_vgg_tensors(spec, 1, &pool));
  }();
  return net;
}

// The network's forward pass on a picture.
std::shared_ptr<ForwardPass> forward_on(std::shared_ptr<Network> net, const std::string& image, ThreadPool& pool) {
  auto pre = preprocess(load_image(source_path(image)), net->config());
  ForwardOptions fo;
  fo.pool = &pool;
  auto fwd = std::make_shared<ForwardPass>(net, pre.tensor, fo);
  fwd->run();
  return fwd;
}

// The relative L2 distance of `got` from a reference subsampled at (j * 7919) % n, and the norms.
double subsampled_error(const Tensor& got, const Tensor& want, double want_norm, const std::string& what) {
  std::vector<float> g(want.size());
  for (std::size_t j = 0; j < want.size(); ++j) g[j] = got[(j * 7919) % got.size()];
  double norm = 0;
  for (std::size_t j = 0; j < got.size(); ++j) norm += static_cast<double>(got[j]) * got[j];
  EXPECT_NEAR(std::sqrt(norm), want_norm, 1e-3 * want_norm) << what << " norm";
  return rel_l2(g.data(), want.data(), want.size());
}

}  // namespace

// Full-size VGG16 at 224x224 on the cat photo: input relevance against the PyTorch reference (tools/reference_lrp.py
// full), on a fixed subsample of 16384 of the 150528 input positions plus the full norm.
TEST(LrpReference, FullSizeVgg16) {
  auto ref = SafetensorsFile::open(source_path("tests/fixtures/lrp_reference_vgg16_full.safetensors"));
  ThreadPool pool(ThreadPool::hardware_threads());
  auto net = full_vgg16(pool);
  auto fwd = forward_on(net, "assets/samples/imagenet/chelsea.png", pool);
  auto cache = std::make_shared<WeightCache>(net);
  for (const char* preset : {"epsilon-gamma-box", "montavon"}) {
    SCOPED_TRACE(preset);
    ExplainOptions o;
    o.pool = &pool;
    Explanation ex(fwd, cache, Composite::preset(preset, *net), o);
    ex.run();
    EXPECT_EQ(ex.target_class(), std::stoi(ref.metadata().at(std::string(preset) + "/target")));
    const double err = subsampled_error(ex.input_relevance(), ref.read(std::string(preset) + "/input"),
                                        std::stod(ref.metadata().at(std::string(preset) + "/norm")), preset);
    EXPECT_LT(err, 1e-3);
    std::printf("full-size VGG16 %s: relative L2 %.3g on the subsample, %.1f ms\n", preset, err, ex.total_ms());
  }
}

// Max-pool ties as in exact arithmetic (issue 16): a picture made of flat regions at the model's own size (no
// resampling, so the regions stay exactly flat), where neighbouring convolution outputs are exactly equal and max-pool
// windows tie. The reference is float64 (tools/reference_lrp.py ties --fixture); relevance within 3e-4 of it, and
// the deconvnet / guided-backprop reconstructions no farther from it than PyTorch's own float32 result (or than
// rounding, where that is below 2e-5).
TEST(LrpReference, FullSizeVgg16MaxPoolTiesAsExactArithmetic) {
  auto ref = SafetensorsFile::open(source_path("tests/fixtures/ties_vgg16_full.safetensors"));
  const auto& meta = ref.metadata();
  ThreadPool pool(ThreadPool::hardware_threads());
  auto net = full_vgg16(pool);
  auto fwd = forward_on(net, "tests/fixtures/images/flat-regions.png", pool);
  auto cache = std::make_shared<WeightCache>(net);
  for (const char* preset : {"epsilon-gamma-box", "epsilon-plus-flat", "epsilon-alpha2-beta1"}) {
    SCOPED_TRACE(preset);
    ExplainOptions o;
    o.pool = &pool;
    Explanation ex(fwd, cache, Composite::preset(preset, *net), o);
    ex.run();
    const std::string key = preset;
    EXPECT_EQ(ex.target_class(), std::stoi(meta.at(key + "/target")));
    const double err = subsampled_error(ex.input_relevance(), ref.read(key + "/input"), std::stod(meta.at(key + "/norm")), key);
    std::printf("flat regions, %s: relative L2 %.3g from float64 (PyTorch float32 %.3g)\n", preset, err,
                std::stod(meta.at(key + "/float32")));
    EXPECT_LT(err, 3e-4);
  }
  for (const auto& [layer, channel] : {std::pair<const char*, int>{"features.28", 7}, {"features.21", 100}}) {
    for (bool guided : {false, true}) {
      const std::string key = std::string(layer) + "/" + std::to_string(channel) + (guided ? "/guided" : "/deconvnet");
      SCOPED_TRACE(key);
      DeconvOptions d;
      d.max_only = false;
      d.guided = guided;
      const DeconvResult r = deconv(fwd, cache, net->require_layer(layer), channel, d);
      const double err = subsampled_error(r.reconstruction, ref.read(key), std::stod(meta.at(key + "/norm")), key);
      const double f32 = std::stod(meta.at(key + "/float32"));
      std::printf("flat regions, %s: relative L2 %.3g from float64 (PyTorch float32 %.3g)\n", key.c_str(), err, f32);
      // (a moved switch costs 1e-4 and more; below that both are rounding: F(4x4)'s reaches 1e-5 over 13 layers)
      EXPECT_LE(err, std::max(f32, 2e-5));
    }
  }
}
