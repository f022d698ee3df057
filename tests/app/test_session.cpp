// The app's session without a window: the pipeline runs to the end in budgeted updates, and a tooltip's
// conditional heatmap is a job beside it (nothing computed inside the frame that asks for it).
#include <gtest/gtest.h>

#include "app/session.h"
#include "explain/conditional.h"
#include "model/network.h"
#include "test_util.h"

namespace lrp::app {
namespace {

void settle(Session& s) {
  for (int i = 0; i < 100000 && s.update(20); ++i) {
  }
}

TEST(Session, TooltipHeatmapIsAJobBesideThePipeline) {
  Session s;
  ASSERT_TRUE(s.load_model_file(test::source_path("tests/fixtures/tiny_vgg16.safetensors"))) << s.error();
  ASSERT_TRUE(s.load_image_file(test::source_path("assets/samples/imagenet/chelsea.png"))) << s.error();
  settle(s);
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

}  // namespace
}  // namespace lrp::app
