// Restricted (conditional) LRP: relevance moves down from a layer with masks that keep only selected neurons
// at any set of layers. LRP's backward map is linear in R once the forward pass is fixed, so many conditional
// relevances travel together as one batch through the same kernels.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "engine/tensor.h"

namespace lrp {

class LrpOperator;
class Explanation;

struct NeuronMask {
  int layer = -1;          // mask the relevance at this layer's output
  std::vector<int> keep;   // neurons (channels or units) that keep their relevance
};

struct PropagateOptions {
  std::vector<NeuronMask> masks;  // shared by every batch member
  bool renormalise = false;       // after each mask, rescale so the member's total relevance is unchanged
  // Called with the relevance at the output of each layer passed (batch x layer shape), before its mask.
  std::function<void(int layer, const Tensor& r)> visit;
  // Channels of the result (at layer `to`) the caller reads; empty: all. When only channel-wise layers (ReLU,
  // pooling) lie between `to` and the convolution above it, that convolution computes just these channels and the
  // result's other channels are left zero.
  std::vector<int> needed;
};

// r: batch x (output shape of layer `from`). Returns the relevance at the output of layer `to`
// (to = -1: the input), batch x shape. Masks at layers in [to+1, from] are applied on the way.
Tensor propagate(LrpOperator& op, int from, Tensor r, int to, const PropagateOptions& opt = {});

// Keeps only `keep` of every batch member of r (batch x layer shape) in place; returns the totals before.
std::vector<double> apply_mask(Tensor& r, int batch, const std::vector<int>& keep, bool renormalise);

// One batch member per neuron: the relevance at layer `layer` (from a finished explanation) restricted to that
// neuron, propagated to the input. Returns neurons.size() x input shape.
Tensor conditional_heatmaps(const Explanation& ex, int layer, const std::vector<int>& neurons, int chunk = 16);

// Restricted LRP from the target: the explanation's relevance at the top, masks at the given layers.
Tensor restricted_lrp(const Explanation& ex, const std::vector<NeuronMask>& masks, bool renormalise);

}  // namespace lrp
