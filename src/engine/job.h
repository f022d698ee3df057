// One model for every long computation (forward pass, explanation, propagation, graph, deconvnet, optimiser,
// pixel flipping): a job advances by step(budget), doing about `budget` multiply-adds of work (and always some),
// and says whether more remains; it reports its own progress; it is cancelled by dropping it. A caller that wants
// the result at once calls run(). Jobs made of other jobs (the graph with "k from the optimiser", the optimiser's
// batches) step their parts with the same budget, so a slice never hides a long blocking call.
#pragma once

#include <limits>

namespace lrp {

enum class Step { More, Done };

// A budget that runs a job to its end in one step.
constexpr double kWholeJob = std::numeric_limits<double>::infinity();

class Job {
 public:
  virtual ~Job() = default;
  virtual Step step(double budget_macs) = 0;
  virtual bool done() const = 0;
  virtual double progress() const = 0;  // 0..1, never decreasing; 1 when done
  void run() {
    while (!done() && step(kWholeJob) == Step::More) {
    }
  }
};

}  // namespace lrp
