// The paper's "GetOptimizer" (docs/background.md §4): for a layer and every candidate k, how much the
// top-k neurons alone reproduce the explanation (backward difference: restricted-LRP heatmap vs the full one)
// and the prediction (forward difference: output with only the top-k neurons active vs the unmodified output),
// scored with MSE and SMAPE; the smallest k meeting a tolerance is chosen.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/job.h"

namespace lrp {

class Explanation;
class ForwardPass;
class LrpOperator;
class PropagateJob;

enum class Score { SMAPE, MSE };

struct OptimizerOptions {
  std::vector<int> ks;        // candidates; empty: 1..width, or 1..16 then log-spaced for wide layers
  Score score = Score::SMAPE;  // the score the tolerance applies to
  double tolerance = 20.0;     // chosen k: the smallest with backward AND forward score <= tolerance
  bool absolute = true;        // rank neurons by |relevance| (false: signed, most positive first)
  int chunk = 8;               // batch size of the backward propagation (smaller when the layers are large:
                               // a batch tensor stays under about 32 MB)
};

struct LayerCurve {
  int layer = -1;
  int width = 0;
  std::vector<int> k;
  std::vector<double> backward_mse, backward_smape, forward_mse, forward_smape, forward_logit;
  int chosen_k = 0;
};

std::vector<int> default_k_grid(int width);
LayerCurve optimize_layer(const Explanation& ex, int layer, const OptimizerOptions& opt);

// The same, as a Job: each step does about a budget of multiply-adds (a slice of one backward batch or of one
// masked forward pass), so the optimiser of a full-size VGG16 can be spread out and cancelled.
class OptimizerJob : public Job {
 public:
  OptimizerJob(const Explanation& ex, int layer, const OptimizerOptions& opt);
  ~OptimizerJob() override;
  Step step(double budget_macs) override;
  bool done() const override { return finished_; }
  double progress() const override;
  LayerCurve& result() { return c_; }

 private:
  void start_batch();
  void finish_batch();
  const Explanation& ex_;
  OptimizerOptions opt_;
  LayerCurve c_;
  std::vector<int> order_;
  std::vector<double> full_, probs0_;
  int act_ = -1, target_ = -1;
  std::size_t chunk_ = 8, b0_ = 0, i_ = 0, done_ = 0;
  int m_ = 0;
  std::shared_ptr<LrpOperator> op_;
  std::unique_ptr<PropagateJob> job_;
  std::unique_ptr<ForwardPass> fwd_;
  bool finished_ = false;
};
// Every conv layer and hidden fully connected layer.
std::vector<int> optimizable_layers(const Explanation& ex);

}  // namespace lrp
