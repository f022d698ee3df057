// Choosing the most relevant neurons of a layer (docs/background.md §3). A neuron is a channel of a
// conv or pool layer (its relevance summed over positions) or a unit of a fully connected layer.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lrp {

enum class SelectMode {
  TopK,        // the k most relevant
  Threshold,   // relevance >= threshold * the layer's maximum
  Cumulative,  // the smallest set covering a fraction p of the layer's positive relevance
};

struct Selection {
  SelectMode mode = SelectMode::TopK;
  int k = 5;
  float threshold = 0.5f;
  float fraction = 0.9f;
  // false: rank by signed relevance (most positive first: evidence for the target);
  // true: rank by |relevance| (evidence for and against).
  bool absolute = false;
  std::string describe() const;
};

// Relevance per neuron: C,H,W -> C channel sums; N -> N.
std::vector<double> neuron_relevance(const Tensor& r);
// How much of a layer's relevance some of its neurons hold: their sum, the layer's sum and the ratio (0 when the
// layer's sum is 0).
struct NeuronShare {
  double relevance = 0, layer = 0, share = 0;
};
NeuronShare neuron_share(const Tensor& layer_relevance, const std::vector<int>& neurons);
// Mean over positions (C,H,W) or the value (N) of an activation, per neuron.
std::vector<double> neuron_mean(const Tensor& a);
// Indices of all neurons ranked by the selection's order (most relevant first).
std::vector<int> rank_neurons(const std::vector<double>& rel, bool absolute);
// The selected neurons, most relevant first. Throws Error for bad parameters.
std::vector<int> select_neurons(const std::vector<double>& rel, const Selection& sel);

}  // namespace lrp
