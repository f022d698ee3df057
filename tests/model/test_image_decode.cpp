// Decoding untrusted pictures: true messages, no memory errors on damaged files, EXIF orientation, alpha, and big
// pictures reduced on decoding. The fixtures in tests/fixtures/images were made with ImageMagick (an independent
// decoder/encoder): upright.png is 48x32 grey with a red block in the top-left corner, a blue bar along the bottom and
// a white stripe down the right edge;
// exif-orientation-N.jpg stores it turned or mirrored, with EXIF orientation N saying how to show it upright.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "engine/error.h"
#include "model/image.h"
#include "test_util.h"

using namespace lrp;

namespace {

std::vector<uint8_t> read(const std::string& rel) {
  std::ifstream f(test::source_path(rel), std::ios::binary);
  EXPECT_TRUE(f.good()) << rel;
  return {std::istreambuf_iterator<char>(f), {}};
}

std::string decode_error(const std::vector<uint8_t>& bytes) {
  try {
    decode_image(bytes.data(), bytes.size());
  } catch (const Error& e) {
    return e.what();
  }
  return "(decoded)";
}

const uint8_t* px(const Image& im, int x, int y) { return &im.rgb[(static_cast<std::size_t>(y) * im.width + x) * 3]; }

// Red block top-left, blue bar at the bottom, white stripe on the right, grey elsewhere (within JPEG's error).
void expect_upright(const Image& im, const std::string& what) {
  ASSERT_EQ(im.width, 48) << what;
  ASSERT_EQ(im.height, 32) << what;
  const uint8_t* tl = px(im, 3, 3);
  EXPECT_GT(tl[0], 200) << what << ": top-left is not red";
  EXPECT_LT(tl[2], 60) << what;
  const uint8_t* bottom = px(im, 30, 29);
  EXPECT_GT(bottom[2], 200) << what << ": bottom is not blue";
  EXPECT_LT(bottom[0], 60) << what;
  const uint8_t* right = px(im, 44, 3);
  EXPECT_GT(right[0], 200) << what << ": the right edge is not white";
  EXPECT_GT(right[2], 200) << what;
  for (auto [x, y] : {std::pair{30, 5}, {3, 20}, {30, 20}}) {
    const uint8_t* g = px(im, x, y);
    EXPECT_NEAR(g[0], 128, 20) << what << " at " << x << "," << y;
    EXPECT_NEAR(g[2], 128, 20) << what << " at " << x << "," << y;
  }
}

}  // namespace

TEST(ImageDecode, FormatsAreToldBySignatureWithTrueMessages) {
  EXPECT_NE(decode_error({}).find("empty"), std::string::npos);
  const std::string junk = decode_error({1, 2, 3, 4, 5});
  EXPECT_NE(junk.find("not a picture"), std::string::npos) << junk;
  EXPECT_NE(junk.find("01 02 03 04 05"), std::string::npos) << junk;

  const auto jpg = read("tests/fixtures/images/upright.jpg");
  const std::string cut = decode_error({jpg.begin(), jpg.begin() + static_cast<long>(jpg.size() / 3)});
  EXPECT_EQ(cut.find("PNG"), std::string::npos) << "a cut JPEG is not 'Not a PNG': " << cut;
  EXPECT_NE(cut.find("the JPEG is damaged or cut short"), std::string::npos) << cut;

  const auto png = read("tests/fixtures/images/upright.png");
  const std::string cut_png = decode_error({png.begin(), png.begin() + static_cast<long>(png.size() / 2)});
  EXPECT_NE(cut_png.find("the PNG is damaged or cut short"), std::string::npos) << cut_png;

  const std::string webp = decode_error(read("tests/fixtures/images/upright.webp"));
  EXPECT_NE(webp.find("WebP"), std::string::npos) << webp;
  EXPECT_NE(webp.find("web page opens it"), std::string::npos) << webp;
  EXPECT_NE(decode_error(read("tests/fixtures/images/upright.avif")).find("AVIF"), std::string::npos);

  const std::string text_ppm = decode_error({'P', '3', '\n', '1', ' ', '1', '\n', '2', '5', '5', '\n', '0', ' ', '0', ' ', '0'});
  EXPECT_NE(text_ppm.find("P3"), std::string::npos) << text_ppm;

  // A PNG header that claims 100000 x 100000 pixels: refused by its size before any pixel memory is allocated.
  std::vector<uint8_t> huge(png.begin(), png.begin() + 33);
  for (int off : {16, 20})
    for (int i = 0; i < 4; ++i) huge[off + i] = static_cast<uint8_t>(100000u >> (24 - 8 * i));
  const std::string e = decode_error(huge);
  EXPECT_NE(e.find("100000x100000"), std::string::npos) << e;
  EXPECT_NE(e.find("limit"), std::string::npos) << e;
  EXPECT_THROW(load_image("/nonexistent.png"), Error);
}

// stb_image 2.27 decoded a cut binary PPM "successfully", the missing part being whatever the heap held.
TEST(ImageDecode, TruncatedPpmIsRefused) {
  std::string ppm = "P6\n4 4\n255\n";
  ppm += std::string(4 * 4 * 3 / 2, '\x7f');
  const std::string e = decode_error({ppm.begin(), ppm.end()});
  EXPECT_NE(e.find("the PPM/PGM is damaged or cut short"), std::string::npos) << e;
  ppm += std::string(4 * 4 * 3 / 2, '\x7f');
  const Image ok = decode_image(reinterpret_cast<const uint8_t*>(ppm.data()), ppm.size());
  EXPECT_EQ(ok.width, 4);
  EXPECT_EQ(ok.rgb[0], 0x7f);
}

// stb_image 2.27 wrote past its Huffman size table when a DHT segment's counts add up to more than 256.
TEST(ImageDecode, HuffmanTableLongerThan256IsRefused) {
  const auto bytes = read("tests/fuzz/regressions/image-jpeg-dht-overflow.jpg");
  const std::string e = decode_error(bytes);
  EXPECT_NE(e.find("the JPEG is damaged or cut short"), std::string::npos) << e;
}

TEST(ImageDecode, ExifOrientationTurnsThePictureUpright) {
  expect_upright(decode_image(read("tests/fixtures/images/upright.png").data(), read("tests/fixtures/images/upright.png").size()),
                 "upright.png");
  expect_upright(load_image(test::source_path("tests/fixtures/images/upright.jpg")), "upright.jpg");
  for (int o : {2, 6, 8}) {
    const std::string name = "tests/fixtures/images/exif-orientation-" + std::to_string(o) + ".jpg";
    const auto bytes = read(name);
    EXPECT_EQ(exif_orientation(bytes.data(), bytes.size()), o) << name;
    expect_upright(decode_image(bytes.data(), bytes.size()), name);
  }
  // every orientation against a picture whose eight images are all different
  Image u;
  u.width = 3;
  u.height = 2;
  for (int i = 0; i < 6; ++i) u.rgb.insert(u.rgb.end(), {static_cast<uint8_t>(i), 0, 0});
  // stored pixels (row by row) that each orientation shows as u = [0 1 2 / 3 4 5]
  const std::vector<std::vector<int>> stored = {{},
                                                {0, 1, 2, 3, 4, 5},
                                                {2, 1, 0, 5, 4, 3},
                                                {5, 4, 3, 2, 1, 0},
                                                {3, 4, 5, 0, 1, 2},
                                                {0, 3, 1, 4, 2, 5},
                                                {2, 5, 1, 4, 0, 3},
                                                {5, 2, 4, 1, 3, 0},
                                                {3, 0, 4, 1, 5, 2}};
  for (int o = 1; o <= 8; ++o) {
    Image s;
    s.width = o >= 5 ? 2 : 3;
    s.height = o >= 5 ? 3 : 2;
    for (int v : stored[o]) s.rgb.insert(s.rgb.end(), {static_cast<uint8_t>(v), 0, 0});
    const Image shown = apply_orientation(s, o);
    EXPECT_EQ(shown.width, 3) << o;
    EXPECT_EQ(shown.rgb, u.rgb) << "orientation " << o;
  }
  // damaged EXIF never reads out of bounds and means "as stored"
  auto bytes = read("tests/fixtures/images/exif-orientation-6.jpg");
  for (std::size_t cut = 2; cut < 60; ++cut) EXPECT_LE(exif_orientation(bytes.data(), cut), 8);
}

TEST(ImageDecode, AlphaIsKeptAndFilledWithTheModelsBackground) {
  const Image dark = load_image(test::source_path("tests/fixtures/images/dark-on-transparent.png"));
  ASSERT_EQ(dark.alpha.size(), 40u * 40u);
  EXPECT_EQ(dark.alpha[0], 0);
  EXPECT_EQ(dark.alpha[20 * 40 + 20], 255);
  const Image light = load_image(test::source_path("tests/fixtures/images/light-on-transparent.png"));
  const Image opaque = load_image(test::source_path("tests/fixtures/images/upright.png"));
  EXPECT_TRUE(opaque.alpha.empty());

  const ModelConfig fashion = ModelConfig::from_json(
      R"({"input":{"channels":1,"height":32,"width":32},"color":"gray","mean":[0],"std":[1],)"
      R"("resize":"fit","content_size":28,"background":"dark"})");
  // a dark garment is inverted (light on dark, as trained) and the transparent part becomes the dark background
  const Preprocessed pd = preprocess(dark, fashion);
  EXPECT_TRUE(pd.inverted);
  EXPECT_EQ(pd.background, 255);  // white before the inversion: black after it
  EXPECT_NEAR(pd.tensor[16 * 32 + 16], 1.0f - 0x20 / 255.0f, 0.02);
  EXPECT_NEAR(pd.tensor[16 * 32 + 7], 0.0f, 0.02);  // transparent, inside the content box
  // a light garment stays as it is, on black
  const Preprocessed pl = preprocess(light, fashion);
  EXPECT_FALSE(pl.inverted);
  EXPECT_EQ(pl.background, 0);
  EXPECT_NEAR(pl.tensor[16 * 32 + 16], 0xe0 / 255.0f, 0.02);
  EXPECT_NEAR(pl.tensor[16 * 32 + 7], 0.0f, 0.02);
  // an ImageNet model sees transparent parts as white, like the page behind them
  const Preprocessed pi = preprocess(dark, ModelConfig::imagenet());
  EXPECT_EQ(pi.background, 255);
  EXPECT_NEAR(pi.tensor[0], (1.0f - 0.485f) / 0.229f, 0.02);
  EXPECT_EQ(preprocess(opaque, fashion).background, -1);
}

TEST(ImageDecode, BigPicturesAreReducedOnDecoding) {
  // 3000 x 2000 RGBA with a red block in the top-left 300 x 200 and transparency on the right half
  const int w = 3000, h = 2000;
  std::vector<uint8_t> rgba(static_cast<std::size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgba[(static_cast<std::size_t>(y) * w + x) * 4];
      const bool block = x < 300 && y < 200;
      p[0] = block ? 255 : 100;
      p[1] = block ? 0 : 100;
      p[2] = block ? 0 : 100;
      p[3] = x < w / 2 ? 255 : 0;
    }
  const Image im = image_from_rgba(rgba.data(), w, h);
  EXPECT_LE(static_cast<long long>(im.width) * im.height, kKeepImagePixels);
  EXPECT_NEAR(static_cast<double>(im.width) / im.height, 1.5, 0.01);
  EXPECT_EQ(im.shown_width(), 3000);
  EXPECT_EQ(im.shown_height(), 2000);
  ASSERT_EQ(im.alpha.size(), static_cast<std::size_t>(im.width) * im.height);
  EXPECT_EQ(px(im, 5, 5)[0], 255);
  EXPECT_EQ(px(im, 5, 5)[1], 0);
  EXPECT_EQ(px(im, im.width / 4, im.height / 2)[0], 100);
  EXPECT_EQ(im.alpha[static_cast<std::size_t>(im.height / 2) * im.width + im.width - 3], 0);
  EXPECT_EQ(im.alpha[static_cast<std::size_t>(im.height / 2) * im.width + 3], 255);
  // a small picture is kept as it is
  int kw, kh;
  kept_size(640, 480, kw, kh);
  EXPECT_EQ(kw, 640);
  EXPECT_EQ(kh, 480);
  // preprocessing the big picture: the red block lands in the top-left of the model's input, grey elsewhere
  ModelConfig stretch = ModelConfig::imagenet();
  stretch.resize = ResizeMode::Stretch;
  const Preprocessed p = preprocess(im, stretch);
  EXPECT_EQ(p.view.width, 224);
  EXPECT_EQ(p.view.rgb[(5 * 224 + 5) * 3], 255);
  EXPECT_EQ(p.view.rgb[(5 * 224 + 5) * 3 + 1], 0);
  EXPECT_NEAR(p.view.rgb[(150 * 224 + 50) * 3], 100, 1);
  EXPECT_EQ(p.view.rgb[(150 * 224 + 200) * 3], 255);  // transparent: white
}
