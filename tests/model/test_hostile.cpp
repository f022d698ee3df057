// Hostile weights and metadata: every bad number ends in one clear message naming what is wrong, never in NaN
// logits, a crash or a wrapped size.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "engine/error.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/random_weights.h"
#include "model/safetensors_writer.h"
#include "model/weight_store.h"
#include "net_util.h"

namespace lrp {
namespace {

VggSpec small_spec() {
  VggSpec s = VggSpec::vgg16().scaled(16, 10);
  s.in_height = s.in_width = 32;
  s.in_channels = 1;
  return s;
}

std::string gray_config(const std::string& extra = "") {
  return "{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}, \"color\": \"gray\", \"mean\": [0.5], "
         "\"std\": [0.25], \"resize\": \"resize\"" + extra + "}";
}

// The safetensors bytes of a small VGG whose tensors `edit` may change, with `config` as lrpscope.config.
WeightStore store(const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit,
                  const std::string& config = gray_config(), DType dtype = DType::F32) {
  auto t = random_vgg_tensors(small_spec(), 7);
  edit(t);
  std::vector<NamedTensor> named;
  for (auto& [n, x] : t) named.push_back({n, &x, n.find("_scale") != std::string::npos ? DType::F32 : dtype});
  return WeightStore::from_buffer(safetensors_bytes(named, {{"lrpscope.config", config}}));
}

std::string load_error(const WeightStore& w) {
  try {
    Network::from_weights(w, "hostile");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Hostile, NonFiniteWeightsAreRefusedNamingTheTensor) {
  for (DType d : {DType::F32, DType::F16, DType::BF16}) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      const auto e = load_error(store([&](auto& t) { t[4].second[17] = bad; }, gray_config(), d));
      EXPECT_NE(e.find("holds a non-finite value"), std::string::npos) << e;
      EXPECT_NE(e.find("features.5.weight"), std::string::npos) << e;  // the fourth tensor: conv2_1's weight
    }
  }
  EXPECT_EQ(load_error(store([](auto&) {})), "");
}

TEST(Hostile, HugeWeightsSayWhereTheForwardPassOverflows) {
  auto w = store([](auto& t) {
    for (auto& [n, x] : t)
      if (n == "features.10.weight") x.fill(3e38f);
  });
  auto net = Network::from_weights(w, "hostile");
  Tensor in({1, 32, 32}, 1.0f);
  ForwardPass fwd(net, in);
  try {
    fwd.run();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite values at layer features.10"), std::string::npos) << e.what();
  }
}

TEST(Hostile, MetadataThatWouldMakeNonFiniteInputsIsRefused) {
  const auto ok = [](auto&) {};
  for (const auto& [cfg, part] : std::vector<std::pair<std::string, std::string>>{
           {"{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}, \"color\": \"gray\", \"mean\": [0.5], \"std\": [1e-38]}", "std"},
           {"{\"input\": {\"channels\": 1, \"height\": 1e300, \"width\": 32}, \"color\": \"gray\"}", "input.height"},
           {"{\"input\": {\"channels\": 1, \"height\": 32.5, \"width\": 32}, \"color\": \"gray\"}", "input.height"},
           {"{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}, \"color\": \"gray\", \"scale\": 1e300}", "scale"},
           {"{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}, \"color\": \"gray\", \"resize_shorter\": 99999999999}", "resize_shorter"},
           {"{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}, \"color\": \"gray\", \"mean\": [\"x\"]}", "mean"}}) {
    const auto e = load_error(store(ok, cfg));
    EXPECT_NE(e.find(part), std::string::npos) << cfg << " -> " << e;
  }
  // labels with terminal escape sequences are shown harmless
  auto net = Network::from_weights(store(ok, gray_config(", \"labels\": [\"a\\u001b[31mred\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\"]")), "x");
  EXPECT_EQ(net->label(0), "a?[31mred");
}

TEST(Hostile, NonsenseShapesAreRefusedBeforeAnyArithmetic) {
  // a convolution of width 0 (would divide by zero when the classifier's inputs are checked)
  std::vector<std::pair<std::string, Tensor>> t = {{"features.0.weight", Tensor({0, 1, 3, 3})},
                                                   {"features.0.bias", Tensor({0})},
                                                   {"classifier.0.weight", Tensor({10, 8})},
                                                   {"classifier.0.bias", Tensor({10})}};
  std::vector<NamedTensor> named;
  for (auto& [n, x] : t) named.push_back({n, &x});
  const auto e = load_error(WeightStore::from_buffer(safetensors_bytes(named)));
  EXPECT_NE(e.find("'features.0.weight' has shape [0x1x3x3]"), std::string::npos) << e;
}

TEST(Hostile, SizesNeverWrap) {
  EXPECT_THROW(Tensor::count({1 << 20, 1 << 20, 1 << 20, 1 << 10}), Error);
  EXPECT_THROW(checked_mul(std::numeric_limits<std::size_t>::max() / 2, 3, "test"), Error);
  // a model whose explanation cannot fit is refused at load with the estimate in the message (natively that is
  // the machine's RAM, in WebAssembly the 4 GB heap)
  VggSpec big = VggSpec::vgg16().scaled(8, 10);
  big.in_height = big.in_width = 4096;
  const double need = big.explanation_bytes(big.weight_values() * 4);
  auto t = random_vgg_tensors(big, 1);
  std::vector<NamedTensor> named;
  for (auto& [n, x] : t) named.push_back({n, &x});
  const std::string cfg = "{\"input\": {\"channels\": 3, \"height\": 4096, \"width\": 4096}, \"resize\": \"resize\"}";
  const auto e = load_error(WeightStore::from_buffer(safetensors_bytes(named, {{"lrpscope.config", cfg}})));
  if (need > memory_limit_bytes()) {
    EXPECT_NE(e.find("not enough memory"), std::string::npos) << e;
    EXPECT_NE(e.find(std::to_string(static_cast<long long>(need / 1e6)) + " MB"), std::string::npos) << e;
  } else {
    EXPECT_EQ(e, "");
  }
  EXPECT_GT(need, 4096.0 * 1024 * 1024);  // so the WebAssembly build of this test sees the refusal
}

TEST(Hostile, EmptyTensorsOverlapNothing) {
  Tensor a({0}), b({4}, 1.0f);
  std::vector<NamedTensor> named = {{"a", &a}, {"b", &b}};
  EXPECT_NO_THROW(WeightStore::from_buffer(safetensors_bytes(named)));
}

}  // namespace
}  // namespace lrp
