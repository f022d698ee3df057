// Words for the numbers: a short plain-language summary of an explanation, computed from its result — where the
// positive and negative evidence lies in the picture (by region), how concentrated it is, the strongest neurons of
// the last convolution and their shares, and how much of the target logit the rules kept (conservation).
//
// Definitions (docs/summary.md): the pixel relevance r(y, x) is the input relevance summed over colour channels, on the
// picture the model sees; positive evidence P = sum of max(r, 0), negative N = sum of min(r, 0). Regions are the 3 x 3
// grid of the picture (row and column bands split at floor(i * size / 3)). Concentration: the share of P held by the
// 10 % of pixels with the most positive relevance (ceil), and the smallest fraction of pixels holding half of P.
// Neurons: channels of the last convolution, each with its relevance summed over positions, as a share of the sum of
// the positive ones. Conservation: the input's total relevance over the target logit.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace lrp {

class Explanation;
class Network;

struct RegionShare {
  const char* name = "";  // "top-left corner", "top", "top-right corner", "left side", "centre", ...
  double positive = 0;    // share of P in the region, 0..1
  double negative = 0;    // share of N
};

struct ExplanationSummary {
  int target = -1;
  std::string target_label;
  double target_logit = 0, input_sum = 0;
  double positive = 0, negative = 0;  // P and N (N <= 0), logit units
  std::array<RegionShare, 9> regions{};
  double top10_share = 0;    // share of P in the strongest 10 % of pixels
  double half_area = 0;      // fraction of the pixels that holds half of P
  int neuron_layer = -1;     // the last convolution
  std::string neuron_layer_name;
  std::vector<std::pair<int, double>> neurons;  // (channel, share of the layer's positive relevance), best first
  double conservation = 0;   // input_sum / target_logit (0 when the logit is 0)

  // The summary as a few plain sentences.
  std::string text() const;
};

// top_neurons: how many neurons to name. Needs the explanation's layer relevances (keep_layers) for the neurons.
ExplanationSummary summarize(const Explanation& ex, const Network& net, int top_neurons = 3);

}  // namespace lrp
