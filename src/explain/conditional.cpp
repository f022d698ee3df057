#include "explain/conditional.h"

#include <algorithm>
#include <cmath>

#include "engine/elementwise.h"
#include "engine/error.h"
#include "explain/explanation.h"
#include "explain/lrp_operator.h"
#include "explain/propagate_job.h"
#include "model/network.h"

namespace lrp {

std::vector<double> apply_mask(Tensor& r, int batch, const std::vector<int>& keep, bool renormalise) {
  const std::size_t per_member = r.size() / static_cast<std::size_t>(batch);
  const int channels = r.rank() >= 3 ? r.dim(1) : static_cast<int>(per_member);
  const std::size_t per_channel = per_member / static_cast<std::size_t>(channels);
  std::vector<char> on(static_cast<std::size_t>(channels), 0);
  for (int k : keep) {
    if (k < 0 || k >= channels)
      throw Error("neuron " + std::to_string(k) + " is out of range (the layer has " + std::to_string(channels) + " neurons)");
    on[static_cast<std::size_t>(k)] = 1;
  }
  std::vector<double> totals(static_cast<std::size_t>(batch));
  for (int b = 0; b < batch; ++b) {
    float* m = r.data() + b * per_member;
    totals[static_cast<std::size_t>(b)] = sum(m, per_member);
    for (int c = 0; c < channels; ++c)
      if (!on[static_cast<std::size_t>(c)]) std::fill(m + c * per_channel, m + (c + 1) * per_channel, 0.0f);
    if (renormalise) {
      const double kept = sum(m, per_member);
      if (kept != 0.0) {
        const float f = static_cast<float>(totals[static_cast<std::size_t>(b)] / kept);
        for (std::size_t i = 0; i < per_member; ++i) m[i] *= f;
      }
    }
  }
  return totals;
}

PropagateJob::PropagateJob(LrpOperator* op, int from, Tensor r, int to, PropagateOptions opt,
                           std::shared_ptr<LrpOperator> keep)
    : op_(op), keep_(std::move(keep)), layer_(from), to_(to), r_(std::move(r)), opt_(std::move(opt)) {
  const Network& net = op_->network();
  require(from >= 0 && from < net.size() && to >= -1 && to < from, "propagate: bad layer range");
  const std::size_t out_n = Tensor::count(net.layer(from).out_shape);
  require(r_.size() % out_n == 0 && r_.size() > 0, "propagate: relevance does not match layer " + net.layer(from).name);
  batch_ = static_cast<int>(r_.size() / out_n);
  std::vector<int> s = net.layer(from).out_shape;
  s.insert(s.begin(), batch_);
  r_.reshape(s);
  for (int i = from; i > to; --i) total_cost_ += layer_cost(i);
  if (!opt_.needed.empty() && to_ >= 0) {
    const int width = net.layer(to_).out_shape.empty() ? 0 : net.layer(to_).out_shape[0];
    for (int c : opt_.needed)
      if (c < 0 || c >= width)
        throw Error("propagate: needed channel " + std::to_string(c) + " is out of range (the layer has " +
                    std::to_string(width) + ")");
    std::sort(opt_.needed.begin(), opt_.needed.end());
    opt_.needed.erase(std::unique(opt_.needed.begin(), opt_.needed.end()), opt_.needed.end());
  }
  if (!opt_.needed.empty() && !opt_.visit && to_ >= 0) {
    int j = to_ + 1;
    auto channel_wise = [&](int i) {
      const LayerKind k = net.layer(i).kind;
      return k == LayerKind::ReLU || k == LayerKind::MaxPool || k == LayerKind::AvgPool;
    };
    auto masked = [&](int i) {
      return std::any_of(opt_.masks.begin(), opt_.masks.end(), [i](const NeuronMask& m) { return m.layer == i; });
    };
    while (j <= from && channel_wise(j) && !masked(j)) ++j;
    if (j <= from && net.layer(j).kind == LayerKind::Conv) narrow_ = j;
  }
}

Step PropagateJob::step(double budget) {
  const Network& net = op_->network();
  double left = budget;
  while (!done()) {
    const int i = layer_;
    if (!working_) {
      if (opt_.visit) opt_.visit(i, r_);
      for (const NeuronMask& m : opt_.masks)
        if (m.layer == i) apply_mask(r_, batch_, m.keep, opt_.renormalise);
      work_ = op_->start_apply(i, r_, batch_, next_);
      if (i == narrow_) work_.needed_in = &opt_.needed;
      working_ = true;
    }
    if (!op_->apply_step(work_, left)) {
      if (std::isfinite(left)) return Step::More;  // the layer goes on: this step's budget is spent
      continue;
    }
    working_ = false;
    std::swap(r_, next_);
    next_ = Tensor();
    std::vector<int> s = i - 1 < 0 ? net.input_shape() : net.layer(i - 1).out_shape;
    s.insert(s.begin(), batch_);
    r_.reshape(s);
    const double cost = layer_cost(i);
    done_cost_ += cost;
    left -= cost * batch_;
    --layer_;
    if (done()) {
      if (opt_.visit && to_ >= 0) opt_.visit(to_, r_);
      return Step::Done;
    }
    if (left <= 0) return Step::More;
  }
  return Step::Done;
}

double PropagateJob::layer_cost(int i) const { return static_cast<double>(op_->build_macs(i) + op_->apply_macs(i)) + 1.0; }

double PropagateJob::progress() const {
  if (done()) return 1.0;
  return std::min(1.0, done_cost_ / total_cost_);
}

Tensor propagate(LrpOperator& op, int from, Tensor r, int to, const PropagateOptions& opt) {
  PropagateJob job(&op, from, std::move(r), to, opt);
  job.run();
  return std::move(job.result());
}

std::unique_ptr<PropagateJob> restricted_lrp_job(const Explanation& ex, const std::vector<NeuronMask>& masks,
                                                 bool renormalise) {
  auto op = ex.op_ptr();
  const int top = op->network().size() - 1;
  PropagateOptions o;
  o.masks = masks;
  o.renormalise = renormalise;
  return std::make_unique<PropagateJob>(op.get(), top, ex.relevance(top), -1, o, op);
}

Tensor restricted_lrp(const Explanation& ex, const std::vector<NeuronMask>& masks, bool renormalise) {
  auto op = ex.op_ptr();
  const int top = op->network().size() - 1;
  PropagateOptions o;
  o.masks = masks;
  o.renormalise = renormalise;
  Tensor r = propagate(*op, top, ex.relevance(top), -1, o);
  r.reshape(op->network().input_shape());
  return r;
}

Tensor conditional_heatmaps(const Explanation& ex, int layer, const std::vector<int>& neurons, int chunk) {
  auto op = ex.op_ptr();
  const Network& net = op->network();
  const Tensor& rl = ex.relevance(layer);
  const std::size_t per = rl.size(), in_n = Tensor::count(net.input_shape());
  std::vector<int> shape = net.input_shape();
  shape.insert(shape.begin(), static_cast<int>(neurons.size()));
  Tensor out(shape);
  chunk = std::max(1, chunk);
  for (std::size_t b0 = 0; b0 < neurons.size(); b0 += static_cast<std::size_t>(chunk)) {
    const int n = static_cast<int>(std::min(neurons.size() - b0, static_cast<std::size_t>(chunk)));
    std::vector<int> bs = rl.shape();
    bs.insert(bs.begin(), n);
    Tensor batch(bs);
    for (int j = 0; j < n; ++j) std::copy(rl.data(), rl.data() + per, batch.data() + j * per);
    // each member keeps its own neuron
    for (int j = 0; j < n; ++j) {
      Tensor one(rl.shape());
      std::copy(rl.data(), rl.data() + per, one.data());
      std::vector<int> os = rl.shape();
      os.insert(os.begin(), 1);
      one.reshape(os);
      apply_mask(one, 1, {neurons[b0 + static_cast<std::size_t>(j)]}, false);
      std::copy(one.data(), one.data() + per, batch.data() + j * per);
    }
    Tensor r = propagate(*op, layer, std::move(batch), -1);
    std::copy(r.data(), r.data() + r.size(), out.data() + b0 * in_n);
  }
  return out;
}

}  // namespace lrp
