// The mouse queue: a click that starts and ends between two frames still reaches ImGui as a press in one frame and
// a release in the next; a quick double click stays a double click however slow the frames; positions are where
// the clicks happened.
#include <gtest/gtest.h>

#include "app/input_queue.h"

namespace lrp::app {
namespace {

using E = MouseQueue::Event;

TEST(MouseQueue, AClickBetweenTwoFramesIsAPressThenARelease) {
  MouseQueue q;
  q.push(E{0, true, 10, 20, 1.00});
  q.push(E{0, false, 10, 20, 1.01});
  auto f = q.next();
  EXPECT_TRUE(f.down[0]);
  EXPECT_TRUE(f.pressed);
  EXPECT_TRUE(f.moved);
  EXPECT_EQ(f.x, 10);
  EXPECT_EQ(f.y, 20);
  EXPECT_TRUE(q.pending());
  f = q.next();
  EXPECT_FALSE(f.down[0]);
  EXPECT_FALSE(f.pressed);
  EXPECT_FALSE(q.pending());
  f = q.next();
  EXPECT_FALSE(f.down[0]);
  EXPECT_FALSE(f.moved);
}

TEST(MouseQueue, TwoQuickClicksInOneSlowFrameAreADoubleClickOverFourFrames) {
  MouseQueue q;
  for (double t : {5.0, 5.1}) {
    q.push(E{0, true, 40, 50, t});
    q.push(E{0, false, 40, 50, t + 0.01});
  }
  bool seen[4][2];
  for (auto& s : seen) {
    const auto f = q.next();
    s[0] = f.down[0];
    s[1] = f.double_click;
  }
  EXPECT_TRUE(seen[0][0]);
  EXPECT_FALSE(seen[0][1]);
  EXPECT_FALSE(seen[1][0]);
  EXPECT_TRUE(seen[2][0]);
  EXPECT_TRUE(seen[2][1]);
  EXPECT_FALSE(seen[3][0]);
  EXPECT_FALSE(q.pending());
}

TEST(MouseQueue, DoubleClicksAreJudgedByTheClicksTimesAndPlaces) {
  MouseQueue q;
  q.push(E{0, true, 0, 0, 0.0});
  q.push(E{0, false, 0, 0, 0.05});
  q.push(E{0, true, 0, 0, 0.5});  // too late
  EXPECT_FALSE(q.next().double_click);
  q.next();
  EXPECT_FALSE(q.next().double_click);
  q.push(E{0, false, 0, 0, 0.55});
  q.push(E{0, true, 30, 0, 0.6});  // too far
  q.next();
  EXPECT_FALSE(q.next().double_click);
  q.push(E{0, false, 30, 0, 0.65});
  q.push(E{0, true, 31, 1, 0.7});  // a double click
  q.push(E{0, false, 31, 1, 0.75});
  q.push(E{0, true, 31, 1, 0.8});  // a third click starts a new pair
  q.next();
  EXPECT_TRUE(q.next().double_click);
  q.next();
  EXPECT_FALSE(q.next().double_click);
}

TEST(MouseQueue, ButtonsChangeTogetherButKeepTheirOrder) {
  MouseQueue q;
  q.push(E{0, true, 1, 1, 0.0});
  q.push(E{1, true, 2, 2, 0.0});
  q.push(E{0, false, 3, 3, 0.0});
  q.push(E{1, false, 4, 4, 0.0});
  auto f = q.next();
  EXPECT_TRUE(f.down[0]);
  EXPECT_TRUE(f.down[1]);
  EXPECT_EQ(f.x, 2);
  f = q.next();
  EXPECT_FALSE(f.down[0]);
  EXPECT_FALSE(f.down[1]);
  EXPECT_EQ(f.x, 4);
}

TEST(MouseQueue, StrayReleasesAndUnknownButtonsAreIgnored) {
  MouseQueue q;
  q.push(E{0, false, 0, 0, 0.0});
  q.push(E{7, true, 0, 0, 0.0});
  q.push(E{-1, true, 0, 0, 0.0});
  const auto f = q.next();
  EXPECT_FALSE(f.moved);
  EXPECT_FALSE(f.down[0]);
  EXPECT_FALSE(q.pending());
}

}  // namespace
}  // namespace lrp::app
