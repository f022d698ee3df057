// Judging a heatmap by pixel flipping (docs/background.md §7): patches are replaced in order of
// decreasing relevance, the forward pass re-run after each step and the target logit recorded; the same with a
// random order as the baseline; AOPC = mean over steps of (f(x_0) - f(x_k)).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/job.h"
#include "engine/tensor.h"

namespace lrp {

class Network;
class ForwardPass;

enum class FlipReplace { Mean, Background, Zero };

struct FlipOptions {
  int patch = 0;           // patch side in input pixels (0: input height / 16, at least 1)
  int steps = 16;          // curve points after the start
  double fraction = 1.0;   // fraction of all patches flipped by the last step
  int random_runs = 5;     // random orders averaged for the baseline
  uint64_t seed = 0;
  FlipReplace replace = FlipReplace::Mean;  // Mean: the data set mean (normalised 0); Background: the normalised
                                            // image of 0 (black); Zero: raw 0 in the normalised space
};

struct FlipResult {
  int patch = 0, patches = 0;
  std::vector<int> flipped;  // patches flipped at each point (0 first)
  std::vector<double> lrp, random;
  double aopc_lrp = 0, aopc_random = 0;
  // what the perturbed picture of a step looks like: the patches (row-major, `columns` per row) in the order the
  // explanation replaced them, and the replacement's value per channel as a pixel byte (0..255, before normalising)
  int columns = 0;
  std::vector<int> order;
  std::vector<float> fill_byte;
};

// heatmap: H*W relevance (channel sum) in the model's input space; input: the preprocessed input.
FlipResult pixel_flipping(std::shared_ptr<const Network> net, const Tensor& input, const std::vector<float>& heatmap,
                          int target, const FlipOptions& opt);

// The same, as a Job: each step does about a budget of multiply-adds of one perturbed forward pass.
class FlipJob : public Job {
 public:
  FlipJob(std::shared_ptr<const Network> net, const Tensor& input, const std::vector<float>& heatmap, int target,
          const FlipOptions& opt);
  ~FlipJob() override;
  Step step(double budget_macs) override;
  bool done() const override { return finished_; }
  double progress() const override;
  FlipResult& result() { return res_; }

 private:
  void start_run();
  std::shared_ptr<const Network> net_;
  Tensor input_, x_;
  FlipOptions opt_;
  int target_ = 0, pw_ = 0;
  FlipResult res_;
  std::vector<double> score_;
  std::vector<float> fill_;
  std::vector<int> order_;
  std::vector<double> curve_;
  int run_ = 0, point_ = 0, flipped_ = 0;  // run 0: relevance order; 1..random_runs: random orders
  std::unique_ptr<ForwardPass> fwd_;
  bool finished_ = false;
};

}  // namespace lrp
