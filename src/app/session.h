// The app's model of the world, free of GL and ImGui: the loaded model and image, the settings, and the results
// (forward pass, explanation, neuron graph, neuron detail, optimiser curves, pixel flipping), computed by a
// pipeline that advances in small steps inside a per-frame time budget so the page never freezes.
#pragma once

#include <array>
#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "explain/composite.h"
#include "explain/deconv.h"
#include "explain/explanation.h"
#include "explain/neuron_graph.h"
#include "explain/optimizer.h"
#include "explain/pixel_flipping.h"
#include "explain/propagate_job.h"
#include "explain/sanity.h"
#include "explain/workspace.h"
#include "model/forward.h"
#include "model/image.h"
#include "model/network.h"
#include "app/app_state.h"
#include "app/references.h"
#include <functional>

namespace lrp::app {

struct Settings {
  std::string preset = "epsilon-gamma-box";
  Composite composite;  // the editable per-layer table (starts as the preset)
  Target target;        // top-1, a class, or a contrast
  int graph_k = 5;
  bool graph_k_auto = false;
  int graph_cap = 0;              // with graph_k_auto: at most this many per layer (0: no cap)
  std::vector<int> graph_layers;  // empty: default
  double tolerance = 20.0;        // optimiser (SMAPE)
};

struct NeuronDetail {
  int layer = -1, index = -1;
  Tensor conditional;   // input relevance through this neuron alone
  DeconvResult deconv, guided;
  bool has_deconv = false;
  double relevance = 0, share = 0, mean_activation = 0, max_activation = 0;
};

// The graph nodes' conditional heatmaps, small, for the graph's thumbnails: each node's input relevance when only
// that neuron's relevance is propagated down, summed over colour channels and reduced to at most 48 x 48 (empty
// until computed; the output node has none).
struct NodeHeat {
  long long graph_version = -1;  // the graph they belong to
  std::vector<std::vector<float>> maps;
  std::vector<float> scale;  // each map's value at full colour (symmetric_scale at the 99.5th percentile)
  int h = 0, w = 0, done = 0, total = 0;
};

struct Timings {
  double forward_ms = 0, lrp_ms = 0, graph_ms = 0, detail_ms = 0;
};

class Session {
 public:
  Session();

  // Loading. Errors are reported through error() and leave the previous state working.
  bool load_model_file(const std::string& path, const std::string& display_name = "");
  bool load_model_bytes(std::vector<uint8_t> bytes, const std::string& name);
  // A checkpoint already in memory (the browser's download); `source` is shown and used in permalinks.
  bool load_model_store(const class WeightStore& ws, const std::string& source, std::size_t bytes);
  const std::string& model_source() const { return model_source_; }
  // A network built elsewhere (tests, a random model): adopted as if loaded from `name`.
  bool load_network(std::shared_ptr<Network> net, const std::string& name);
  // Download progress reported by the page (bytes so far, total or 0, bytes per second); active = false ends it.
  struct Download {
    bool active = false;
    double loaded = 0, total = 0, speed = 0;
    std::string what;
    // as the page's scripts report it (what may be null)
    static Download of(int active, double loaded, double total, double speed, const char* what) {
      return {active != 0, loaded, total, speed, what ? what : ""};
    }
  };
  void set_download(const Download& d) { download_ = d; }
  const Download& download() const { return download_; }
  // `source`: where the picture came from when a link can name it (an image URL); "" for uploads and samples.
  bool load_image_file(const std::string& path, const std::string& display_name = "", const std::string& source = "");
  // Reads and decodes a picture file; on failure `error` says why in the words the error line uses (the file
  // named as `shown`). Also used where the file is, when the engine is elsewhere.
  static bool read_picture(const std::string& path, const std::string& shown, Image* out, std::string* error);
  // How a file is named on screen: `display_name`, or else the file's name without its folder.
  static std::string shown_name(const std::string& path, const std::string& display_name);
  // A picture decoded elsewhere (the page's browser decoders); the previous one stays when it cannot be prepared.
  bool load_picture(const Image& img, const std::string& name, const std::string& source = "");
  const std::string& image_source() const { return image_source_; }
  void set_invert(InvertMode m);
  // What if: the picture as the model sees it, edited (painted over; the model's input size), explained again with
  // the same class, rules and neuron; reset_view goes back to the picture as it was opened.
  bool edit_view(const Image& view);
  void reset_view();
  bool view_edited() const { return view_edited_; }

  // The reference atlas (references.h): from a file or bytes; `quiet` for the default atlas, which is kept
  // unused when it does not fit the model (an atlas that was asked for and does not fit is refused).
  bool load_atlas_file(const std::string& path, const std::string& source, bool quiet);
  bool load_atlas_bytes(const uint8_t* data, std::size_t n, const std::string& source, bool quiet);
  void want_references(int layer, int channel) { refs_.want(layer, channel, ws_.net.get()); }
  void want_concepts(int layer, int by) { refs_.want_concepts(layer, by, ws_.net.get()); }
  const ReferenceService& references() const { return refs_; }
  // Opens a reference's picture as the model saw it in the atlas (not prepared again).
  bool open_reference(uint32_t image);

  // Settings changes; `debounce` waits for the user to stop dragging before recomputing.
  void set_preset(const std::string& name);
  void composite_edited();  // the per-layer table changed
  void set_composite(const Composite& c);  // a whole edited table (from a link)
  void set_target(const Target& t);
  void select_neuron(int layer, int index);
  // The neuron the detail is for (or is being computed for): layer -1 when none.
  std::pair<int, int> wanted_neuron() const { return {want_layer_, want_index_}; }
  void set_graph(int k, bool k_auto, const std::vector<int>& layers, int cap = 0);
  // A link's engine part (invert, rules, target, graph, neuron; its picture is opened before, by whoever has the
  // file): each field is checked against the loaded model; one that cannot be applied adds a sentence to `errors`
  // and leaves that part as it was.
  void apply_state(const AppState& st, std::vector<std::string>* errors);
  void run_optimizer(int layer);  // one layer (-1: all)
  void run_flipping(const std::string& compare_preset);
  // The sanity check (explain/sanity.h) of the current explanation's method and class; steps arrive one by one.
  void run_sanity(uint64_t seed);

  // Advances the pipeline for at most budget_ms; returns true while work remains.
  bool update(double budget_ms);
  double budget_ms() const { return budget_ms_; }  // the budget of the last update
  bool busy() const;
  double progress() const { return progress_; }
  const std::string& progress_label() const { return progress_label_; }
  void cancel();

  // State for the UI.
  std::shared_ptr<const Network> network() const { return ws_.net; }
  const std::string& model_name() const { return model_name_; }
  std::size_t model_bytes() const { return model_bytes_; }
  const std::string& image_name() const { return image_name_; }
  const Image& image() const { return ws_.image; }
  const Preprocessed& preprocessed() const { return ws_.pre; }
  const ForwardPass* forward() const { return ws_.fwd && ws_.fwd->done() ? ws_.fwd.get() : nullptr; }
  const Explanation* explanation() const { return ex_ && ex_->done() ? ex_.get() : nullptr; }
  const NeuronGraph* graph() const { return graph_ready_ ? &graph_ : nullptr; }
  const NeuronDetail* detail() const { return detail_ready_ ? &detail_ : nullptr; }
  const Tensor* path_heatmap() const { return graph_ready_ && !path_heat_.empty() ? &path_heat_ : nullptr; }
  // The conditional heatmap of one neuron for a tooltip: null until it is ready (computed as a job beside the
  // pipeline, cached per result generation; *progress tells how far it is).
  const Tensor* hover_conditional(int layer, int index, double* progress = nullptr);
  // The graph's thumbnails of conditional heatmaps: computed one node at a time beside the pipeline (a tooltip's
  // request goes first) while wanted.
  void want_node_heat(bool on) { node_heat_on_ = on; }
  // The graph's nodes as their channels' best references by `by` (0 activation, 1 relevance).
  void want_node_refs(bool on, int by) { node_refs_on_ = on; node_refs_by_ = by == 1 ? 1 : 0; }
  // (made when asked: from the graph and the atlas as they are now)
  const NodeRefsView& node_refs() { fill_node_refs(); return node_refs_; }
  const NodeHeat& node_heat() const { return node_heat_; }
  long long node_heat_version() const { return node_heat_version_; }
  // The pipeline or a job beside it has work left (frames must go on).
  bool working() const { return busy() || hover_job_ != nullptr || node_heat_pending() || refs_.pending(); }
  long long hover_generation() const { return hover_generation_; }
  const std::vector<LayerCurve>& curves() const { return curves_; }
  const FlipResult* flip(int which) const { return flip_ready_ ? &flip_[which] : nullptr; }
  const std::string& flip_compare() const { return flip_compare_; }
  // The sanity check's steps so far (null before one is run); sanity_done() once every layer is re-initialised.
  const SanityResult* sanity() const { return sanity_.steps.empty() ? nullptr : &sanity_; }
  bool sanity_done() const { return sanity_done_; }
  uint64_t sanity_seed() const { return sanity_seed_; }
  const std::string& sanity_method() const { return sanity_method_; }
  Settings& settings() { return settings_; }
  const Timings& timings() const { return timings_; }
  // The error line: the last operation's problem, else why the atlas asked for could not be opened (which stays
  // until an atlas opens or the line is dismissed: the atlas arrives on its own time, around other operations).
  const std::string& error() const { return error_.empty() ? atlas_error_ : error_; }
  void clear_error() {
    error_.clear();
    atlas_error_.clear();
  }
  void report_error(const std::string& e) { error_ = e; }
  void report_atlas_error(const std::string& e) { atlas_error_ = e; }
  long long generation() const { return generation_; }  // bumps whenever results change
  // Each result's own version: it changes exactly when that result does, so the UI re-uploads a texture only then.
  enum class Result { Picture, Forward, Explanation, Graph, Detail, Curves, Flip, Sanity };
  static constexpr int kResults = 8;
  long long version(Result r) const { return versions_[static_cast<std::size_t>(r)]; }
  InvertMode invert() const { return ws_.invert; }

 private:
  enum class Stage { Idle, Forward, Explain, Graph, Detail, Optimize, Flip, Sanity };
  // After the pipeline's own stages: the asked-for extras in order (optimiser, pixel flipping, sanity check), or Idle.
  Stage next_extra() const;
  void restart(Stage from, bool debounce);
  void restart_stages(Stage from, bool debounce);
  bool reprepare_image(const std::string& what);
  bool adopt_model(std::shared_ptr<Network> net, const std::string& shown, const std::string& source, std::size_t bytes);
  void fail(const std::string& what, const std::exception& e);
  void fail(const std::string& message);  // the error line, and the pipeline stops
  void changed(std::initializer_list<Result> results);  // bumps the generation and these results' versions
  std::array<long long, kResults> versions_{};
  bool step_once();

  Workspace ws_;  // the model, the picture prepared for it, the forward pass
  bool view_edited_ = false;
  std::string model_name_, image_name_, model_source_, image_source_;
  Download download_;
  std::size_t model_bytes_ = 0;
  Settings settings_;

  std::shared_ptr<Explanation> ex_;
  NeuronGraph graph_;
  Tensor path_heat_;
  bool graph_ready_ = false;
  std::map<std::pair<int, int>, Tensor> cond_cache_;
  long long cond_gen_ = -1;
  std::unique_ptr<PropagateJob> hover_job_;
  std::pair<int, int> hover_key_{-1, -1};
  long long hover_generation_ = 0;
  void step_hover(double budget_ms);
  ReferenceService refs_;
  bool node_heat_on_ = false;
  NodeHeat node_heat_;
  long long node_heat_version_ = 0;
  bool node_heat_pending() const;
  bool node_refs_on_ = false;
  int node_refs_by_ = 0;
  NodeRefsView node_refs_;
  long long node_refs_atlas_ = -1;  // the atlas (ReferenceService::info_version) node_refs_ was made with
  void fill_node_refs();
  void fill_node_heat();  // thumbnails from the cache, and the next node's job
  NeuronDetail detail_;
  bool detail_ready_ = false;
  // resumable work of the current stage
  std::unique_ptr<GraphBuilder> graph_builder_;
  std::unique_ptr<PropagateJob> path_job_, cond_job_;
  std::unique_ptr<DeconvJob> deconv_job_, guided_job_;
  NeuronDetail pending_;
  int want_layer_ = -1, want_index_ = -1;
  std::vector<LayerCurve> curves_;
  std::vector<int> optimize_queue_;
  FlipResult flip_[2];
  bool flip_ready_ = false, flip_pending_ = false;
  std::unique_ptr<OptimizerJob> optimizer_job_;
  std::unique_ptr<FlipJob> flip_job_;
  std::unique_ptr<SanityJob> sanity_job_;
  SanityResult sanity_;
  bool sanity_pending_ = false, sanity_done_ = false;
  uint64_t sanity_seed_ = 1;
  std::string sanity_method_;
  std::unique_ptr<Explanation> flip_other_;  // the comparison preset's explanation
  int flip_part_ = 0;
  int optimized_ = 0;  // layers of the current optimiser request already done
  double budget_ms_ = 0;
  double step_macs_ = 3e7;  // the work of one step (~1.5 ms in one WebAssembly thread; adapted in update)
  void drop_jobs();                        // 0: flipping by the current heatmap, 1: the comparison's, 2: done
  std::string flip_compare_;

  Stage stage_ = Stage::Idle;
  std::chrono::steady_clock::time_point not_before_;
  double progress_ = 1.0;
  std::string progress_label_;
  Timings timings_;
  double stage_ms_ = 0;
  std::string error_, atlas_error_;
  // an atlas that arrived before any model: opened with the first one
  struct PendingAtlas {
    std::vector<uint8_t> bytes;
    std::string source;
    bool quiet = false;
  };
  std::unique_ptr<PendingAtlas> pending_atlas_;
  long long generation_ = 0;
};

}  // namespace lrp::app
