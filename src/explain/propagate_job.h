// Resumable versions of the analyses, so a UI can spread them over frames: relevance propagation between layers,
// the neuron graph, and deconvnet reconstructions. Each step() does about max_macs multiply-adds.
#pragma once

#include <memory>
#include <vector>

#include "explain/conditional.h"
#include "explain/deconv.h"
#include "explain/lrp_operator.h"
#include "explain/neuron_graph.h"

namespace lrp {

class PropagateJob {
 public:
  // op must outlive the job (or be kept alive by `keep`).
  PropagateJob(LrpOperator* op, int from, Tensor r, int to, PropagateOptions opt = {},
               std::shared_ptr<LrpOperator> keep = nullptr);
  // (not copied or moved: the work in progress points into the job's own options)
  PropagateJob(const PropagateJob&) = delete;
  PropagateJob& operator=(const PropagateJob&) = delete;
  bool step(double max_macs);  // true once finished
  bool done() const { return layer_ <= to_; }
  Tensor& result() { return r_; }

 private:
  LrpOperator* op_;
  std::shared_ptr<LrpOperator> keep_;
  int layer_, to_, batch_;
  int narrow_ = -1;  // the convolution that computes only opt_.needed (-1: none)
  Tensor r_, next_;
  PropagateOptions opt_;
  LrpOperator::ApplyWork work_;
  bool working_ = false;
};

// Restricted LRP from the target of a finished explanation (see restricted_lrp), resumable.
std::unique_ptr<PropagateJob> restricted_lrp_job(const Explanation& ex, const std::vector<NeuronMask>& masks,
                                                 bool renormalise);

class GraphBuilder {
 public:
  GraphBuilder(const Explanation& ex, const GraphOptions& opt);
  bool step(double max_macs);  // true once the graph is complete
  NeuronGraph& graph() { return g_; }

 private:
  void start_batch();
  void finish();
  const Explanation& ex_;
  GraphOptions opt_;
  NeuronGraph g_;
  std::size_t column_ = 0, b0_ = 0;
  int batch_ = 0;
  std::unique_ptr<PropagateJob> job_;
  bool done_ = false;
};

class DeconvJob {
 public:
  DeconvJob(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, int layer, int channel,
            const DeconvOptions& opt);
  bool step(double max_macs);
  DeconvResult& result() { return res_; }

 private:
  DeconvResult res_;
  std::shared_ptr<LrpOperator> op_;
  std::unique_ptr<PropagateJob> job_;
  std::vector<int> input_shape_;
};

}  // namespace lrp
