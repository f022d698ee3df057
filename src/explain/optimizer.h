// The paper's "GetOptimizer" (../shared/docs/background.md §4): for a layer and every candidate k, how much the
// top-k neurons alone reproduce the explanation (backward difference: restricted-LRP heatmap vs the full one)
// and the prediction (forward difference: output with only the top-k neurons active vs the unmodified output),
// scored with MSE and SMAPE; the smallest k meeting a tolerance is chosen.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace lrp {

class Explanation;

enum class Score { SMAPE, MSE };

struct OptimizerOptions {
  std::vector<int> ks;        // candidates; empty: 1..width, or 1..16 then log-spaced for wide layers
  Score score = Score::SMAPE;  // the score the tolerance applies to
  double tolerance = 20.0;     // chosen k: the smallest with backward AND forward score <= tolerance
  bool absolute = true;        // rank neurons by |relevance| (false: signed, most positive first)
  int chunk = 8;               // batch size of the backward propagation
  std::function<bool(double)> progress;  // called with 0..1; return false to cancel (throws Error "cancelled")
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
// Every conv layer and hidden fully connected layer.
std::vector<int> optimizable_layers(const Explanation& ex);

}  // namespace lrp
