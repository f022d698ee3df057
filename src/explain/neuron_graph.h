// The neuron graph (docs/background.md §5): nodes are the selected neurons of a set of graph layers
// (default: the last conv of every block, the hidden fc layers and the output class); the edge u -> d between
// consecutive graph layers is the relevance that reaches neuron d when only neuron u's relevance is propagated
// down (conditional relevance, positive or negative). The critical path is the chain from the output down to the
// lowest graph layer with the largest sum of edge relevance (a max-sum dynamic programme).
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"
#include "explain/optimizer.h"
#include "explain/selection.h"

namespace lrp {

class Explanation;
class Network;

struct GraphOptions {
  std::vector<int> layers;     // graph layers from the input up (the output layer is added); empty: the default
  Selection selection;         // per graph layer (default: top-5 by signed relevance)
  bool k_from_optimizer = false;  // k per layer = the optimiser's chosen k (selection.k otherwise)
  int k_cap = 0;                  // with k_from_optimizer: at most this many per layer (0: no cap)
  OptimizerOptions optimizer;
  int chunk = 8;
};

struct GraphNode {
  std::string id;  // "<layer name>:<index>"
  int layer = -1, index = -1, column = 0;
  double relevance = 0, activation = 0;
  double share = 0;  // of its layer's relevance (neuron_share); the output class: 1
};

struct GraphEdge {
  int from = -1, to = -1;  // node indices (from: the upper layer)
  double relevance = 0;
};

struct NeuronGraph {
  std::vector<int> layers;                    // graph layers, lowest first; the last is the output layer
  std::vector<std::vector<int>> column_nodes;  // node indices per graph layer
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;
  std::vector<int> path;  // node indices from the output down
  double path_relevance = 0;
};

std::vector<int> default_graph_layers(const Network& net);
NeuronGraph build_graph(const Explanation& ex, const GraphOptions& opt);
// Restricted LRP through exactly the path's neurons (input relevance, C,H,W).
Tensor path_heatmap(const Explanation& ex, const NeuronGraph& g);
std::string graph_json(const NeuronGraph& g, const Network& net);
// The node's name as people read it: "conv5_3:25" (the layer's short name), the class's label for the output.
std::string node_label(const GraphNode& n, const Network& net);
// The critical path in words: which neurons, what share of their layers' relevance each holds, and how much of
// the logit reaches the picture through all of them (`path_input_sum`: the sum of the path heatmap).
std::string path_words(const NeuronGraph& g, const Network& net, double logit, double path_input_sum);

}  // namespace lrp
