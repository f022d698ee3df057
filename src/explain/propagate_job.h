// The analyses as Jobs (engine/job.h): relevance propagation between layers, the neuron graph (with the optimiser's
// k as sub-jobs), and deconvnet reconstructions. Each step does about a budget of multiply-adds.
#pragma once

#include <memory>
#include <vector>

#include "engine/job.h"
#include "explain/conditional.h"
#include "explain/optimizer.h"
#include "explain/deconv.h"
#include "explain/lrp_operator.h"
#include "explain/neuron_graph.h"

namespace lrp {

class PropagateJob : public Job {
 public:
  // op must outlive the job (or be kept alive by `keep`).
  PropagateJob(LrpOperator* op, int from, Tensor r, int to, PropagateOptions opt = {},
               std::shared_ptr<LrpOperator> keep = nullptr);
  // (not copied or moved: the work in progress points into the job's own options)
  PropagateJob(const PropagateJob&) = delete;
  PropagateJob& operator=(const PropagateJob&) = delete;
  Step step(double budget_macs) override;
  bool done() const override { return layer_ <= to_; }
  double progress() const override;
  Tensor& result() { return r_; }

 private:
  double layer_cost(int layer) const;
  LrpOperator* op_;
  std::shared_ptr<LrpOperator> keep_;
  int layer_, to_, batch_;
  int narrow_ = -1;  // the convolution that computes only opt_.needed (-1: none)
  Tensor r_, next_;
  PropagateOptions opt_;
  LrpOperator::ApplyWork work_;
  bool working_ = false;
  double done_cost_ = 0, total_cost_ = 0;
};

// Restricted LRP from the target of a finished explanation (see restricted_lrp), resumable.
std::unique_ptr<PropagateJob> restricted_lrp_job(const Explanation& ex, const std::vector<NeuronMask>& masks,
                                                 bool renormalise);

// The graph in three phases: the optimiser's k for each graph layer (when asked, one OptimizerJob at a time), the
// nodes of every column, then the edges batch by batch from the top column down, and the critical path.
class GraphBuilder : public Job {
 public:
  GraphBuilder(const Explanation& ex, const GraphOptions& opt);
  ~GraphBuilder() override;
  Step step(double budget_macs) override;
  bool done() const override { return done_; }
  double progress() const override;
  NeuronGraph& graph() { return g_; }

 private:
  void start_batch();
  void finish();
  const Explanation& ex_;
  GraphOptions opt_;
  NeuronGraph g_;
  std::vector<int> ks_;                 // per column: the optimiser's k (-1: the selection's own)
  std::size_t optimised_ = 0;           // columns whose k is known
  std::unique_ptr<OptimizerJob> optimizer_;
  bool selected_ = false;
  std::size_t column_ = 0, b0_ = 0;
  int batch_ = 0;
  std::size_t batches_done_ = 0, batches_total_ = 1;
  std::unique_ptr<PropagateJob> job_;
  bool done_ = false;
};

class DeconvJob : public Job {
 public:
  DeconvJob(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, int layer, int channel,
            const DeconvOptions& opt);
  Step step(double budget_macs) override;
  bool done() const override { return !job_; }
  double progress() const override { return job_ ? job_->progress() : 1.0; }
  DeconvResult& result() { return res_; }

 private:
  DeconvResult res_;
  std::shared_ptr<LrpOperator> op_;
  std::unique_ptr<PropagateJob> job_;
  std::vector<int> input_shape_;
};

}  // namespace lrp
