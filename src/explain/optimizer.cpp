#include "explain/optimizer.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/explanation.h"
#include "explain/heatmap.h"
#include "explain/lrp_operator.h"
#include "explain/metrics.h"
#include "explain/propagate_job.h"
#include "explain/selection.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

std::vector<int> default_k_grid(int width) {
  std::vector<int> ks;
  if (width <= 32) {
    for (int k = 1; k <= width; ++k) ks.push_back(k);
    return ks;
  }
  for (int k = 1; k <= 16; ++k) ks.push_back(k);
  double k = 16;
  while (true) {
    k *= 1.25;
    const int ik = static_cast<int>(std::lround(k));
    if (ik >= width) break;
    if (ik > ks.back()) ks.push_back(ik);
  }
  ks.push_back(width);
  return ks;
}

std::vector<int> optimizable_layers(const Explanation& ex) {
  const Network& net = ex.op().network();
  std::vector<int> out;
  for (int i = 0; i + 1 < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::Conv) out.push_back(i);
    if (l.kind == LayerKind::Linear && i != net.size() - 1) out.push_back(i);
  }
  return out;
}

static std::vector<double> to_double(const float* p, std::size_t n) { return std::vector<double>(p, p + n); }

LayerCurve optimize_layer(const Explanation& ex, int layer, const OptimizerOptions& opt) {
  OptimizerJob job(ex, layer, opt);
  job.run();
  return std::move(job.result());
}

OptimizerJob::OptimizerJob(const Explanation& ex, int layer, const OptimizerOptions& opt) : ex_(ex), opt_(opt) {
  const Network& net = ex.op().network();
  require(layer >= 0 && layer < net.size(), "optimize: bad layer");
  const Layer& l = net.layer(layer);
  require(l.kind == LayerKind::Conv || l.kind == LayerKind::Linear || l.kind == LayerKind::MaxPool,
          "optimize: layer " + l.name + " has no neurons to select (use a conv, pool or fc layer)");
  c_.layer = layer;
  c_.width = l.out_shape[0];
  c_.k = opt.ks.empty() ? default_k_grid(c_.width) : opt.ks;
  for (int k : c_.k) require(k >= 1 && k <= c_.width, "optimize: k = " + std::to_string(k) + " is outside 1.." + std::to_string(c_.width));
  order_ = rank_neurons(neuron_relevance(ex.relevance(layer)), opt.absolute);
  const std::vector<float> full_map = channel_sum(ex.input_relevance());
  full_ = to_double(full_map.data(), full_map.size());
  const std::vector<float> p0 = softmax(ex.forward().logits());
  probs0_.assign(p0.begin(), p0.end());
  target_ = ex.target_class();
  act_ = activation_layer(net, layer);
  const std::size_t n = c_.k.size();
  c_.backward_mse.resize(n);
  c_.backward_smape.resize(n);
  c_.forward_mse.resize(n);
  c_.forward_smape.resize(n);
  c_.forward_logit.resize(n);
  op_ = ex.op_ptr();
  // batch size: every batch tensor on the way down stays under about 8M values
  std::size_t widest = Tensor::count(net.input_shape());
  for (int i = 0; i <= layer; ++i) widest = std::max(widest, Tensor::count(net.layer(i).out_shape));
  chunk_ = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(1, opt.chunk)),
                                                          (8u << 20) / std::max<std::size_t>(1, widest)));
}

OptimizerJob::~OptimizerJob() = default;

double OptimizerJob::progress() const {
  if (finished_) return 1.0;
  return static_cast<double>(done_) / (2.0 * static_cast<double>(c_.k.size()));
}

// backward: a batch of candidate k, each member the layer's relevance restricted to its top-k neurons
void OptimizerJob::start_batch() {
  const Tensor& rl = ex_.relevance(c_.layer);
  const std::size_t n = c_.k.size(), per = rl.size();
  m_ = static_cast<int>(std::min(chunk_, n - b0_));
  std::vector<int> shape = rl.shape();
  shape.insert(shape.begin(), m_);
  Tensor batch(shape);
  const std::size_t pc = per / static_cast<std::size_t>(c_.width);
  for (int j = 0; j < m_; ++j) {
    float* dst = batch.data() + j * per;
    const int k = c_.k[b0_ + static_cast<std::size_t>(j)];
    for (int r = 0; r < k; ++r) {
      const std::size_t ch = static_cast<std::size_t>(order_[static_cast<std::size_t>(r)]);
      std::copy(rl.data() + ch * pc, rl.data() + (ch + 1) * pc, dst + ch * pc);
    }
  }
  job_ = std::make_unique<PropagateJob>(op_.get(), c_.layer, std::move(batch), -1);
}

void OptimizerJob::finish_batch() {
  const Tensor& rin = job_->result();
  const std::size_t in_n = rin.size() / static_cast<std::size_t>(m_);
  const Network& net = op_->network();
  for (int j = 0; j < m_; ++j) {
    Tensor one(net.input_shape());
    std::copy(rin.data() + j * in_n, rin.data() + (j + 1) * in_n, one.data());
    const auto map = channel_sum(one);
    const auto v = to_double(map.data(), map.size());
    c_.backward_mse[b0_ + static_cast<std::size_t>(j)] = mse(full_, v);
    c_.backward_smape[b0_ + static_cast<std::size_t>(j)] = smape(full_, v);
    ++done_;
  }
  job_.reset();
  b0_ += static_cast<std::size_t>(m_);
}

Step OptimizerJob::step(double budget) {
  const std::size_t n = c_.k.size();
  while (!finished_) {
    if (b0_ < n) {
      if (!job_) start_batch();
      if (job_->step(budget) == Step::More) return Step::More;
      finish_batch();
    } else if (i_ < n) {
      // forward: only the top-k neurons of the layer stay active
      if (!fwd_) {
        const Tensor& a = ex_.forward().output(act_);
        const std::size_t per_ch = a.size() / static_cast<std::size_t>(c_.width);
        Tensor masked(a.shape());
        for (int r = 0; r < c_.k[i_]; ++r) {
          const std::size_t ch = static_cast<std::size_t>(order_[static_cast<std::size_t>(r)]);
          std::copy(a.data() + ch * per_ch, a.data() + (ch + 1) * per_ch, masked.data() + ch * per_ch);
        }
        ForwardOptions fo;
        fo.keep = false;
        fo.first_layer = act_ + 1;
        fwd_ = std::make_unique<ForwardPass>(ex_.forward().network_ptr(), std::move(masked), fo);
      }
      if (fwd_->step(budget) == Step::More) return Step::More;
      const Tensor& logits = fwd_->logits();
      const auto p = softmax(logits);
      const std::vector<double> probs(p.begin(), p.end());
      c_.forward_mse[i_] = mse(probs0_, probs);
      c_.forward_smape[i_] = smape(probs0_, probs);
      c_.forward_logit[i_] = logits[static_cast<std::size_t>(target_)];
      fwd_.reset();
      ++i_;
      ++done_;
    } else {
      c_.chosen_k = c_.width;
      for (std::size_t i = 0; i < n; ++i) {
        const double b = opt_.score == Score::SMAPE ? c_.backward_smape[i] : c_.backward_mse[i];
        const double f = opt_.score == Score::SMAPE ? c_.forward_smape[i] : c_.forward_mse[i];
        if (b <= opt_.tolerance && f <= opt_.tolerance) {
          c_.chosen_k = c_.k[i];
          break;
        }
      }
      finished_ = true;
      return Step::Done;
    }
    if (std::isfinite(budget)) return Step::More;
  }
  return Step::Done;
}

}  // namespace lrp
