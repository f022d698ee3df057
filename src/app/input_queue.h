// Mouse buttons for ImGui 1.86, which reads each button's state once a frame: a press and its release between two
// frames (a quick click while the software renderer takes 150 ms a frame) would merge with the next click, and a
// double click would be judged by frame times rather than by when the clicks happened. The queue hands ImGui at most
// one change per button per frame, each at the position where it happened, and judges double clicks by the events'
// own times. Plain logic, no GLFW or ImGui: main.cpp feeds it from the GLFW callbacks and applies each frame.
#pragma once

#include <deque>

namespace lrp::app {

class MouseQueue {
 public:
  static constexpr int kButtons = 5;
  static constexpr double kDoubleClickSeconds = 0.30;  // ImGui's own default
  static constexpr float kDoubleClickDistance = 6.0f;  // likewise, in the position's units

  struct Event {
    int button;
    bool down;
    float x, y;   // where the pointer was
    double time;  // seconds, any clock
  };
  struct Frame {
    bool down[kButtons] = {};
    bool moved = false;  // a change was delivered: the pointer is at (x, y) for this frame
    float x = 0, y = 0;
    bool pressed = false;       // some button went down in this frame
    bool double_click = false;  // ... and it was the second of a double click
  };

  void push(const Event& e);
  // The buttons for the next frame: each changes at most once; events behind one that must wait keep their order.
  Frame next();
  bool pending() const { return !queue_.empty(); }

 private:
  std::deque<Event> queue_;
  bool down_[kButtons] = {};
  double last_press_[kButtons] = {-1e9, -1e9, -1e9, -1e9, -1e9};
  float last_x_[kButtons] = {}, last_y_[kButtons] = {};
  bool last_was_double_[kButtons] = {};
};

}  // namespace lrp::app
