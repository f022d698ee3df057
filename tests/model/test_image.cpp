#include <gtest/gtest.h>

#include "engine/error.h"
#include "model/image.h"
#include "test_util.h"

using namespace lrp;

static Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image im;
  im.width = w;
  im.height = h;
  for (int i = 0; i < w * h; ++i) im.rgb.insert(im.rgb.end(), {r, g, b});
  return im;
}

TEST(Image, PngRoundTrip) {
  Image im = solid(5, 3, 10, 20, 30);
  im.rgb[0] = 200;
  auto png = encode_png(im);
  Image back = decode_image(png.data(), png.size());
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 3);
  EXPECT_EQ(back.rgb, im.rgb);
}

TEST(Preprocess, ShorterSideThenCenterCrop) {
  ModelConfig cfg;  // ImageNet: 256 then 224
  Image im = solid(512, 300, 255, 0, 0);
  auto p = preprocess(im, cfg);
  EXPECT_EQ(p.tensor.shape(), (std::vector<int>{3, 224, 224}));
  EXPECT_NEAR(p.tensor[0], (1.0f - 0.485f) / 0.229f, 1e-5);
  EXPECT_NEAR(p.tensor[224 * 224], (0.0f - 0.456f) / 0.224f, 1e-5);
  EXPECT_EQ(p.view.width, 224);
  EXPECT_FALSE(p.inverted);
}

TEST(Preprocess, BgrAndGreyscale) {
  ModelConfig bgr;
  bgr.color = ColorOrder::BGR;
  bgr.scale = 1.0f;
  bgr.mean = {103.939f, 116.779f, 123.68f};
  bgr.stdev = {1, 1, 1};
  auto p = preprocess(solid(300, 300, 255, 0, 0), bgr);
  EXPECT_NEAR(p.tensor[0], 0.0f - 103.939f, 1e-3);               // B
  EXPECT_NEAR(p.tensor[2 * 224 * 224], 255.0f - 123.68f, 1e-3);  // R
  ModelConfig grey = ModelConfig::from_json(
      R"({"input":{"channels":1,"height":32,"width":32},"color":"gray","mean":[0.5],"std":[0.5],"resize":"resize"})");
  auto g = preprocess(solid(10, 10, 255, 255, 255), grey);
  EXPECT_EQ(g.tensor.shape(), (std::vector<int>{1, 32, 32}));
  EXPECT_NEAR(g.tensor[0], 1.0f, 1e-5);
}

TEST(Preprocess, FitPadsAndAutoInvertsLightBackgrounds) {
  ModelConfig cfg = ModelConfig::from_json(
      R"({"input":{"channels":1,"height":32,"width":32},"color":"gray","mean":[0],"std":[1],"resize":"fit",)"
      R"("content_size":28,"background":"dark"})");
  // a dark square on white: inverted automatically, so the object becomes light on dark
  Image im = solid(56, 56, 255, 255, 255);
  for (int y = 14; y < 42; ++y)
    for (int x = 14; x < 42; ++x)
      for (int c = 0; c < 3; ++c) im.rgb[(static_cast<std::size_t>(y) * 56 + x) * 3 + c] = 0;
  auto p = preprocess(im, cfg);
  EXPECT_TRUE(p.inverted);
  EXPECT_NEAR(p.tensor[0], 0.0f, 1e-6);                    // padding: background 0
  EXPECT_NEAR(p.tensor[16 * 32 + 16], 1.0f, 1e-5);         // the (inverted) object
  EXPECT_NEAR(p.tensor[3 * 32 + 3], 0.0f, 1e-5);           // inverted white border
  PreprocessOptions off;
  off.invert = InvertMode::Off;
  auto q = preprocess(im, cfg, off);
  EXPECT_FALSE(q.inverted);
  EXPECT_NEAR(q.tensor[16 * 32 + 16], 0.0f, 1e-5);
  // a 28x28 image is placed exactly, with no resampling
  Image small = solid(28, 28, 0, 0, 0);
  small.rgb[0] = small.rgb[1] = small.rgb[2] = 255;
  auto s = preprocess(small, cfg, off);
  EXPECT_NEAR(s.tensor[2 * 32 + 2], 1.0f, 1e-6);
  EXPECT_NEAR(s.tensor[2 * 32 + 3], 0.0f, 1e-6);
}

TEST(Preprocess, FuzzRegressions) {
  // Inputs the fuzzers found (tests/fuzz/regressions): each must preprocess within bounded memory or fail cleanly.
  for (const char* f : {"image-tall-bmp-oom.bmp", "image-png-dimension-overflow.png", "image-png-empty-chunk.png"}) {
    try {
      Image img = load_image(lrp::test::source_path(std::string("tests/fuzz/regressions/") + f));
      auto p = preprocess(img, ModelConfig::imagenet());
      EXPECT_EQ(p.tensor.shape(), (std::vector<int>{3, 224, 224})) << f;
    } catch (const Error&) {
    }
  }
}
