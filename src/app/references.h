// The reference atlas in the app (docs/atlas.md): the atlas the engine holds (the default model's ships with the
// page; another is opened by file or link and must fit the model), and, for the neuron the interface asks about,
// its top references by activation and by relevance — each the atlas picture cropped to the reference's receptive
// field, then masked by the channel's conditional heatmap for that picture, computed one reference at a time as a
// job beside the pipeline. Plain data out (no GL, no ImGui).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "explain/atlas.h"
#include "explain/atlas_view.h"
#include "explain/workspace.h"

namespace lrp::app {

// What the interface says about the atlas.
struct AtlasInfo {
  std::string source;  // where it came from (a path, a URL, a file's name)
  bool is_default = false;  // the default model's (opened quietly; fetched again as needed, so no link names it)
  std::string model_name, set_kind, composite;
  int layers = 0, top = 0, set_count = 0;
  std::string mismatch;  // why it does not fit the loaded model ("": it does)
  std::vector<std::string> layer_names;  // the layers it has references for ("features.28", ...)
};

struct ReferenceView {
  uint32_t image = 0;  // its index in the atlas' set
  std::string name;    // its name there ("t10k:123")
  float score = 0;
  Box box;             // the receptive field in the model's input
  Image crop;          // the atlas' picture inside the box; masked once `masked`
  bool masked = false;
};

struct ReferencesView {
  int layer = -1, channel = -1;      // the network's layer index and the channel (a fully connected unit)
  std::vector<ReferenceView> by[2];  // [AtlasBy::Activation], [AtlasBy::Relevance], best first
  int done = 0, total = 0;           // masks computed of those shown
  long long version = 0;
};

// One layer's channels at a glance (the Concepts tab, DeepVis-style): each channel's best reference and its place
// on the layer's concept map; the engine adds each channel's relevance in the current explanation.
struct ConceptsView {
  int layer = -1;   // the network's layer index
  int by = 0;       // the ranking (AtlasBy) whose best reference each channel shows and whose map is given
  std::vector<Image> best;              // per channel: its best reference's crop, at most kThumb pixels a side
  std::vector<std::string> best_name;   // ... and that picture's name ("" when the channel has none)
  std::vector<float> map_x, map_y;      // the concept map (empty when the atlas has none)
  std::vector<float> relevance;         // per channel, in the current explanation (empty until there is one)
  long long explanation_version = -1;   // the explanation `relevance` is from
  long long version = 0;
  static constexpr int kThumb = 48;
};

// The graph's nodes drawn as their channels' best references (the graph's "references" view): per node, the crop of
// its channel's best atlas picture (empty for a node the atlas has nothing for, as the output).
struct NodeRefsView {
  long long graph_version = -1;  // the graph they belong to
  int by = 0;                    // the ranking (AtlasBy) whose best reference each node shows
  std::vector<Image> best;       // per graph node, at most kThumb pixels a side
  std::vector<std::string> name; // ... and that picture's name
  long long version = 0;
  static constexpr int kThumb = 48;
};

class ReferenceService {
 public:
  static constexpr int kShown = 8;  // references per ranking the interface shows

  // Reads an atlas file (throws Error naming what is wrong, and then nothing changed). It must fit `net` unless
  // `quiet` (the default atlas: kept, silently unused, for another model).
  void load(const uint8_t* data, std::size_t n, const std::string& source, const Network* net, bool quiet);
  void adopt(Atlas a, const std::string& source, const Network* net, bool quiet);
  // A new model: the references start over; the atlas stays, fitting it or not.
  void model_changed(const Network* net);
  // The neuron asked about (layer -1: none).
  void want(int layer, int channel, const Network* net);
  // The layer whose channels the Concepts tab shows (layer -1: none), with the best reference by `by`.
  void want_concepts(int layer, int by, const Network* net);
  const ConceptsView* concepts() const { return concepts_.layer >= 0 ? &concepts_ : nullptr; }
  long long concepts_version() const { return concepts_.version; }
  // A channel's best reference by `by`: its atlas picture cropped to the receptive field, at most `side` pixels a
  // side, and the picture's name; false (nothing written) when the atlas does not fit or has none for it.
  bool best(int layer, int channel, AtlasBy by, const Network* net, int side, Image* crop, std::string* name) const;
  // Whether a mask is still to compute (frames and slices must go on).
  bool pending() const { return job_ != nullptr || next_ < queue_.size(); }
  // Computes masks for about budget_ms, with the model and weight cache of `ws`.
  void step(double budget_ms, double step_macs, const Workspace& ws);
  // The atlas picture of a reference (as the model sees it), or null.
  const Image* picture(uint32_t image) const;
  std::string picture_name(uint32_t image) const;

  const AtlasInfo* info() const { return atlas_ ? &info_ : nullptr; }
  long long info_version() const { return info_version_; }
  const ReferencesView* view() const { return view_.layer >= 0 ? &view_ : nullptr; }
  long long version() const { return view_.version; }

 private:
  bool fits() const { return atlas_ && info_.mismatch.empty(); }
  void rebuild(const Network* net);  // the view of the wanted neuron, crops from the cache or unmasked
  void rebuild_concepts(const Network* net);
  int concepts_layer_ = -1, concepts_by_ = 0;
  ConceptsView concepts_;
  std::shared_ptr<const Atlas> atlas_;
  AtlasInfo info_;
  long long info_version_ = 0;
  int want_layer_ = -1, want_channel_ = -1;
  ReferencesView view_;
  // masks computed, by (layer, channel, image); cleared with a new model or atlas
  std::map<std::tuple<int, int, uint32_t>, Image> masks_;
  struct MaskTask {
    uint32_t image;
    Box box;
  };
  std::vector<MaskTask> queue_;  // the masks the view still needs, in the order to compute them
  std::size_t next_ = 0;
  std::unique_ptr<ReferenceMaskJob> job_;
  uint32_t job_image_ = 0;
};

}  // namespace lrp::app
