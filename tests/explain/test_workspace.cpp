// The headless workspace and the small helpers every front end shares (one place each): targets as text, class
// ranking, a neuron's share of its layer, a receptive-field crop.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "explain/selection.h"
#include "explain/workspace.h"
#include "test_util.h"

using namespace lrp;

namespace {

TEST(Workspace, TargetsReadAsLinksAndTheCommandLineWriteThem) {
  EXPECT_EQ(Target::parse("7").kind, Target::Kind::Class);
  EXPECT_EQ(Target::parse("7").a, 7);
  const Target c = Target::parse("3,9");
  EXPECT_EQ(c.kind, Target::Kind::Contrast);
  EXPECT_EQ(c.text(), "3,9");
  EXPECT_EQ(Target::top1().text(), "");
  for (const char* bad : {"", "-1", "3x", "1e3", "3,", ",3", "3,3", "99999999999999", " 3", "3,4,5"})
    EXPECT_THROW(Target::parse(bad), Error) << bad;
  EXPECT_THROW(Target::parse("11", 10), Error);
}

TEST(Workspace, ClassesRankByLogitTiesByIndex) {
  Tensor l({5});
  const float v[] = {0.5f, 2.0f, -1.0f, 2.0f, 0.0f};
  for (int i = 0; i < 5; ++i) l[static_cast<std::size_t>(i)] = v[i];
  EXPECT_EQ(rank_classes(l), (std::vector<int>{1, 3, 0, 4, 2}));
  EXPECT_EQ(argmax(l), 1);
  EXPECT_EQ(argmax(Tensor()), -1);
}

TEST(Workspace, NeuronShareAndCrop) {
  Tensor r({3, 1, 2});
  const float v[] = {1, 1, 2, 0, -1, 1};
  for (int i = 0; i < 6; ++i) r[static_cast<std::size_t>(i)] = v[i];
  const NeuronShare s = neuron_share(r, {1});
  EXPECT_DOUBLE_EQ(s.relevance, 2.0);
  EXPECT_DOUBLE_EQ(s.layer, 4.0);
  EXPECT_DOUBLE_EQ(s.share, 0.5);
  EXPECT_DOUBLE_EQ(neuron_share(r, {7}).relevance, 0.0);  // out of range: nothing
  Image img;
  img.width = 3;
  img.height = 2;
  for (int i = 0; i < 18; ++i) img.rgb.push_back(static_cast<uint8_t>(i));
  const Image c = crop_image(img, 1, 1, 5, 3);  // clamped to the picture
  EXPECT_EQ(c.width, 2);
  EXPECT_EQ(c.height, 1);
  EXPECT_EQ(c.rgb, (std::vector<uint8_t>{12, 13, 14, 15, 16, 17}));
}

TEST(Workspace, PreparesRunsAndExplains) {
  Workspace w;
  EXPECT_THROW(w.set_image(Image(), InvertMode::Auto), Error);  // no model yet
  w.set_model(Network::load(test::source_path("assets/models/fashion-vgg16.safetensors")), true);
  w.set_image(load_image(test::source_path("assets/samples/fashion/sneaker-1.png")), InvertMode::Auto);
  EXPECT_FALSE(w.ready());
  EXPECT_THROW(w.explanation(Composite::preset("epsilon", *w.net), {}), Error);
  w.start_forward()->run();
  ASSERT_TRUE(w.ready());
  EXPECT_EQ(w.net->label(argmax(w.fwd->logits())), "Sneaker");
  auto ex = w.explanation(Composite::preset("epsilon-gamma-box", *w.net), {});
  ex->run();
  EXPECT_EQ(ex->target_class(), argmax(w.fwd->logits()));
  // a new picture drops the forward pass of the old one
  w.set_image(load_image(test::source_path("assets/samples/fashion/coat-1.png")), InvertMode::Auto);
  EXPECT_FALSE(w.ready());
  EXPECT_EQ(w.fwd, nullptr);
}

}  // namespace
