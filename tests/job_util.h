// Running a Job in steps the way the app does, checking the contract of engine/job.h on the way: progress stays in
// [0, 1] and never decreases, step() says Done exactly when done() turns true, and done means progress 1.
#pragma once

#include <gtest/gtest.h>

#include "engine/job.h"

namespace lrp::test {

inline int run_in_steps(Job& job, double budget) {
  int steps = 0;
  double last = job.progress();
  EXPECT_GE(last, 0.0);
  while (!job.done()) {
    const Step s = job.step(budget);
    ++steps;
    EXPECT_EQ(s == Step::Done, job.done()) << "step " << steps;
    EXPECT_GE(job.progress(), last) << "step " << steps;
    EXPECT_LE(job.progress(), 1.0);
    last = job.progress();
    if (steps > 10'000'000) break;
  }
  EXPECT_EQ(job.progress(), 1.0);
  EXPECT_EQ(job.step(budget), Step::Done);  // a finished job stays finished
  return steps;
}

}  // namespace lrp::test
