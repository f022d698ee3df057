#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "engine/error.h"
#include "model/convert.h"
#include "model/image.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/safetensors.h"
#include "model/weight_store.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

TEST(Convert, F16Bf16Int8AndShardsLoadAndAgree) {
  const std::string src = source_path("assets/models/fashion-vgg16.safetensors");
  WeightStore ws = WeightStore::open(src);
  auto ref = Network::from_weights(ws);
  auto pre = preprocess(load_image(source_path("assets/samples/fashion/coat-1.png")), ref->config());
  Tensor want = forward_logits(ref, pre.tensor);
  const double scale = max_abs(want.data(), want.size());
  struct Case {
    StoreType type;
    std::size_t shard;
    double tol;
  };
  for (const Case& c : {Case{StoreType::F32, 1000000, 0.0}, Case{StoreType::F16, 0, 2e-3}, Case{StoreType::BF16, 0, 2e-2},
                        Case{StoreType::Int8, 400000, 3e-2}}) {
    const std::string out = binary_path("convert_test_" + std::to_string(static_cast<int>(c.type)) + ".safetensors");
    ConvertResult r = convert_weights(ws, out, c.type, c.shard);
    auto net = Network::load(c.shard ? r.files.back() : r.files.front());
    EXPECT_EQ(net->config().labels.size(), 10u);
    Tensor got = forward_logits(net, pre.tensor);
    EXPECT_LE(max_abs_diff(got.data(), want.data(), want.size()), c.tol * scale) << static_cast<int>(c.type);
    if (c.shard) EXPECT_GT(r.files.size(), 2u);
    if (c.type == StoreType::Int8) EXPECT_LT(r.bytes, 1100000u);  // about a quarter of the 4.1 MB
    for (const auto& f : r.files) std::remove(f.c_str());
  }
}

TEST(Convert, Int8WithoutScalesIsAClearError) {
  // an I8 weight with no "_scale" companion
  std::vector<uint8_t> bytes;
  const std::string h = R"({"w":{"dtype":"I8","shape":[2,2],"data_offsets":[0,4]}})";
  std::string hdr = h;
  while (hdr.size() % 8) hdr += ' ';
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(hdr.size()) >> (8 * i)));
  bytes.insert(bytes.end(), hdr.begin(), hdr.end());
  bytes.insert(bytes.end(), {1, 2, 3, 4});
  WeightStore ws = WeightStore::from_buffer(bytes);
  EXPECT_THROW(ws.read("w"), Error);
}

// F16, BF16 and int8 weights stay compressed in memory (classifier and convolutions), and the network computes
// exactly what the float32 expansion of the same stored values computes.
TEST(Convert, CompressedClassifierWeightsStayCompressedAndAgreeExactly) {
  const std::string src = source_path("assets/models/fashion-vgg16.safetensors");
  WeightStore ws = WeightStore::open(src);
  auto pre = preprocess(load_image(source_path("assets/samples/fashion/bag-1.png")),
                        Network::from_weights(ws)->config());
  for (StoreType type : {StoreType::F16, StoreType::BF16, StoreType::Int8}) {
    const std::string out = binary_path("convert_kept_" + std::to_string(static_cast<int>(type)) + ".safetensors");
    ConvertResult r = convert_weights(ws, out, type, 0);
    WeightStore stored = WeightStore::open(r.files.front());
    auto net = Network::from_weights(stored);
    std::vector<std::pair<std::string, Tensor>> dense;
    for (auto& [name, shape] : vgg_tensor_shapes(net->spec())) {
      Tensor t = stored.read(name);
      t.reshape(shape);
      dense.emplace_back(name, std::move(t));
    }
    auto expanded = Network::from_tensors(net->spec(), net->config(), dense);
    std::size_t kept = 0, full = 0;
    for (int i = 0; i < net->size(); ++i) {
      const Layer& l = net->layer(i);
      if (!l.has_weights()) continue;
      EXPECT_NE(l.fc_format, FcFormat::F32) << l.name;
      EXPECT_FALSE(l.weight) << l.name;
      const Tensor back = l.dense_weight();
      const Tensor& want = *expanded->layer(i).weight;
      ASSERT_EQ(back.size(), want.size());
      EXPECT_EQ(0, std::memcmp(back.data(), want.data(), want.size() * 4)) << l.name;
      kept += l.weight_bytes();
      full += expanded->layer(i).weight_bytes();
    }
    EXPECT_LE(kept, full / (type == StoreType::Int8 ? 3 : 2) + 4096);
    Tensor a = forward_logits(net, pre.tensor), b = forward_logits(expanded, pre.tensor);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << static_cast<int>(type);
    EXPECT_NE(net->describe().find("classifier kept as"), std::string::npos);
    for (const auto& f : r.files) std::remove(f.c_str());
  }
}
