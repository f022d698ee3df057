// The embedded default model (assets/models/fashion-vgg16.safetensors) against PyTorch.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/forward.h"
#include "model/image.h"
#include "model/network.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

TEST(DefaultModel, SampleLogitsMatchPyTorch) {
  auto net = Network::load(source_path("assets/models/fashion-vgg16.safetensors"));
  EXPECT_EQ(net->spec().arch_name(), "vgg16");
  EXPECT_EQ(net->input_shape(), (std::vector<int>{1, 32, 32}));
  EXPECT_EQ(net->num_classes(), 10);
  EXPECT_TRUE(net->config().dark_background);
  std::ifstream f(source_path("tests/fixtures/fashion_samples.json"));
  nlohmann::json j = nlohmann::json::parse(f);
  int right = 0;
  for (const auto& s : j["samples"]) {
    const auto want = s["logits"].get<std::vector<float>>();
    auto pre = preprocess(load_image(source_path(s["file"].get<std::string>())), net->config());
    EXPECT_FALSE(pre.inverted) << s["file"];
    Tensor logits = forward_logits(net, pre.tensor);
    const double scale = max_abs(want.data(), want.size());
    EXPECT_LT(max_abs_diff(logits.data(), want.data(), want.size()), 1e-4 * scale) << s["file"];
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (logits[static_cast<std::size_t>(c)] > logits[static_cast<std::size_t>(best)]) best = c;
    right += best == s["label"].get<int>();
  }
  EXPECT_GE(right, 18);
}

TEST(DefaultModel, FileIsSmall) {
  std::ifstream f(source_path("assets/models/fashion-vgg16.safetensors"), std::ios::binary | std::ios::ate);
  EXPECT_LT(static_cast<long long>(f.tellg()), 5LL * 1000 * 1000);
}

TEST(DefaultModel, InvertsAPhotoOnALightBackground) {
  auto net = Network::load(source_path("assets/models/fashion-vgg16.safetensors"));
  Image img = load_image(source_path("assets/samples/fashion/trouser-1.png"));
  Image light = img;
  for (auto& v : light.rgb) v = static_cast<uint8_t>(255 - v);  // dark trousers on white, like a photo
  auto pre = preprocess(light, net->config());
  EXPECT_TRUE(pre.inverted);
  auto orig = preprocess(img, net->config());
  EXPECT_LT(max_abs_diff(pre.tensor.data(), orig.tensor.data(), orig.tensor.size()), 1e-5);
}
