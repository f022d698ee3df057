// The reference atlas: a constructed channel that detects a plus-shaped pattern ranks the pictures with a plus
// first; activation scores equal the forward pass run per picture, relevance scores the explanation's per-channel
// sums; the file round-trips; a mismatched model and damaged files are refused with a sentence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "explain/atlas.h"
#include "explain/atlas_view.h"
#include "explain/concept_map.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "explain/selection.h"
#include "explain/workspace.h"
#include "model/forward.h"
#include "model/net_util.h"
#include "atlas_fixture.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

TEST(Atlas, TheChannelThatSeesAPlusRanksThePlusesFirst) {
  const Built b = build();
  const AtlasLayer* l = b.atlas.layer("conv1_1");
  ASSERT_NE(l, nullptr);
  const auto& refs = b.atlas.refs(*l, 0, AtlasBy::Activation);
  ASSERT_EQ(refs.size(), 5u);
  std::vector<uint32_t> first;
  for (int k = 0; k < 4; ++k) first.push_back(refs[static_cast<std::size_t>(k)].image);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<uint32_t>{1, 4, 7, 10}));
  EXPECT_GT(refs[3].score, 1.5 * refs[4].score);  // clearly apart from the best of the rest (a line)
  // the maximum sits on the plus' centre, its receptive field the 3x3 around it (model pixels = picture pixels)
  for (int k = 0; k < 4; ++k) {
    const AtlasRef& r = refs[static_cast<std::size_t>(k)];
    EXPECT_EQ(r.y, 6 + static_cast<int>(r.image) * 2);
    EXPECT_EQ(r.x, 25 - static_cast<int>(r.image) * 2);
    EXPECT_EQ(r.box.y0, r.y - 1);
    EXPECT_EQ(r.box.x1, r.x + 2);
  }
}

TEST(Atlas, ScoresEqualTheForwardPassAndTheExplanation) {
  const Built b = build(12);  // every picture: the whole ranking is checked
  Workspace ws;
  ws.set_model(b.net, true);
  const Composite c = Composite::preset("epsilon-plus-flat", *b.net);
  for (const AtlasLayer& l : b.atlas.layers) {
    const int li = b.net->find(l.name);
    for (int ch : {0, l.channels / 2, l.channels - 1}) {
      std::vector<std::pair<float, uint32_t>> act, rel;
      for (uint32_t i = 0; i < 12; ++i) {
        ws.set_image(b.pictures[i], InvertMode::Off);
        ws.start_forward()->run();
        const Tensor& a = ws.fwd->output(activation_layer(*b.net, li));
        const std::size_t per = a.size() / static_cast<std::size_t>(l.channels);
        act.push_back({*std::max_element(a.data() + ch * per, a.data() + (ch + 1) * per), i});
        auto ex = ws.explanation(c, ExplainOptions{});
        ex->run();
        rel.push_back({static_cast<float>(neuron_relevance(ex->relevance(li))[static_cast<std::size_t>(ch)]), i});
      }
      for (auto* v : {&act, &rel})
        std::sort(v->begin(), v->end(), [](auto& x, auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
      const auto& ra = b.atlas.refs(l, ch, AtlasBy::Activation);
      const auto& rr = b.atlas.refs(l, ch, AtlasBy::Relevance);
      ASSERT_EQ(ra.size(), 12u);
      for (std::size_t k = 0; k < 12; ++k) {
        EXPECT_EQ(ra[k].image, act[k].second) << l.name << ":" << ch << " #" << k;
        EXPECT_FLOAT_EQ(ra[k].score, act[k].first);
        EXPECT_EQ(rr[k].image, rel[k].second) << l.name << ":" << ch << " #" << k;
        EXPECT_NEAR(rr[k].score, rel[k].first, 1e-6 * std::fabs(rel[k].first) + 1e-12);
      }
    }
  }
}

TEST(Atlas, FileRoundTripsAndRefusesWhatDoesNotFit) {
  const Built b = build();
  const std::vector<uint8_t> bytes = write_atlas(b.atlas);
  const Atlas back = read_atlas(bytes.data(), bytes.size());
  EXPECT_EQ(write_atlas(back), bytes);
  ASSERT_EQ(back.layers.size(), b.atlas.layers.size());
  EXPECT_EQ(back.layers.size(), default_atlas_layers(*b.net).size());
  for (std::size_t i = 0; i < back.layers.size(); ++i)
    for (int c = 0; c < back.layers[i].channels; ++c)
      for (AtlasBy by : {AtlasBy::Activation, AtlasBy::Relevance}) {
        const auto& x = back.refs(back.layers[i], c, by);
        const auto& y = b.atlas.refs(b.atlas.layers[i], c, by);
        ASSERT_EQ(x.size(), y.size());
        for (std::size_t k = 0; k < x.size(); ++k) {
          EXPECT_EQ(x[k].image, y[k].image);
          EXPECT_EQ(x[k].score, y[k].score);
          EXPECT_EQ(x[k].box.y1, y[k].box.y1);
        }
      }
  for (const AtlasLayer& l : back.layers) {  // every layer has its concept maps (12 images profiled)
    EXPECT_EQ(l.map_activation.size(), 2u * static_cast<std::size_t>(l.channels)) << l.name;
    EXPECT_EQ(l.map_relevance.size(), 2u * static_cast<std::size_t>(l.channels)) << l.name;
    EXPECT_TRUE(l.profiles.empty());
  }
  ASSERT_EQ(back.images.size(), b.atlas.images.size());
  for (std::size_t i = 0; i < back.images.size(); ++i) EXPECT_EQ(back.images[i].rgb, b.atlas.images[i].rgb);
  // it fits its model, and no other
  EXPECT_EQ(atlas_mismatch(back, *b.net), "");
  EXPECT_EQ(model_fingerprint(*plus_network()), model_fingerprint(*b.net));  // the same weights: the same print
  EXPECT_NE(atlas_mismatch(back, *plus_network(12)).find("other weights"), std::string::npos);
  EXPECT_NE(atlas_mismatch(back, *tiny_network(3, tiny_spec(48))).find("made for a"), std::string::npos);
  // damaged files: a sentence, never a crash
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{13}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      read_atlas(bytes.data(), cut);
      ADD_FAILURE() << "a file cut at " << cut << " bytes was read";
    } catch (const Error& e) {
      EXPECT_GT(std::string(e.what()).size(), 10u);
    }
  }
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_THROW(read_atlas(bad.data(), bad.size()), Error);
  bad = bytes;
  bad[8] = 2;  // version 2
  try {
    read_atlas(bad.data(), bad.size());
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
  bad = bytes;
  bad[bad.size() - 10] ^= 0x5a;  // inside the compressed body
  EXPECT_THROW(read_atlas(bad.data(), bad.size()), Error);
}

TEST(Atlas, MaskedReferenceDimsWhatCarriedNoRelevance) {
  Image v;
  v.width = 4;
  v.height = 2;
  v.rgb.assign(4 * 2 * 3, 200);
  std::vector<float> heat(8, 0.0f);
  heat[1] = 1.0f;  // row 0, column 1
  const Image m = masked_reference(v, heat, Box{0, 1, 2, 3});
  ASSERT_EQ(m.width, 2);
  ASSERT_EQ(m.height, 2);
  EXPECT_EQ(m.rgb[0], 200);         // the relevant pixel keeps its value
  EXPECT_LT(m.rgb[3], 200 * 0.3 + 30);  // the others are dimmed
}

// The concept map: channels that respond to the same images sit together, those of another group far away;
// a copy of a channel sits on it; a constant channel at the centre.
TEST(ConceptMap, ChannelsThatRespondToTheSameImagesSitTogether) {
  for (int samples : {40, 6}) {  // more samples than channels, and fewer (the other Gram matrix)
    const int channels = 11;
    std::vector<float> p(static_cast<std::size_t>(channels) * samples);
    uint64_t s = 7;
    auto noise = [&] {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      return static_cast<float>((s >> 33) % 1000) / 1000.0f * 0.2f;
    };
    for (int c = 0; c < channels; ++c)
      for (int i = 0; i < samples; ++i) {
        const bool first_half = i < samples / 2;
        float v = c < 5 ? (first_half ? 1.0f : 0.0f) : c < 10 ? (first_half ? 0.0f : 1.0f) : 0.5f;  // channel 10: constant
        if (c < 10) v += noise();
        p[static_cast<std::size_t>(c) * samples + i] = v;
      }
    const std::vector<float> xy = pca_2d(p, channels, samples);
    auto d = [&](int a, int b) -> double { return std::hypot(xy[a * 2] - xy[b * 2], xy[a * 2 + 1] - xy[b * 2 + 1]); };
    double within = 0, between = 1e9;
    for (int a = 0; a < 10; ++a)
      for (int b = 0; b < 10; ++b) {
        if ((a < 5) == (b < 5)) within = std::max(within, d(a, b));
        else between = std::min(between, d(a, b));
      }
    EXPECT_LT(within * 3, between) << samples << " samples";
    EXPECT_NEAR(xy[20], 0.0f, 1e-6);  // the constant channel
    EXPECT_NEAR(xy[21], 0.0f, 1e-6);
    EXPECT_EQ(pca_2d(p, channels, samples), xy);  // deterministic
  }
  EXPECT_THROW(pca_2d(std::vector<float>(5), 2, 3), Error);
}

// A reference's picture is what the model saw: its conditional heatmap is computed on exactly those pixels, also
// for a model whose preprocessing fits pictures into a smaller box (Fashion-MNIST: 28 x 28 centred on 32 x 32),
// which would shrink the view again if it were prepared like a photo.
TEST(Atlas, AReferenceHeatmapIsComputedOnThePictureTheModelSaw) {
  auto net = plus_network();
  ModelConfig cfg = net->config();
  cfg.resize = ResizeMode::Fit;
  cfg.content_size = 28;
  auto fitted = Network::from_tensors(net->spec(), cfg, random_vgg_tensors(net->spec(), 11));
  Image photo = picture(0, 5, 22);  // a plus near the top right corner
  photo = crop_image(photo, 2, 2, 30, 30);  // 28 x 28
  Workspace ws;
  ws.set_model(fitted, true);
  ws.set_image(photo, InvertMode::Off);
  const Image view = ws.pre.view;
  ws.start_forward()->run();
  auto ex = ws.explanation(Composite::preset("epsilon-plus-flat", *fitted), ExplainOptions{});
  ex->run();
  const std::vector<float> want = channel_sum(restricted_lrp(*ex, {NeuronMask{0, {0}}}, false));
  const std::vector<float> got = reference_heatmap(fitted, view, 0, 0, "epsilon-plus-flat");
  ASSERT_EQ(got.size(), want.size());
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(double(got[i]) - want[i])), mag = std::max(mag, std::fabs(double(want[i])));
  EXPECT_GT(mag, 0);
  EXPECT_LT(err, 1e-4 * mag);
  EXPECT_THROW(preprocess_view(photo, cfg), Error);  // not the model's size
}
