// How long each frame may compute while long work runs: adapts so the frame interval settles near a target
// (25 frames/s), which gives the work most of the frame on fast GPUs and keeps software-rendered pages above
// 20 frames/s. Idle frames reset it.
#pragma once

#include <algorithm>

namespace lrp::app {

class FrameBudget {
 public:
  static constexpr double kTargetMs = 40.0, kMinMs = 4.0, kMaxMs = 30.0, kIdleMs = 12.0;
  // interval_ms: time since the previous frame started; busy: whether work is pending.
  double next(double interval_ms, bool busy) {
    if (!busy || interval_ms <= 0.0 || interval_ms > 1000.0) {
      budget_ = busy ? budget_ : kIdleMs;
      return budget_;
    }
    budget_ = std::clamp(budget_ + 0.3 * (kTargetMs - interval_ms), kMinMs, kMaxMs);
    return budget_;
  }

 private:
  double budget_ = kIdleMs;
};

}  // namespace lrp::app
