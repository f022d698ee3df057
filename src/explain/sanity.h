// The sanity check of Adebayo et al. 2018 ("Sanity checks for saliency maps"), cascading model randomisation: the
// weights are re-initialised from the top layer down, one layer at a time (fc8, then fc8 and fc7, ..., down to every
// layer), and the explanation of the same picture and the same class is computed after each step. A method that
// explains the model must give heatmaps that change as the model is destroyed; one that only shows edges of the
// picture does not. Each step's heatmap (the input relevance summed over channels) is compared with the original
// model's by Spearman's rank correlation (signed and of the absolute values) and SSIM (metrics.h).
//
// Re-initialisation is deterministic: a layer gets exactly the weights `lrpscope make-random --seed S` gives it
// (random_weights.h: Kaiming-normal convolutions, N(0, 0.01) fully connected weights) and zero biases, so after the
// last step the network is make-random's of the same architecture and seed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/job.h"
#include "engine/tensor.h"
#include "explain/composite.h"
#include "explain/explanation.h"

namespace lrp {

class ForwardPass;
class Network;
class ThreadPool;

struct SanityOptions {
  uint64_t seed = 1;
  ThreadPool* pool = nullptr;
};

struct SanityStep {
  std::string layer;  // the layer re-initialised at this step (its nick, e.g. "fc8"); "" for the original model
  std::vector<float> heatmap;  // H x W, the input relevance summed over channels
  double spearman = 1, spearman_abs = 1, ssim = 1;  // against the original model's heatmap
  int predicted = -1;        // the (randomised) model's top class
  double target_logit = 0;   // the logit of the explained class
};

struct SanityResult {
  int target = -1;  // the class explained at every step: the original model's target
  int height = 0, width = 0;
  std::vector<SanityStep> steps;  // steps[0]: the original model; then one per layer with weights, top first
};

// A Job: each step advances the forward pass or the explanation of the current model by about the budget; between
// models it re-initialises one more layer (not budgeted: drawing that layer's weights and packing them; the other
// layers are shared with the previous model).
class SanityJob : public Job {
 public:
  SanityJob(std::shared_ptr<const Network> net, const Tensor& input, const Composite& composite, Target target,
            SanityOptions opt = {});
  ~SanityJob() override;
  Step step(double budget_macs) override;
  bool done() const override { return finished_; }
  double progress() const override;
  const SanityResult& result() const { return res_; }
  // The layers with weights, top first: the order of re-initialisation (indices into the network's layers).
  const std::vector<int>& order() const { return order_; }

 private:
  void next_model();
  void finish_step();
  std::shared_ptr<const Network> original_, net_;
  Tensor input_;
  Composite composite_;
  Target target_;
  SanityOptions opt_;
  std::vector<int> order_;
  int randomised_ = 0;  // layers of order_ re-initialised in net_
  std::shared_ptr<ForwardPass> fwd_;
  std::shared_ptr<Explanation> ex_;
  SanityResult res_;
  bool finished_ = false;
};

}  // namespace lrp
