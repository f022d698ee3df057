// The app's session without a window: the pipeline runs to the end in budgeted updates, and a tooltip's
// conditional heatmap is a job beside it (nothing computed inside the frame that asks for it).
#include <gtest/gtest.h>

#include <chrono>

#include "app/session.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "model/network.h"
#include "test_util.h"

namespace lrp::app {
namespace {

// Runs the session until nothing is left to do (a debounced change waits a moment first), for at most a minute.
void settle(Session& s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((s.update(20) || s.working()) && std::chrono::steady_clock::now() < end) {
  }
}

// The tiny VGG16 on a photograph, run to the end.
void open_and_settle(Session& s) {
  ASSERT_TRUE(s.load_model_file(test::source_path("tests/fixtures/tiny_vgg16.safetensors"))) << s.error();
  ASSERT_TRUE(s.load_image_file(test::source_path("assets/samples/imagenet/chelsea.png"))) << s.error();
  settle(s);
}

TEST(Session, TooltipHeatmapIsAJobBesideThePipeline) {
  Session s;
  ASSERT_NO_FATAL_FAILURE(open_and_settle(s));
  ASSERT_NE(s.explanation(), nullptr) << s.error();
  EXPECT_FALSE(s.working());
  const int layer = s.network()->find("conv4_3");
  // asked for: not computed in the call, a job is started
  double progress = -1;
  EXPECT_EQ(s.hover_conditional(layer, 1, &progress), nullptr);
  EXPECT_EQ(progress, 0.0);
  EXPECT_TRUE(s.working());
  EXPECT_FALSE(s.busy());  // the pipeline itself is idle
  // another neuron before it finished: the first request is dropped
  EXPECT_EQ(s.hover_conditional(layer, 2), nullptr);
  int updates = 0;
  const Tensor* t = nullptr;
  while (!(t = s.hover_conditional(layer, 2)) && updates < 100000) {
    s.update(0.01);
    ++updates;
  }
  ASSERT_NE(t, nullptr);
  EXPECT_GE(updates, 1);  // computed by update(), not by the call that asked
  EXPECT_FALSE(s.working());
  const Tensor want = restricted_lrp(*s.explanation(), {NeuronMask{layer, {2}}}, false);
  ASSERT_EQ(t->size(), want.size());
  EXPECT_EQ(test::max_abs_diff(t->data(), want.data(), want.size()), 0.0);
  EXPECT_EQ(t->shape(), s.network()->input_shape());
  // cached: asked again, answered at once; the dropped one starts again
  EXPECT_EQ(s.hover_conditional(layer, 2), t);
  EXPECT_EQ(s.hover_conditional(layer, 1), nullptr);
  EXPECT_TRUE(s.working());
}

// The graph's heatmap thumbnails: computed one node at a time beside the pipeline while wanted, each the node's
// conditional heatmap summed over channels and reduced; a new graph starts them again.
TEST(Session, NodeHeatmapsAreComputedBesideThePipeline) {
  Session s;
  ASSERT_NO_FATAL_FAILURE(open_and_settle(s));
  ASSERT_NE(s.graph(), nullptr) << s.error();
  EXPECT_EQ(s.node_heat().graph_version, -1);  // not wanted: nothing computed
  s.want_node_heat(true);
  EXPECT_TRUE(s.working());
  s.update(0.01);
  EXPECT_LT(s.node_heat().done, s.node_heat().total);
  settle(s);
  const NodeHeat& nh = s.node_heat();
  const NeuronGraph& g = *s.graph();
  EXPECT_EQ(nh.graph_version, s.version(Session::Result::Graph));
  EXPECT_EQ(nh.total, static_cast<int>(g.nodes.size()) - 1);
  EXPECT_EQ(nh.done, nh.total);
  EXPECT_FALSE(s.working());
  const auto& shape = s.network()->input_shape();
  EXPECT_LE(std::max(nh.h, nh.w), 48);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    if (n.layer + 1 == s.network()->size()) {
      EXPECT_TRUE(nh.maps[i].empty());
      continue;
    }
    int h = 0, w = 0;
    const std::vector<float> want = box_reduce(channel_sum(restricted_lrp(*s.explanation(), {NeuronMask{n.layer, {n.index}}}, false)),
                                               shape[1], shape[2], 48, &h, &w);
    ASSERT_EQ(nh.maps[i].size(), want.size()) << n.id;
    EXPECT_EQ(test::max_abs_diff(nh.maps[i].data(), want.data(), want.size()), 0.0) << n.id;
    EXPECT_GT(nh.scale[i], 0.0f) << n.id;
  }
  // a new graph: the thumbnails start again
  s.set_graph(3, false, {});
  settle(s);
  EXPECT_EQ(s.node_heat().graph_version, s.version(Session::Result::Graph));
  EXPECT_EQ(s.node_heat().total, static_cast<int>(s.graph()->nodes.size()) - 1);
  EXPECT_EQ(s.node_heat().done, s.node_heat().total);
}

}  // namespace
}  // namespace lrp::app
