#include "explain/selection.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "engine/error.h"

namespace lrp {

std::string Selection::describe() const {
  std::ostringstream s;
  switch (mode) {
    case SelectMode::TopK: s << "top-" << k; break;
    case SelectMode::Threshold: s << "relevance >= " << threshold << " x max"; break;
    case SelectMode::Cumulative: s << "smallest set with " << fraction * 100 << " % of the positive relevance"; break;
  }
  s << (absolute ? " by |relevance|" : " by signed relevance");
  return s.str();
}

std::vector<double> neuron_relevance(const Tensor& r) {
  if (r.rank() <= 1) return std::vector<double>(r.data(), r.data() + r.size());
  const int c = r.dim(0);
  const std::size_t per = r.size() / static_cast<std::size_t>(c);
  std::vector<double> out(static_cast<std::size_t>(c), 0.0);
  for (int ch = 0; ch < c; ++ch)
    for (std::size_t i = 0; i < per; ++i) out[static_cast<std::size_t>(ch)] += r[ch * per + i];
  return out;
}

NeuronShare neuron_share(const Tensor& layer_relevance, const std::vector<int>& neurons) {
  const auto rel = neuron_relevance(layer_relevance);
  NeuronShare s;
  for (double v : rel) s.layer += v;
  for (int c : neurons)
    if (c >= 0 && static_cast<std::size_t>(c) < rel.size()) s.relevance += rel[static_cast<std::size_t>(c)];
  s.share = s.layer != 0 ? s.relevance / s.layer : 0;
  return s;
}

std::vector<double> neuron_mean(const Tensor& a) {
  std::vector<double> s = neuron_relevance(a);
  if (a.rank() > 1) {
    const double per = static_cast<double>(a.size()) / a.dim(0);
    for (auto& v : s) v /= per;
  }
  return s;
}

std::vector<int> rank_neurons(const std::vector<double>& rel, bool absolute) {
  std::vector<int> idx(rel.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    const double x = rel[static_cast<std::size_t>(a)], y = rel[static_cast<std::size_t>(b)];
    return absolute ? std::fabs(x) > std::fabs(y) : x > y;
  });
  return idx;
}

std::vector<int> select_neurons(const std::vector<double>& rel, const Selection& sel) {
  const auto order = rank_neurons(rel, sel.absolute);
  if (order.empty()) return {};
  auto key = [&](int i) { return sel.absolute ? std::fabs(rel[static_cast<std::size_t>(i)]) : rel[static_cast<std::size_t>(i)]; };
  std::vector<int> out;
  switch (sel.mode) {
    case SelectMode::TopK: {
      require(sel.k >= 1, "k must be at least 1");
      out.assign(order.begin(), order.begin() + std::min<std::size_t>(order.size(), static_cast<std::size_t>(sel.k)));
      break;
    }
    case SelectMode::Threshold: {
      require(sel.threshold >= 0.0f && sel.threshold <= 1.0f, "the threshold must be between 0 and 1");
      const double mx = key(order.front());
      for (int i : order)
        if (key(i) >= sel.threshold * mx && key(i) > 0) out.push_back(i);
      if (out.empty()) out.push_back(order.front());
      break;
    }
    case SelectMode::Cumulative: {
      require(sel.fraction > 0.0f && sel.fraction <= 1.0f, "the fraction must be in (0, 1]");
      double total = 0;
      for (int i : order) total += std::max(0.0, key(i));
      double acc = 0;
      for (int i : order) {
        if (key(i) <= 0 && !out.empty()) break;
        out.push_back(i);
        acc += std::max(0.0, key(i));
        if (acc >= sel.fraction * total) break;
      }
      break;
    }
  }
  return out;
}

}  // namespace lrp
