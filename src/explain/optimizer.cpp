#include "explain/optimizer.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/explanation.h"
#include "explain/heatmap.h"
#include "explain/lrp_operator.h"
#include "explain/metrics.h"
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
  const Network& net = ex.op().network();
  require(layer >= 0 && layer < net.size(), "optimize: bad layer");
  const Layer& l = net.layer(layer);
  require(l.kind == LayerKind::Conv || l.kind == LayerKind::Linear || l.kind == LayerKind::MaxPool,
          "optimize: layer " + l.name + " has no neurons to select (use a conv, pool or fc layer)");
  LayerCurve c;
  c.layer = layer;
  c.width = l.out_shape[0];
  c.k = opt.ks.empty() ? default_k_grid(c.width) : opt.ks;
  for (int k : c.k) require(k >= 1 && k <= c.width, "optimize: k = " + std::to_string(k) + " is outside 1.." + std::to_string(c.width));
  const Tensor& rl = ex.relevance(layer);
  const auto order = rank_neurons(neuron_relevance(rl), opt.absolute);
  const std::vector<float> full_map = channel_sum(ex.input_relevance());
  const std::vector<double> full = to_double(full_map.data(), full_map.size());
  const ForwardPass& fwd = ex.forward();
  const std::vector<float> p0 = softmax(fwd.logits());
  const std::vector<double> probs0(p0.begin(), p0.end());
  const int target = ex.target_class();
  const int act = activation_layer(net, layer);
  const Tensor& a = fwd.output(act);
  const std::size_t per_ch = a.size() / static_cast<std::size_t>(c.width);
  const std::size_t n = c.k.size();
  c.backward_mse.resize(n);
  c.backward_smape.resize(n);
  c.forward_mse.resize(n);
  c.forward_smape.resize(n);
  c.forward_logit.resize(n);
  auto op = ex.op_ptr();
  const std::size_t per = rl.size();
  const std::size_t chunk = static_cast<std::size_t>(std::max(1, opt.chunk));
  std::size_t done = 0;
  auto tick = [&] {
    ++done;
    if (opt.progress && !opt.progress(static_cast<double>(done) / (2.0 * n))) throw Error("cancelled");
  };
  // backward: batches of candidate k, each member the layer's relevance restricted to its top-k
  for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
    const int m = static_cast<int>(std::min(chunk, n - b0));
    std::vector<int> shape = rl.shape();
    shape.insert(shape.begin(), m);
    Tensor batch(shape);
    for (int j = 0; j < m; ++j) {
      float* dst = batch.data() + j * per;
      const int k = c.k[b0 + static_cast<std::size_t>(j)];
      for (int r = 0; r < k; ++r) {
        const std::size_t ch = static_cast<std::size_t>(order[static_cast<std::size_t>(r)]);
        const std::size_t pc = per / static_cast<std::size_t>(c.width);
        std::copy(rl.data() + ch * pc, rl.data() + (ch + 1) * pc, dst + ch * pc);
      }
    }
    Tensor rin = propagate(*op, layer, std::move(batch), -1);
    const std::size_t in_n = rin.size() / static_cast<std::size_t>(m);
    for (int j = 0; j < m; ++j) {
      Tensor one(net.input_shape());
      std::copy(rin.data() + j * in_n, rin.data() + (j + 1) * in_n, one.data());
      const auto map = channel_sum(one);
      const auto v = to_double(map.data(), map.size());
      c.backward_mse[b0 + static_cast<std::size_t>(j)] = mse(full, v);
      c.backward_smape[b0 + static_cast<std::size_t>(j)] = smape(full, v);
      tick();
    }
  }
  // forward: only the top-k neurons of the layer stay active
  for (std::size_t i = 0; i < n; ++i) {
    Tensor masked(a.shape());
    for (int r = 0; r < c.k[i]; ++r) {
      const std::size_t ch = static_cast<std::size_t>(order[static_cast<std::size_t>(r)]);
      std::copy(a.data() + ch * per_ch, a.data() + (ch + 1) * per_ch, masked.data() + ch * per_ch);
    }
    Tensor logits = forward_from(net, act + 1, masked);
    const auto p = softmax(logits);
    const std::vector<double> probs(p.begin(), p.end());
    c.forward_mse[i] = mse(probs0, probs);
    c.forward_smape[i] = smape(probs0, probs);
    c.forward_logit[i] = logits[static_cast<std::size_t>(target)];
    tick();
  }
  c.chosen_k = c.width;
  for (std::size_t i = 0; i < n; ++i) {
    const double b = opt.score == Score::SMAPE ? c.backward_smape[i] : c.backward_mse[i];
    const double f = opt.score == Score::SMAPE ? c.forward_smape[i] : c.forward_mse[i];
    if (b <= opt.tolerance && f <= opt.tolerance) {
      c.chosen_k = c.k[i];
      break;
    }
  }
  return c;
}

}  // namespace lrp
