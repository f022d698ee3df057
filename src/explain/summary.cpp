#include "explain/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "engine/error.h"
#include "explain/explanation.h"
#include "explain/selection.h"
#include "model/network.h"

namespace lrp {

namespace {

constexpr const char* kRegionNames[9] = {"top-left corner", "top",    "top-right corner",
                                         "left side",       "centre", "right side",
                                         "bottom-left corner", "bottom", "bottom-right corner"};

std::string percent(double share) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f %%", 100.0 * share);
  return b;
}

// "the bottom (38 %) and the centre (22 %)": the regions that together hold at least 60 % (at most three).
std::string where(const std::array<RegionShare, 9>& regions, bool positive) {
  std::array<int, 9> order{};
  for (int i = 0; i < 9; ++i) order[static_cast<std::size_t>(i)] = i;
  auto share = [&](int i) { return positive ? regions[static_cast<std::size_t>(i)].positive : regions[static_cast<std::size_t>(i)].negative; };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return share(a) > share(b); });
  std::string s;
  double held = 0;
  for (int k = 0; k < 3 && held < 0.6; ++k) {
    const int i = order[static_cast<std::size_t>(k)];
    if (share(i) <= 0) break;
    if (k) s += k == 2 || held + share(i) >= 0.6 ? " and " : ", ";
    s += std::string("the ") + kRegionNames[i] + " (" + percent(share(i)) + ")";
    held += share(i);
  }
  return s;
}

}  // namespace

ExplanationSummary summarize(const Explanation& ex, const Network& net, int top_neurons) {
  ExplanationSummary s;
  s.target = ex.target_class();
  s.target_label = net.label(s.target);
  s.target_logit = ex.target_logit();
  s.input_sum = ex.input_sum();
  s.conservation = s.target_logit != 0 ? s.input_sum / s.target_logit : 0.0;
  const Tensor& rin = ex.input_relevance();
  require(rin.shape().size() == 3, "summary: the input relevance is not C,H,W");
  const int C = rin.dim(0), H = rin.dim(1), W = rin.dim(2);
  const std::size_t plane = static_cast<std::size_t>(H) * W;
  std::vector<double> r(plane, 0.0);
  for (int c = 0; c < C; ++c)
    for (std::size_t i = 0; i < plane; ++i) r[i] += rin[static_cast<std::size_t>(c) * plane + i];
  std::array<double, 9> pos{}, neg{};
  for (int y = 0; y < H; ++y) {
    const int band_y = y >= 2 * H / 3 ? 2 : y >= H / 3 ? 1 : 0;
    for (int x = 0; x < W; ++x) {
      const int band_x = x >= 2 * W / 3 ? 2 : x >= W / 3 ? 1 : 0;
      const double v = r[static_cast<std::size_t>(y) * W + x];
      const std::size_t k = static_cast<std::size_t>(3 * band_y + band_x);
      if (v > 0) pos[k] += v;
      else neg[k] += v;
    }
  }
  for (std::size_t k = 0; k < 9; ++k) {
    s.positive += pos[k];
    s.negative += neg[k];
  }
  for (std::size_t k = 0; k < 9; ++k) {
    s.regions[k].name = kRegionNames[k];
    s.regions[k].positive = s.positive > 0 ? pos[k] / s.positive : 0.0;
    s.regions[k].negative = s.negative < 0 ? neg[k] / s.negative : 0.0;
  }
  // concentration of the positive evidence
  std::vector<double> p;
  p.reserve(plane);
  for (double v : r)
    if (v > 0) p.push_back(v);
  std::sort(p.begin(), p.end(), std::greater<double>());
  if (s.positive > 0) {
    const std::size_t top = (plane + 9) / 10;
    double held = 0;
    for (std::size_t i = 0; i < std::min(top, p.size()); ++i) held += p[i];
    s.top10_share = held / s.positive;
    double acc = 0;
    std::size_t n = 0;
    while (n < p.size() && acc < 0.5 * s.positive) acc += p[n++];
    s.half_area = static_cast<double>(n) / static_cast<double>(plane);
  }
  // the strongest channels of the last convolution
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).kind == LayerKind::Conv) s.neuron_layer = i;
  if (s.neuron_layer >= 0 && top_neurons > 0) {
    s.neuron_layer_name = net.layer(s.neuron_layer).nick;
    const std::vector<double> rel = neuron_relevance(ex.relevance(s.neuron_layer));
    double total = 0;
    for (double v : rel) total += std::max(v, 0.0);
    for (int c : rank_neurons(rel, false)) {
      if (static_cast<int>(s.neurons.size()) >= top_neurons || rel[static_cast<std::size_t>(c)] <= 0 || total <= 0) break;
      s.neurons.emplace_back(c, rel[static_cast<std::size_t>(c)] / total);
    }
  }
  return s;
}

std::string ExplanationSummary::text() const {
  std::string t;
  if (positive <= 0) {
    t = "Nothing in the picture speaks for " + target_label + ".";
  } else {
    t = "The evidence for " + target_label + " lies mostly in " + where(regions, true) + " of the picture";
    t += negative < 0 ? "; the evidence against it in " + where(regions, false) + "." : "; nothing speaks against it.";
    char b[200];
    std::snprintf(b, sizeof b, " It is %s: the strongest 10 %% of the pixels hold %.0f %% of it, and half of it lies in %.0f %% of the picture.",
                  top10_share >= 0.5 ? "concentrated" : top10_share >= 0.3 ? "fairly spread" : "spread out", 100.0 * top10_share,
                  100.0 * half_area);
    t += b;
  }
  if (!neurons.empty()) {
    t += " Strongest neurons (their share of " + neuron_layer_name + "'s positive relevance): ";
    for (std::size_t i = 0; i < neurons.size(); ++i)
      t += (i ? ", " : "") + neuron_layer_name + ":" + std::to_string(neurons[i].first) + " " + percent(neurons[i].second);
    t += ".";
  }
  char b[200];
  std::snprintf(b, sizeof b, " The input relevance adds up to %.0f %% of the logit (%.3g of %.3g).", 100.0 * conservation,
                input_sum, target_logit);
  t += b;
  return t;
}

}  // namespace lrp
