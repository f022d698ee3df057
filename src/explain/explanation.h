// One explanation of one image: the target, the relevance kept at every layer and at the input, the
// conservation report and per-layer timings. A Job: runs to the end at once or in steps of a budget.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/job.h"
#include "engine/tensor.h"
#include "explain/composite.h"
#include "explain/lrp_operator.h"

namespace lrp {

class ForwardPass;
class ThreadPool;
class WeightCache;

struct Target {
  enum class Kind { Top1, Class, Contrast } kind = Kind::Top1;
  int a = -1, b = -1;
  static Target top1() { return {}; }
  static Target cls(int c) { return {Kind::Class, c, -1}; }
  static Target contrast(int x, int y) { return {Kind::Contrast, x, y}; }
  std::string describe() const;
  // "N" (a class) or "A,B" (A rather than B), as links and the command line write it; throws Error saying what
  // a target must look like. max_class: the largest index accepted (checked again against a model later).
  static Target parse(const std::string& text, int max_class = 1 << 30);
  std::string text() const;  // "" for top-1, "N", or "A,B"
};

struct ExplainOptions {
  Target target;
  bool keep_layers = true;  // keep the relevance at every layer's output
  ThreadPool* pool = nullptr;
};

class Explanation : public Job {
 public:
  Explanation(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, const Composite& composite,
              ExplainOptions opt);

  bool done() const override { return layer_ < 0; }
  Step step(double budget_macs) override;
  double progress() const override;

  int target_class() const { return target_class_; }
  // The logit the relevance starts from (contrast: logit a - logit b).
  double target_logit() const { return target_logit_; }
  const Tensor& input_relevance() const;
  // Relevance at the output of layer i (keep_layers).
  const Tensor& relevance(int layer) const;
  // Sum of the relevance at each layer's output; input_sum() at the input.
  const std::vector<double>& layer_sums() const { return sums_; }
  double input_sum() const { return input_sum_; }
  const std::vector<double>& layer_ms() const { return ms_; }
  double total_ms() const;
  const LrpOperator& op() const { return *op_; }
  std::shared_ptr<LrpOperator> op_ptr() const { return op_; }
  const ForwardPass& forward() const;

 private:
  void slice(double budget_macs);
  std::shared_ptr<LrpOperator> op_;
  ExplainOptions opt_;
  int layer_;
  int target_class_ = -1;
  double target_logit_ = 0;
  Tensor current_, next_;
  LrpOperator::ApplyWork work_;
  bool working_ = false;
  long long slices_ = 0;
  std::vector<Tensor> kept_;
  std::vector<int> alias_;  // layer whose kept tensor holds this layer's relevance (-1: its own)
  Tensor input_rel_;
  std::vector<double> sums_, ms_;
  double input_sum_ = 0;
  long long done_macs_ = 0, total_macs_ = 1;
};

// Resolves a target against logits (Top1 -> argmax); throws Error for an index out of range.
Target resolve_target(const Target& t, const Tensor& logits);

}  // namespace lrp
