// The application state a permalink reproduces, as one plain struct: which model and picture, how it is
// explained (preset or edited per-layer rules, target, graph layers and k, tolerance, selected neuron), how it
// is shown (view mode, colour map, opacity, scale, panel) and the lesson it is a step of. Names, not indices, so it means the same thing before a
// model is loaded; the app resolves and range-checks it against the network when it applies it. No GL, no ImGui.
#pragma once

#include <string>
#include <vector>

#include "explain/explanation.h"
#include "explain/heatmap.h"

namespace lrp::app {

// View modes of the input panel, in the order of its drop-down.
enum class ViewMode { Overlay, SideBySide, Heatmap, Positive, Negative };
const char* view_mode_name(ViewMode m);            // "overlay", "side", "heatmap", "positive", "negative"
bool parse_view_mode(const std::string& s, ViewMode* out);

// The panels (tabs) of the app, in the order of the tab bar.
enum class Tab { Graph, Neuron, Layers, Rules, Optimizer, Evaluation, Concepts };
constexpr int kTabCount = 7;
const char* tab_name(Tab t);                       // "Graph", ... (as shown)
std::string tab_key(Tab t);                        // "graph", ... (as in links)
bool parse_tab(const std::string& s, Tab* out);    // either spelling; "optimizer" too

// How results are shown: the view part of a link, and the interface's own view settings (one struct for both).
struct ViewState {
  ViewMode mode = ViewMode::Overlay;
  Colormap cmap = Colormap::BWR;
  float alpha = 0.8f;                 // overlay opacity 0..1
  float percentile = 99.5f;           // the value shown at full colour: this percentile of |relevance|
  bool gray = true;                   // the picture in grey under the overlay
  int nodes = 1;  // the graph's nodes: 0 circles, 1 feature maps, 2 conditional heatmaps, 3 best atlas references
};
constexpr int kGraphNodeKinds = 4;
const char* graph_nodes_name(int nodes);  // "circles", "maps", "heatmaps", "references"

struct AppState {
  std::string model;                  // a weights URL; "" = the embedded default model
  std::string image;                  // a sample name ("fashion/coat-1") or an image URL; "" = the default sample
  std::string atlas;                  // a reference atlas' URL; "" = the default model's (the page fetches both)
  std::string invert = "auto";        // auto | on | off
  std::string composite = "epsilon-gamma-box";  // a preset name
  std::string rules;                  // edited per-layer rules (Composite::to_compact); wins over `composite`
  Target target;                      // top-1, a class, or "A rather than B"
  std::vector<std::string> graph_layers;  // empty = the default graph layers
  int k = 5;                          // neurons per graph layer (1..kMaxK)
  bool k_auto = false;                // k from the optimiser
  int cap = 0;                        // with k_auto: at most this many neurons per layer (0 = no cap)
  double tolerance = 20.0;            // the optimiser's SMAPE tolerance
  std::string neuron;                 // "features.28:25"; "" = the path's neuron
  ViewState view;
  Tab panel = Tab::Graph;
  bool embed = false;
  bool predict = false;               // predict, then reveal: the explanation hidden until the student's guess
  std::string lesson;                 // a lesson's address (the page fetches it; lesson.h), "" = none
  int step = 0;                       // the lesson's step shown, from 1 (0 = the first)

  static constexpr int kMaxK = 64;
  static constexpr float kMinPercentile = 90.0f;

  // The query string ("?image=...&target=3..."), with only the fields that differ from the defaults.
  std::string to_query() const;
  // Parses a query string (with or without '?'). Every bad or unknown parameter adds one sentence to `errors`
  // and leaves that field at its default; the valid ones are kept.
  static AppState from_query(const std::string& query, std::vector<std::string>* errors);
  std::string to_json() const;  // every field, for the test hook and the state export
  // Whether an `image` value is an address (a URL, an absolute or relative path, a picture file name) rather than
  // a sample's name.
  static bool image_is_address(const std::string& image);
  bool operator==(const AppState& o) const;
  bool operator!=(const AppState& o) const { return !(*this == o); }
};

// Query-string helpers (RFC 3986 percent-encoding; '+' decodes to a space as in forms).
std::string url_encode(const std::string& s);
std::string url_decode(const std::string& s);
// Strict number parsing for values from links: the whole text must be the number ("1e3" is not an integer).
bool parse_int_strict(const std::string& s, long long* out);
bool parse_float_strict(const std::string& s, double* out);

}  // namespace lrp::app
