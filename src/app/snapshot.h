// What the interface draws, as plain data the engine publishes: the model's outline (no weights), the picture,
// the predictions, the explanation's input heatmap and layer sums, the graph with its nodes' feature maps, the
// neuron detail, curves, pixel flipping, the sanity check, one layer's maps on request and the tooltip's conditional heatmap, plus
// the status line. Sized for display: no whole relevance or activation tensors the interface does not draw. Each
// part is immutable and shared, so a snapshot is cheap to copy and a part is rebuilt only when its result changes
// (its version). No GL, no ImGui.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/session.h"

namespace lrp::app {

struct ModelView {
  std::shared_ptr<const Network> net;  // outline: names, shapes, labels, config
  std::string name, source;
  std::size_t bytes = 0;
};

struct PictureView {
  Image image;  // as opened, for display: at most 512 x 512 (source_width/height: its own size)
  int kept_width = 0, kept_height = 0;  // the size the engine keeps it at (reduced past a megapixel)
  Image view;   // what the model sees, as a picture (model size)
  bool inverted = false;
  bool edited = false;  // `view` was painted over (what if)
  int background = -1;
  std::string name, source;
};

struct ExplanationView {
  int target_class = -1;
  double target_logit = 0, input_sum = 0;
  std::vector<double> layer_sums;  // sum of relevance at each layer's output
  Tensor input_relevance;          // C,H,W
  std::string summary;             // in words (explain/summary.h)
};

struct GraphView {
  NeuronGraph graph;
  Tensor path_heat;  // input relevance through the critical path (C,H,W)
  // each node's feature map (the rectified output of its layer, H*W; empty for fully connected layers)
  std::vector<std::vector<float>> node_maps;
  std::vector<std::pair<int, int>> node_map_size;  // h, w
};

struct DetailView {
  NeuronDetail detail;
  std::vector<float> activation;  // the neuron's feature map (H*W), empty for fully connected layers
  int act_h = 0, act_w = 0;
};

// One layer's maps for the layer explorer: the activation it shows (the rectified output) and the relevance.
struct LayerMaps {
  int layer = -1;
  Tensor activation, relevance;
  long long forward_version = -1, explanation_version = -1;
};

struct FlipView {
  FlipResult result[2];
  std::string compare;
};

// The sanity check's steps so far (explain/sanity.h), each heatmap H*W.
struct SanityView {
  SanityResult result;
  std::vector<float> scale;  // each step's heatmap value at full colour (symmetric_scale at the 99.5th percentile)
  bool done = false;
  uint64_t seed = 1;
  std::string method;  // the composite's name
};

struct HoverView {
  int layer = -1, index = -1;
  Tensor conditional;  // C,H,W
  long long version = 0;
};

struct Snapshot {
  std::shared_ptr<const ModelView> model;
  std::shared_ptr<const PictureView> picture;
  std::shared_ptr<const Tensor> logits;  // after the forward pass
  std::shared_ptr<const ExplanationView> explanation;
  std::shared_ptr<const GraphView> graph;
  std::shared_ptr<const DetailView> detail;
  std::shared_ptr<const std::vector<LayerCurve>> curves;
  std::shared_ptr<const FlipView> flip;
  std::shared_ptr<const SanityView> sanity;
  std::shared_ptr<const LayerMaps> layer_maps;  // the layer asked for (Engine::want_layer)
  std::shared_ptr<const HoverView> hover;       // the neuron asked for (Engine::hover), when ready
  std::shared_ptr<const NodeHeat> node_heat;    // the graph's heatmap thumbnails, while asked for (want_node_heat)
  std::shared_ptr<const AtlasInfo> atlas;       // the reference atlas the engine holds, if any
  std::shared_ptr<const ReferencesView> references;  // the asked-for neuron's references (want_references)
  std::shared_ptr<const ConceptsView> concepts;      // the asked-for layer's channels (want_concepts)
  std::shared_ptr<const NodeRefsView> node_refs;     // the graph's nodes as references, while asked for (want_node_refs)
  double hover_progress = 0;

  Settings settings;
  InvertMode invert = InvertMode::Auto;
  std::pair<int, int> wanted_neuron{-1, -1};
  bool busy = false, working = false;
  double progress = 1.0, budget_ms = 0;
  std::string progress_label, error;
  Timings timings;
  Session::Download download;
  std::array<long long, Session::kResults> versions{};
  long long generation = 0;
  long long applied = 0;  // commands applied so far (Engine::post numbers them from 1)
  double heap_mb = 0, heap_used_mb = 0;  // the engine module's memory (WebAssembly: its peak and what is allocated)

  const Network* network() const { return model ? model->net.get() : nullptr; }
  long long version(Session::Result r) const { return versions[static_cast<std::size_t>(r)]; }
  // null / empty until the result is there
  const std::string& model_name() const { return model ? model->name : empty_text(); }
  const std::string& model_source() const { return model ? model->source : empty_text(); }
  std::size_t model_bytes() const { return model ? model->bytes : 0; }
  const PictureView& pic() const {
    static const PictureView none;
    return picture ? *picture : none;
  }
  const std::string& image_name() const { return pic().name; }
  const std::string& image_source() const { return pic().source; }
  const Image& image() const { return pic().image; }
  const NeuronGraph* neuron_graph() const { return graph ? &graph->graph : nullptr; }
  const Tensor* path_heatmap() const { return graph && !graph->path_heat.empty() ? &graph->path_heat : nullptr; }
  const NeuronDetail* neuron_detail() const { return detail ? &detail->detail : nullptr; }
  const std::vector<LayerCurve>& layer_curves() const {
    static const std::vector<LayerCurve> none;
    return curves ? *curves : none;
  }
  const FlipResult* flip_result(int which) const { return flip ? &flip->result[which] : nullptr; }
  const std::string& flip_compare() const { return flip ? flip->compare : empty_text(); }
  static const std::string& empty_text() {
    static const std::string e;
    return e;
  }
};

}  // namespace lrp::app
