// The atlas in the engine: a neuron's references arrive cropped, then masked by exactly the conditional heatmap
// the CLI's grid uses; they travel to the page's interface intact; an atlas for other weights is refused (the
// default one kept unused); a reference's picture opens as the model saw it.
#include <gtest/gtest.h>

#include "app/engine.h"
#include "app/wire.h"
#include "atlas_fixture.h"
#include "explain/atlas_view.h"
#include "test_util.h"

namespace lrp::app {
namespace {

using test::Built;

std::shared_ptr<const std::vector<uint8_t>> bytes_of(const Atlas& a) {
  return std::make_shared<const std::vector<uint8_t>>(write_atlas(a));
}

TEST(References, ANeuronsReferencesAreTheAtlasOnesMaskedByTheirConditionalHeatmaps) {
  const Built b = test::build();
  Engine e(Engine::Mode::Inline);
  ASSERT_TRUE(e.load_network(b.net, "plus"));
  ASSERT_TRUE(e.load_picture(b.pictures[1], "block"));
  ASSERT_TRUE(e.load_atlas_bytes(bytes_of(b.atlas), "plus.atlas"));
  ASSERT_TRUE(e.want_references(0, 0));
  ASSERT_TRUE(e.wait_idle(120));
  auto s = e.snapshot();
  ASSERT_TRUE(s->error.empty()) << s->error;
  ASSERT_TRUE(s->atlas);
  EXPECT_EQ(s->atlas->source, "plus.atlas");
  EXPECT_EQ(s->atlas->mismatch, "");
  ASSERT_TRUE(s->references);
  const ReferencesView& r = *s->references;
  EXPECT_EQ(r.layer, 0);
  EXPECT_EQ(r.channel, 0);
  EXPECT_EQ(r.done, r.total);
  const AtlasLayer& l = *b.atlas.layer("conv1_1");
  for (int by = 0; by < 2; ++by) {
    const auto& want = b.atlas.refs(l, 0, static_cast<AtlasBy>(by));
    ASSERT_EQ(r.by[by].size(), std::min<std::size_t>(want.size(), ReferenceService::kShown));
    for (std::size_t k = 0; k < r.by[by].size(); ++k) {
      const ReferenceView& v = r.by[by][k];
      EXPECT_EQ(v.image, want[k].image);
      EXPECT_EQ(v.name, b.atlas.names[want[k].image]);
      EXPECT_EQ(v.score, want[k].score);
      EXPECT_TRUE(v.masked);
      const Image& view = *b.atlas.image(v.image);
      const Image m = masked_reference(view, reference_heatmap(b.net, view, 0, 0, b.atlas.composite), want[k].box);
      EXPECT_EQ(v.crop.width, m.width);
      EXPECT_EQ(v.crop.height, m.height);
      EXPECT_EQ(v.crop.rgb, m.rgb) << "reference " << k << " by " << by;
      EXPECT_LT(v.crop.width, 32);  // (cut to conv1_1's 3 x 3 receptive field)
    }
  }
  // the interface in another module gets the same parts
  Snapshot back;
  decode_snapshot(encode_snapshot(*s, nullptr).data(), encode_snapshot(*s, nullptr).size(), back);
  ASSERT_TRUE(back.references && back.atlas);
  EXPECT_EQ(back.references->by[1].size(), r.by[1].size());
  EXPECT_EQ(back.references->by[1][0].crop.rgb, r.by[1][0].crop.rgb);
  EXPECT_EQ(back.atlas->source, "plus.atlas");
  // another neuron, then none
  ASSERT_TRUE(e.want_references(-1, -1));
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_FALSE(e.snapshot()->references);
}

TEST(References, TheGraphsNodesShowTheirChannelsBestReferences) {
  const Built b = test::build();
  Engine e(Engine::Mode::Inline);
  ASSERT_TRUE(e.load_network(b.net, "plus"));
  ASSERT_TRUE(e.load_picture(b.pictures[1], "block"));
  ASSERT_TRUE(e.want_node_refs(true, 1));
  ASSERT_TRUE(e.wait_idle(120));
  auto s = e.snapshot();
  ASSERT_TRUE(s->graph);
  const NeuronGraph& g = s->graph->graph;
  ASSERT_GT(g.nodes.size(), 2u);
  // no atlas yet: every node without a picture
  ASSERT_TRUE(s->node_refs);
  ASSERT_EQ(s->node_refs->best.size(), g.nodes.size());
  for (const Image& img : s->node_refs->best) EXPECT_TRUE(img.rgb.empty());
  ASSERT_TRUE(e.load_atlas_bytes(bytes_of(b.atlas), "plus.atlas"));
  ASSERT_TRUE(e.wait_idle(60));
  s = e.snapshot();
  ASSERT_TRUE(s->node_refs);
  const NodeRefsView& r = *s->node_refs;
  EXPECT_EQ(r.by, 1);
  ASSERT_EQ(r.best.size(), g.nodes.size());
  int shown = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const AtlasLayer* l = b.atlas.layer(b.net->layer(g.nodes[i].layer).name);
    if (!l) {
      EXPECT_TRUE(r.best[i].rgb.empty()) << "node " << i;
      continue;
    }
    const AtlasRef& want = b.atlas.refs(*l, g.nodes[i].index, AtlasBy::Relevance)[0];
    const Image crop = crop_image(*b.atlas.image(want.image), want.box.y0, want.box.x0, want.box.y1, want.box.x1);
    EXPECT_EQ(r.name[i], b.atlas.names[want.image]);
    EXPECT_EQ(r.best[i].width, crop.width) << "node " << i;
    EXPECT_EQ(r.best[i].rgb, crop.rgb) << "node " << i;  // (32 x 32 pictures: no reduction)
    ++shown;
  }
  EXPECT_GT(shown, 0);
  // by activation: the first ranking's pictures
  ASSERT_TRUE(e.want_node_refs(true, 0));
  ASSERT_TRUE(e.wait_idle(60));
  s = e.snapshot();
  ASSERT_TRUE(s->node_refs);
  EXPECT_EQ(s->node_refs->by, 0);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (const AtlasLayer* l = b.atlas.layer(b.net->layer(g.nodes[i].layer).name)) {
      EXPECT_EQ(s->node_refs->name[i], b.atlas.names[b.atlas.refs(*l, g.nodes[i].index, AtlasBy::Activation)[0].image]);
    }
  }
  // to the page's interface intact
  Snapshot back;
  const auto wire = encode_snapshot(*s, nullptr);
  decode_snapshot(wire.data(), wire.size(), back);
  ASSERT_TRUE(back.node_refs);
  EXPECT_EQ(back.node_refs->name, s->node_refs->name);
  EXPECT_EQ(back.node_refs->best.back().rgb, s->node_refs->best.back().rgb);
  // no longer asked for: gone
  ASSERT_TRUE(e.want_node_refs(false, 0));
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_FALSE(e.snapshot()->node_refs);
}

TEST(References, AnAtlasForOtherWeightsIsRefusedUnlessItIsTheQuietDefault) {
  const Built b = test::build();
  Engine e(Engine::Mode::Inline);
  ASSERT_TRUE(e.load_network(b.net, "plus"));
  ASSERT_TRUE(e.load_picture(b.pictures[0], "plus"));
  ASSERT_TRUE(e.load_atlas_bytes(bytes_of(b.atlas), "mine.atlas"));
  ASSERT_TRUE(e.wait_idle(60));
  // another model: the atlas stays, says why it does not fit, and shows no references
  ASSERT_TRUE(e.load_network(test::plus_network(12), "other"));
  ASSERT_TRUE(e.want_references(0, 0));
  ASSERT_TRUE(e.wait_idle(60));
  auto s = e.snapshot();
  ASSERT_TRUE(s->atlas);
  EXPECT_NE(s->atlas->mismatch.find("other weights"), std::string::npos) << s->atlas->mismatch;
  EXPECT_FALSE(s->references);
  // asked for by name: refused with a sentence, the previous atlas kept
  EXPECT_FALSE(e.load_atlas_bytes(bytes_of(b.atlas), "again.atlas"));
  s = e.snapshot();
  EXPECT_NE(s->error.find("could not open the atlas 'again.atlas'"), std::string::npos) << s->error;
  EXPECT_EQ(s->atlas->source, "mine.atlas");
  // quietly (the default atlas): kept, unused, no error
  ASSERT_TRUE(e.clear_error());
  EXPECT_TRUE(e.load_atlas_bytes(bytes_of(b.atlas), "default.atlas", true));
  s = e.snapshot();
  EXPECT_EQ(s->error, "");
  EXPECT_EQ(s->atlas->source, "default.atlas");
  EXPECT_FALSE(s->atlas->mismatch.empty());
  // damaged bytes: refused, the atlas kept
  auto cut = std::make_shared<std::vector<uint8_t>>(write_atlas(b.atlas));
  cut->resize(cut->size() / 2);
  EXPECT_FALSE(e.load_atlas_bytes(cut, "cut.atlas"));
  EXPECT_NE(e.snapshot()->error.find("cut.atlas"), std::string::npos);
  EXPECT_EQ(e.snapshot()->atlas->source, "default.atlas");
  // the model it was made for again: it fits
  ASSERT_TRUE(e.load_network(b.net, "plus"));
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_EQ(e.snapshot()->atlas->mismatch, "");
}

TEST(References, AReferencesPictureOpensAsTheModelSawIt) {
  const Built b = test::build();
  Engine e(Engine::Mode::Inline);
  ASSERT_TRUE(e.load_network(b.net, "plus"));
  ASSERT_TRUE(e.load_picture(b.pictures[1], "block"));
  ASSERT_TRUE(e.load_atlas_bytes(bytes_of(b.atlas), "plus.atlas"));
  const uint32_t pick = b.atlas.refs(*b.atlas.layer("conv1_1"), 0, AtlasBy::Relevance)[0].image;
  ASSERT_TRUE(e.open_reference(static_cast<int>(pick)));
  ASSERT_TRUE(e.wait_idle(60));
  auto s = e.snapshot();
  EXPECT_EQ(s->error, "");
  EXPECT_EQ(s->image_name(), b.atlas.names[pick]);
  EXPECT_EQ(s->image_source(), "atlas:" + std::to_string(pick));
  EXPECT_EQ(s->pic().view.rgb, b.atlas.image(pick)->rgb);
  // a picture the atlas does not hold: a sentence, the picture kept
  EXPECT_FALSE(e.open_reference(99999));
  EXPECT_NE(e.snapshot()->error.find("no picture 99999"), std::string::npos);
  EXPECT_EQ(e.snapshot()->image_name(), b.atlas.names[pick]);
}

}  // namespace
}  // namespace lrp::app
