#include <gtest/gtest.h>

#include "engine/error.h"
#include "model/labels.h"
#include "model/model_config.h"

using namespace lrp;

TEST(ModelConfig, ImageNetDefaultsAndJsonRoundTrip) {
  ModelConfig c = ModelConfig::imagenet();
  EXPECT_EQ(c.height, 224);
  EXPECT_EQ(c.resize_shorter, 256);
  EXPECT_FALSE(c.from_metadata);
  ModelConfig d = ModelConfig::from_json(R"({"name":"x","input":{"channels":1,"height":32,"width":32},"color":"gray",)"
                                         R"("mean":[0.2],"std":[0.3],"labels":["a","b"],"background":"dark"})");
  ModelConfig e = ModelConfig::from_json(d.to_json());
  EXPECT_EQ(e.name, "x");
  EXPECT_EQ(e.channels, 1);
  EXPECT_EQ(e.labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(e.dark_background);
  EXPECT_FLOAT_EQ(e.mean[0], 0.2f);
}

TEST(ModelConfig, RejectsNonsense) {
  EXPECT_THROW(ModelConfig::from_json("[]"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"std":[0]})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"color":"cmyk"})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"input":{"channels":2}})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"input":{"height":100000}})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"mean":"x"})"), Error);
  EXPECT_THROW(ModelConfig::from_json(R"({"labels":[1,2]})"), Error);
}

TEST(Labels, ImageNetHasAThousandNames) {
  const auto& l = imagenet_labels();
  ASSERT_EQ(l.size(), 1000u);
  EXPECT_EQ(l[0], "tench");
  EXPECT_EQ(l[281], "tabby");
  EXPECT_EQ(l[999], "toilet tissue");
}
