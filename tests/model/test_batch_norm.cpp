// Batch-norm VGGs (torchvision's vgg*_bn, timm's names too): each BatchNorm2d is folded into the convolution
// before it at load, the torchvision module names are kept (features.0, 3, 7, ...), and the logits equal PyTorch's
// eval-mode forward (fixtures from tools/make_checkpoints.py). Broken batch-norm tensors are refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "model/forward.h"
#include "model/network.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "model/weight_store.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

const char* kDir = "tests/fixtures/checkpoints/";

std::shared_ptr<Network> open(const std::string& file) {
  return Network::from_weights(WeightStore::open(source_path(kDir + file + ".safetensors")), file);
}

// The fixture's tensors, changed by `edit`, written to a temporary file; returns the error loading it gives.
std::string load_error(const std::string& file, const std::function<void(std::map<std::string, Tensor>&)>& edit) {
  auto st = SafetensorsFile::open(source_path(kDir + file + ".safetensors"));
  std::map<std::string, Tensor> t;
  for (const TensorEntry& e : st.tensors()) t.emplace(e.name, st.read(e.name));
  edit(t);
  std::vector<NamedTensor> out;
  for (auto& [n, x] : t) out.push_back({n, &x});
  const std::string path = binary_path("bn-edited.safetensors");
  write_safetensors(path, out, st.metadata());
  try {
    Network::from_weights(WeightStore::open(path), "edited");
  } catch (const std::exception& e) {
    std::remove(path.c_str());
    return e.what();
  }
  std::remove(path.c_str());
  return "";
}

}  // namespace

TEST(BatchNorm, LogitsEqualPyTorchsEvalForward) {
  auto ref = SafetensorsFile::open(source_path(std::string(kDir) + "reference.safetensors"));
  const Tensor x = ref.read("input");
  for (const auto& [file, arch] : std::vector<std::pair<std::string, std::string>>{{"vgg16_bn_tv", "vgg16_bn"},
                                                                                    {"vgg11_bn_timm", "vgg11_bn"}}) {
    SCOPED_TRACE(file);
    auto net = open(file);
    EXPECT_EQ(net->spec().arch_name(), arch);
    EXPECT_TRUE(net->spec().batch_norm);
    EXPECT_NE(net->info().canonized.find("BatchNorm2d folded"), std::string::npos) << net->info().canonized;
    EXPECT_NE(net->describe().find("canonised: "), std::string::npos);
    const Tensor want = ref.read("logits/" + file);
    const Tensor got = forward_logits(net, x);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_LT(max_abs_diff(got.data(), want.data(), want.size()), 1e-4 * max_abs(want.data(), want.size()));
  }
}

TEST(BatchNorm, KeepsTorchvisionsModuleNames) {
  auto net = open("vgg16_bn_tv");
  std::vector<std::string> convs;
  for (int i = 0; i < net->size(); ++i)
    if (net->layer(i).kind == LayerKind::Conv) convs.push_back(net->layer(i).name);
  // vgg16_bn: conv, bn, relu (x2), pool, ...: the convolutions are features.0, 3, 7, 10, 14, ...
  EXPECT_EQ(convs, (std::vector<std::string>{"features.0", "features.3", "features.7", "features.10", "features.14",
                                             "features.17", "features.20", "features.24", "features.27", "features.30",
                                             "features.34", "features.37", "features.40"}));
  EXPECT_EQ(net->layer(net->find("features.7")).nick, "conv2_1");
  ASSERT_GE(net->find("features.6"), 0);  // the first max-pool, after conv, bn, relu, conv, bn, relu
  EXPECT_EQ(net->layer(net->find("features.6")).kind, LayerKind::MaxPool);
  ASSERT_GE(net->find("features.5"), 0);
  EXPECT_EQ(net->layer(net->find("features.5")).kind, LayerKind::ReLU);
  EXPECT_EQ(net->layer(net->find("features.43")).kind, LayerKind::MaxPool);  // the last
  // a plain VGG is not canonised
  EXPECT_EQ(Network::load(source_path("tests/fixtures/tiny_vgg16.safetensors"))->info().canonized, "");
}

TEST(BatchNorm, BrokenBatchNormTensorsAreRefusedByName) {
  EXPECT_NE(load_error("vgg16_bn_tv", [](auto& t) { t.erase("features.4.running_var"); })
                .find("missing 'features.4.running_var' (the BatchNorm2d after 'features.3.weight')"),
            std::string::npos);
  EXPECT_NE(load_error("vgg16_bn_tv", [](auto& t) { t["features.1.bias"] = Tensor({3}); })
                .find("'features.1.bias' has shape [3], expected [4]"),
            std::string::npos);
  EXPECT_NE(load_error("vgg16_bn_tv", [](auto& t) { t["features.8.running_var"][2] = -1.0f; })
                .find("'features.8.running_var' holds a negative variance"),
            std::string::npos);
  EXPECT_NE(load_error("vgg16_bn_tv", [](auto& t) { t["features.1.weight"][0] = std::nanf(""); })
                .find("'features.1.weight' holds a non-finite value"),
            std::string::npos);
  // a convolution without a bias before its batch norm is fine (the bias is the batch norm's)
  EXPECT_EQ(load_error("vgg16_bn_tv", [](auto& t) { t.erase("features.0.bias"); }), "");
}
