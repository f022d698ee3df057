// Where the neuron graph's nodes go, for every picture of it (the app's canvas, its figure export, the SVG): one
// column per graph layer (input side left, the class right), each column's neurons ordered by relevance (the most
// relevant at the top, opposing neurons at the bottom), node sizes by their share of the layer's relevance, edge
// strengths relative to the strongest edge. And the graph as an SVG drawing that names every node.
#pragma once

#include <string>
#include <vector>

#include "explain/neuron_graph.h"

namespace lrp {

struct GraphLayout {
  std::vector<float> x, y;    // node centres in [0, 1] x [0, 1]
  std::vector<float> size;    // in [0, 1]: sqrt(|share| / the largest |share| below the output); the output: 1
  std::vector<float> edge;    // |edge relevance| / the largest |edge relevance|
  std::vector<float> column_x;  // each column's x
  std::vector<int> rows;      // the most nodes of any column (how crowded the layout is)
};

GraphLayout layout_graph(const NeuronGraph& g);

struct SvgOptions {
  int width = 1200, height = 700;
  float min_edge = 0.02f;  // edges weaker than this fraction of the strongest are left out
  std::string title;       // a line above the graph ("" = none)
};
// The graph as a standalone SVG document: every node a <g class="node" data-id="features.28:25"> with its label,
// share and a <title> (the tooltip); edges by sign and strength; the critical path as a band; a legend.
std::string graph_svg(const NeuronGraph& g, const Network& net, const SvgOptions& opt);

}  // namespace lrp
