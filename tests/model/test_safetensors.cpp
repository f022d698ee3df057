#include <gtest/gtest.h>

#include "engine/error.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "model/weight_store.h"
#include "st_util.h"
#include "test_util.h"

using namespace lrp;

static SafetensorsFile parse(std::vector<uint8_t> b) { return SafetensorsFile(ByteSource::from_buffer(std::move(b))); }

static std::string error_of(std::vector<uint8_t> b) {
  try {
    parse(std::move(b));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RoundTripsF32F16BF16AndMetadata) {
  Tensor a({2, 3}), b({5}), c({1, 1, 2, 2});
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.5f * static_cast<float>(i) - 1.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i) * 0.25f;
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = -static_cast<float>(i);
  auto bytes = safetensors_bytes({{"a", &a, DType::F32}, {"b.half", &b, DType::F16}, {"c", &c, DType::BF16}},
                                 {{"k", "v"}});
  auto f = parse(bytes);
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("k"), "v");
  Tensor ra = f.read("a"), rb = f.read("b.half"), rc = f.read("c");
  EXPECT_EQ(ra.shape(), a.shape());
  EXPECT_EQ(rc.shape(), c.shape());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(ra[i], a[i]);
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(rb[i], b[i]);
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(rc[i], c[i]);
  EXPECT_EQ(f.find("b.half")->dtype, DType::F16);
  EXPECT_THROW(f.read("missing"), Error);
}

TEST(Safetensors, RejectsBadFilesWithClearMessages) {
  const std::vector<uint8_t> data8(8, 0);
  EXPECT_NE(error_of({1, 2, 3}).find("at least 8"), std::string::npos);
  EXPECT_NE(error_of(make_safetensors("{}", {}, 1000)).find("larger than the file"), std::string::npos);
  EXPECT_NE(error_of(make_safetensors("{\"a\":", {})).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(make_safetensors("[1,2]  ", {})).find("does not start"), std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {1, 2, 3}))
                .find("outside the data section"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", data8))
                .find("unknown dtype 'Q4'"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8))
                .find("do not hold shape"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                      data8))
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", data8))
                .find("not aligned"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data8))
                .find("bad shape"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", data8))
                .find("outside"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
                                      data8))
                .find("bad shape"),
            std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"__metadata__":{"x":1}})", {})).find("not a string"), std::string::npos);
  EXPECT_NE(error_of(make_safetensors(R"({"a":5})", {})).find("not an object"), std::string::npos);
}

TEST(Safetensors, ReadsI32ButRefusesItAsWeights) {
  auto f = parse(make_safetensors(R"({"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})", std::vector<uint8_t>(8, 0)));
  EXPECT_THROW(f.read("a"), Error);
}

TEST(Safetensors, MissingFileIsAClearError) {
  try {
    SafetensorsFile::open("/nonexistent/model.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
  }
}

TEST(WeightStore, ShardsFromBuffers) {
  Tensor a({2}), b({3});
  a.fill(1.0f);
  b.fill(2.0f);
  std::map<std::string, std::vector<uint8_t>> shards;
  shards["s1.safetensors"] = safetensors_bytes({{"a", &a, DType::F32}});
  shards["s2.safetensors"] = safetensors_bytes({{"b", &b, DType::F32}});
  auto ws = WeightStore::from_shards(R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})", shards);
  EXPECT_EQ(ws.read("b")[2], 2.0f);
  EXPECT_EQ(ws.read("a")[0], 1.0f);
  EXPECT_THROW(WeightStore::from_shards(R"({"weight_map":{"a":"../x"}})", {}), Error);
  EXPECT_THROW(WeightStore::from_shards(R"({"weight_map":{"a":"missing.safetensors"}})", {}), Error);
}
