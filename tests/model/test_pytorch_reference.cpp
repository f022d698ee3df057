// The engine against PyTorch (fixtures from tools/pytorch_reference.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/thread_pool.h"
#include "model/forward.h"
#include "model/image.h"
#include "model/random_weights.h"
#include "model/safetensors.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

TEST(PyTorchReference, TinyVgg16LogitsAndEveryLayer) {
  auto net = Network::load(source_path("tests/fixtures/tiny_vgg16.safetensors"));
  auto ref = SafetensorsFile::open(source_path("tests/fixtures/tiny_vgg16_reference.safetensors"));
  EXPECT_EQ(net->spec().arch_name(), "vgg16");
  EXPECT_EQ(net->spec().avgpool, 7);
  Tensor in = ref.read("input_random");
  ForwardPass fp(net, in);
  fp.run();
  Tensor want = ref.read("logits_random");
  const double scale = max_abs(want.data(), want.size());
  EXPECT_LT(max_abs_diff(fp.logits().data(), want.data(), want.size()), 1e-4 * scale);
  for (int i = 0; i < net->size(); ++i) {
    const Layer& l = net->layer(i);
    if (l.name.rfind("features.", 0) != 0) continue;
    Tensor r = ref.read(l.name);
    const Tensor& got = fp.output(i);
    ASSERT_EQ(r.size(), got.size()) << l.name;
    EXPECT_LT(max_abs_diff(got.data(), r.data(), r.size()), 1e-4 * (max_abs(r.data(), r.size()) + 1e-6)) << l.name;
  }
  // the photo, preprocessed by torchvision (PIL): the logits match
  Tensor photo = ref.read("input_chelsea");
  Tensor lp = forward_logits(net, photo);
  Tensor wp = ref.read("logits_chelsea");
  EXPECT_LT(max_abs_diff(lp.data(), wp.data(), wp.size()), 1e-4 * max_abs(wp.data(), wp.size()));
  // our own preprocessing of the same photo is close to torchvision's (resampling filters differ slightly)
  auto pre = preprocess(load_image(source_path("assets/samples/imagenet/chelsea.png")), net->config());
  ASSERT_EQ(pre.tensor.shape(), photo.shape());
  double mad = 0;
  for (std::size_t i = 0; i < photo.size(); ++i) mad += std::fabs(pre.tensor[i] - photo[i]);
  mad /= static_cast<double>(photo.size());
  EXPECT_LT(mad, 0.05) << "mean |ours - torchvision| over the normalised input";
}

TEST(PyTorchReference, FullSizeVgg16FromMakeRandom) {
  std::ifstream f(source_path("tests/fixtures/vgg16_seed1_logits.json"));
  ASSERT_TRUE(f.good());
  nlohmann::json j = nlohmann::json::parse(f);
  const auto want = j["logits"].get<std::vector<float>>();
  ThreadPool pool(ThreadPool::hardware_threads());
  VggSpec spec = VggSpec::vgg16();
  auto tensors = random_vgg_tensors(spec, 1, &pool);
  // the generator is bit-identical to the NumPy copy that made the fixture
  const auto first = j["first_weights"].get<std::vector<float>>();
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(tensors[0].second[i], first[i]);
  auto net = Network::from_tensors(spec, ModelConfig::imagenet(), tensors);
  tensors.clear();
  Tensor in = random_input(net->input_shape(), 7);
  const auto first_in = j["first_input"].get<std::vector<float>>();
  for (std::size_t i = 0; i < first_in.size(); ++i) EXPECT_EQ(in[i], first_in[i]);
  Tensor logits = forward_logits(net, in, &pool);
  ASSERT_EQ(logits.size(), want.size());
  const double scale = max_abs(want.data(), want.size());
  const double err = max_abs_diff(logits.data(), want.data(), want.size());
  EXPECT_LT(err, 1e-3 * scale);
  std::printf("full-size VGG16: max |logit diff| %.3g, max |logit| %.3g (ratio %.2g)\n", err, scale, err / scale);
}
