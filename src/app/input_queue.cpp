#include "app/input_queue.h"

namespace lrp::app {

void MouseQueue::push(const Event& e) {
  if (e.button >= 0 && e.button < kButtons) queue_.push_back(e);
}

MouseQueue::Frame MouseQueue::next() {
  Frame f;
  bool changed[kButtons] = {};
  while (!queue_.empty()) {
    const Event e = queue_.front();
    if (changed[e.button]) break;  // its second change waits for the next frame, and so does everything after it
    queue_.pop_front();
    if (e.down == down_[e.button]) continue;  // (a release whose press came before the window had the pointer)
    down_[e.button] = e.down;
    changed[e.button] = true;
    f.moved = true;
    f.x = e.x;
    f.y = e.y;
    if (e.down) {
      const float dx = e.x - last_x_[e.button], dy = e.y - last_y_[e.button];
      const bool dbl = !last_was_double_[e.button] && e.time - last_press_[e.button] < kDoubleClickSeconds &&
                       dx * dx + dy * dy < kDoubleClickDistance * kDoubleClickDistance;
      f.pressed = true;
      f.double_click = f.double_click || dbl;
      last_press_[e.button] = e.time;
      last_x_[e.button] = e.x;
      last_y_[e.button] = e.y;
      last_was_double_[e.button] = dbl;  // (a third quick click starts a new pair, as in ImGui)
    }
  }
  for (int b = 0; b < kButtons; ++b) f.down[b] = down_[b];
  return f;
}

}  // namespace lrp::app
