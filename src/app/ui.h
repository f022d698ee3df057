// The Dear ImGui front end: one window filling the canvas, an input view with the shader-drawn heatmap, the
// predictions, and tabs for the neuron graph, neuron detail, layer explorer, rules, optimiser and evaluation.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <imgui.h>
#include <nlohmann/json_fwd.hpp>

#include "app/app_state.h"
#include "app/gl_util.h"
#include "app/lesson.h"
#include "app/engine.h"
#include "app/snapshot.h"
#include "explain/graph_layout.h"
#include "explain/heatmap.h"
#include "explain/metrics.h"


namespace lrp::app {

// How the interface kept up while the engine last worked (measured by the frame loop), over the latest busy period:
// the longest frame (input, building, drawing, swapping), the longest of the app's own part of a frame (all but the
// swap, where a software rasteriser does its work) and the longest interval between two frames.
struct FrameTimes {
  double longest_ms = 0, longest_app_ms = 0, longest_gap_ms = 0;
  double longest_gl_ms = 0;  // of the app's part: ImGui's GL calls (texture uploads, draw calls)
  double longest_own_ms = 0;  // of the app's part without its GL calls: the app's own code (input, ImGui, results)
  long long frames = 0;
};

struct Sample {
  std::string name;  // "fashion/sneaker-1"
  std::string path;
};

// Wrapped text that breaks lines only at spaces (ImGui's own wrapping also breaks after '.' and ',', which cuts
// numbers in two: "0." / "131").
void text_wrapped(const char* fmt, ...);

class Ui {
 public:
  bool init(EngineApi* e, const std::string& asset_dir, float ui_scale, std::string* error);
  void frame(int width, int height);  // builds the whole UI for one frame, from the engine's latest snapshot
  void set_tab(Tab t) { tab_ = t; request_tab_ = true; }
  // remember: also on later visits (the page keeps it in local storage)
  void dismiss_hint(bool remember = true) {
    show_hint_ = false;
    if (remember && hint_dismissed_cb_) hint_dismissed_cb_();
  }
  void on_hint_dismissed(void (*cb)()) { hint_dismissed_cb_ = cb; }
  // The page fetches the default model's atlas when a view first needs it (not with the page: its first load stays
  // small); it says so when there is none to fetch.
  void on_need_atlas(void (*cb)()) { need_atlas_cb_ = cb; }
  void set_atlas_missing() { atlas_missing_ = true; }
  enum class FileKind { Image, Model, Rules, Atlas, Lesson };
  // Opens a dropped or chosen file: weights (.safetensors or a shard index), a rules file (.json) or a picture.
  void open_path(const std::string& path);
  // Whether the UI needs frames although nothing happens (a text field has the keyboard: its cursor blinks).
  bool wants_frames() const;
  void set_share_base(const std::string& b) { share_base_ = b; }
  bool hint_visible() const { return show_hint_; }
  Tab tab() const { return tab_; }
  const std::vector<Sample>& samples() const { return samples_; }
  bool load_sample(const std::string& name);
  long long frames() const { return frames_; }
  void set_frame_times(const FrameTimes& t) { frame_times_ = t; }
  std::string state_json() const;
  // What a screen reader says about the current view, in a few sentences: the prediction, what is explained with
  // which rules, the explanation's summary, the open tab (the page keeps it in an ARIA live region).
  std::string description() const;
  // Keyboard navigation: Tab starts it (the arrow keys then move between the controls, Space presses, Enter types
  // into a field), Esc with nothing open or a mouse click ends it; outside it the arrow keys are shortcuts.
  bool keyboard_nav() const { return keyboard_nav_; }
  // Touch screens: controls at least 40 points high, small buttons as big as the others, drag to scroll.
  void set_touch(bool on);
  bool touch() const { return touch_; }
  // The state a permalink reproduces, gathered from the session and the view.
  AppState current_state() const;
  // Applies a state: every field is checked against the loaded model; each one that cannot be applied adds a
  // sentence to `errors` and leaves that part of the app as it was. A sample image is loaded here; model and
  // image URLs are fetched by the page before it calls this.
  // Returns false when a part could not be applied (known at once in the page; the desktop's engine thread
  // reports it on the error line).
  bool apply_state(const AppState& st, std::vector<std::string>* errors);
  // A query string from a link: parsed, applied, and every problem reported in one error line ("" when all applied).
  // page_errors: what the page could not fetch or open for this link (they lead the one error line).
  std::string apply_query(const std::string& query, const std::vector<std::string>& page_errors = {});
  // Lessons (ui_lesson.cpp). A lesson file's text: opened at `step` (0-based), its state applied when `apply`; a
  // lesson that cannot be read leaves the one shown and says why on the error line. source: its address when a
  // link named it (it can travel in a permalink), else "".
  bool open_lesson_text(const std::string& text, const std::string& name, const std::string& source, int step, bool apply);
  bool open_lesson_file(const std::string& path, const std::string& shown, int step = 0);
  void lesson_go(int step);  // shows that step (clamped) and applies its state
  // A step's state (a query), applied as a step is: in the view it is shown in, its picture kept when it names none.
  std::string apply_step_query(const std::string& query, const std::vector<std::string>& page_errors);
  const LessonState& lesson() const { return lesson_; }
  // The page applies a step's state itself (it fetches what the step names by URL first), opens a link in a new
  // tab, and downloads a text file; the desktop opens links with the system's browser.
  void on_apply_step(void (*cb)(const char* query)) { apply_step_cb_ = cb; }
  void on_open_link(void (*cb)(const char* url)) { open_link_cb_ = cb; }
  void on_download_text(void (*cb)(const char* name, const char* text)) { download_text_cb_ = cb; }
  void on_open_lesson_request(void (*cb)()) { open_lesson_cb_ = cb; }
  // The query string that reproduces the current state (the page turns it into a permalink).
  std::string share_query() const { return current_state().to_query(); }
  // What a link cannot carry in the current state (an uploaded picture, weights from a local file), in words.
  std::vector<std::string> share_limits() const;
  void show_share(const std::string& link, const std::string& snippet);
  // The <iframe> snippet that embeds a link (one place for the page and the desktop app).
  static std::string share_snippet(const std::string& link);
  // The page's answer to a copy (the browser may refuse it, e.g. in an iframe without clipboard-write).
  void copy_result(bool ok) {
    if (!share_copied_.empty())
      share_copied_ = ok ? share_copied_ : "the browser refused to copy: select the text above and press Ctrl+C";
  }
  void set_embed(bool e) { embed_ = e; }
  bool embed() const { return embed_; }
  void on_share(void (*cb)(const char* query)) { share_cb_ = cb; }
  void on_load_url(void (*cb)(const char* url)) { load_url_cb_ = cb; }
  void on_cancel_download(void (*cb)()) { cancel_download_cb_ = cb; }
  // The figure for slides and papers, into the folder `dir`: figure.png (the picture, its heatmap with colour bar
  // and class, the words, the graph with labels and legend; two pixels per point), graph.svg, graph.json,
  // rules.json (a rules file) and state.json (the link, the view, where each part of the figure is). Returns the
  // files written ("error: ..." last when one could not be).
  std::vector<std::string> export_figure(const std::string& dir);
  // The page: the files as one zip download named `zip` (the paths separated by newlines).
  void on_download_zip(void (*cb)(const char* zip, const char* paths)) { download_zip_cb_ = cb; }
  // The Export menu's figure: the page downloads it as one zip, the desktop writes a new folder (lrpscope-figure,
  // -2, ... in `dir`: an earlier one is never overwritten). Returns the folder ("" on failure, reported).
  std::string export_now(const std::string& dir = ".");
  void on_open_image_request(void (*cb)()) { open_image_cb_ = cb; }
  void on_open_model_request(void (*cb)()) { open_model_cb_ = cb; }
  void on_open_atlas_request(void (*cb)()) { open_atlas_cb_ = cb; }
  void on_download(void (*cb)(const char* path)) { download_cb_ = cb; }
  void on_open_rules_request(void (*cb)()) { open_rules_cb_ = cb; }
  // Rules files (the format of `lrpscope explain --rules`): the current table saved, or one read and applied.
  std::string save_rules(const std::string& path);  // returns the path written, or "" (and reports the error)
  void load_rules_file(const std::string& path, const std::string& shown);

 private:
  // panels
  void menu_bar();
  void input_panel(float w, float h);
  void gallery_popup();
  bool sample_fits(const std::string& name) const;  // a sample made for a model like the loaded one
  std::string picture_note() const;  // what the preprocessing did to a picture that does not fit the model
  void predictions_panel(float w, float h);
  void status_bar(float w, float h);
  void embed_frame(float w, float h);
  void share_popup();
  void url_popup();
  void tabs_panel(float w, float h);
  void tab_content(Tab t);
  // Below 800 points wide (phones, tablets upright): one column that scrolls — the picture and the predictions
  // (side by side when there is room), then the panel.
  void column_layout(float w, float h);
  void columns_layout(float w, float h);  // wider: the picture and the predictions on the left, the panel right
  bool small_button(const char* label);  // ImGui::SmallButton, or a full-size button on touch screens
  bool touch_ = false;
  ImGuiStyle base_style_;  // the style before touch sizes
  std::string layout_ = "columns";  // "columns", "tablet" or "phone" (the state JSON reports it)
  float column_scroll_ = 0;
  // what the input panel needs besides the picture: the top line, the colour bar, the rows of controls
  float input_extra_height(float w) const;
  void summary_text();
  void graph_tab();
  void neuron_tab();
  void references_section(int layer, int index);  // ui_atlas.cpp
  void concepts_tab();                            // ui_atlas.cpp
  void concepts_map(const ConceptsView& c, const std::vector<int>& order, float side);
  void concepts_grid(const ConceptsView& c, const std::vector<int>& order, float w, float h);
  void concept_tip(const ConceptsView& c, int channel);
  void select_concept(int channel, bool open);
  int concepts_layer_ = -1, concepts_by_ = 0;  // the Concepts tab: its layer and the ranking of its pictures
  std::pair<int, int> concepts_req_{-1, 0}, concepts_sent_{-1, 0};
  std::vector<int> concepts_order_;  // its channels, the most relevant first
  std::pair<long long, long long> concepts_order_key_{-1, -1};  // (the view and explanation it was sorted for)
  Image concepts_packed_;  // every channel's thumbnail in one picture (one texture), a grid of kThumb cells
  long long concepts_packed_v_ = -1;
  int concepts_packed_cols_ = 1;
  void layers_tab();
  void rules_tab();
  void optimizer_tab();
  void evaluation_tab();  // two panels: pixel flipping and the sanity check (ui_sanity.cpp)
  void flipping_panel();
  void sanity_panel();
  void help_text(const char* id, const char* text);
  // Marks the last item as `name` and shows its tooltip when it is hovered (or focused by keyboard navigation):
  // one or two sentences saying what the control does; the state JSON reports it (the test hook hovers every
  // control).
  void tip(const char* name, const char* fmt, ...);
  void show_tip(const std::string& name, const std::string& text);  // the tooltip, wrapped, and reported
  std::string tip_name_, tip_text_, tip_prev_name_, tip_prev_text_;  // this frame's tooltip, and the last frame's
  void hint_window(float w, float h);
  // predict, then reveal (ui_predict.cpp)
  struct PredictState {
    bool on = false, revealed = false, erase = false;
    int brush = 2;  // radius in model pixels (for a 28-pixel picture; scaled with the picture)
    int w = 0, h = 0;
    std::vector<uint8_t> mask;  // h x w, 1 where painted
    std::pair<long long, int> key{-1, -1};  // the picture (version) and the class the guess is for
    EvidenceShare score;
  };
  PredictState predict_;
  bool predicting() const { return predict_.on && !predict_.revealed; }
  void set_predict(bool on);
  void predict_sync();
  // the brush that predict and what if paint with (ui_predict.cpp)
  static float brush_radius(int brush, int w, int h);
  static void brush_cells(ImVec2 p0, ImVec2 size, int w, int h, float radius, const std::function<void(int, int)>& f);
  // what if (ui_whatif.cpp): the picture as the model sees it, painted over, explained again as it is painted
  struct WhatIfState {
    bool on = false, painting = false;
    int fill = 0;   // 0 blur, 1 grey, 2 black, 3 the data set's mean
    int brush = 2;
    Image view;     // the picture being painted (model size)
    std::vector<Image> undo;    // the picture before each stroke
    std::vector<uint8_t> mask;  // the pixels painted since the picture was opened
    long long picture = -1;     // the picture version it started from
    std::shared_ptr<const Tensor> before;  // the logits before the first stroke
    double last_sent = 0;       // ImGui time of the last picture sent while a stroke goes on
  };
  WhatIfState whatif_;
  void whatif_sync();
  void whatif_canvas(ImVec2 p0, ImVec2 size);
  void whatif_controls();
  std::string whatif_words() const;
  void predict_canvas(const Tensor& relevance, ImVec2 size);
  void predict_controls();
  std::string predict_words() const;
  // lessons
  void lesson_panel(float w, float h);
  float lesson_height(float w, float max_h) const;
  void lesson_editor();
  void lesson_shortcuts();
  void lesson_add_view();
  std::string lesson_file_name() const;
  std::string save_lesson();
  LessonState lesson_;
  bool lesson_edit_ = false;
  long long lesson_applied_ = 0;  // steps applied (the state JSON reports it)
  std::string last_link_;         // the last link clicked in a lesson's text
  std::string share_note_;        // the next Share dialog's only note (a lesson's snippet)
  void (*apply_step_cb_)(const char*) = nullptr;
  void (*open_link_cb_)(const char*) = nullptr;
  void (*download_text_cb_)(const char*, const char*) = nullptr;
  void (*open_lesson_cb_)() = nullptr;
  void shortcuts();
  void set_keyboard_nav(bool on);
  bool keyboard_nav_ = false;
  bool popup_was_open_ = false;  // a popup was open at the end of the last frame (Esc closed it, not the work)
  // Remembers the last item's rectangle under a name (for the test hook: real clicks on real widgets).
  void mark(const std::string& name);
  void mark_rect(const std::string& name, float x0, float y0, float x1, float y1);
  // Commands requested by widgets are sent after the frame is built (in the page the engine applies them at once,
  // and the frame's snapshot must not change under the widgets while it is built).
  void post(std::function<void()> f) { actions_.push_back(std::move(f)); }
  void run_actions();
  void send_requests();
  std::pair<int, int> hover_req_{-1, -1}, hover_sent_{-1, -1};  // the tooltip's neuron (this frame, sent)
  bool node_heat_sent_ = false;
  std::pair<bool, int> node_refs_sent_{false, 0};  // the graph's nodes as references, by which ranking
  int layer_req_ = -1, layer_sent_ = -1;                        // the layer explorer's layer
  std::pair<int, int> refs_req_{-1, -1}, refs_sent_{-1, -1};    // the neuron whose references are shown
  // drawing helpers
  // version: the version of the result `relevance` belongs to (Session::version); the upload is redone only when
  // it, the data or the picture change, the drawing only when the size or the view settings change too.
  const Texture& heat_view(int slot, const Tensor& relevance, long long version, int size, int mode_override = -1);
  const Texture& lut(Colormap c);
  const Texture& cached_rgb(const std::string& key, const Image& img, long long version);
  // scale > 0: the value shown at full colour (shared by a whole layer); 0: each map's own range
  const Texture& cached_map(const std::string& key, const float* v, long long version, int w, int h, bool signed_map,
                            Colormap c, float scale = 0.0f);
  long long version(Session::Result r) const { return s_->version(r); }
  // The engine's latest snapshot becomes the one drawn (and read by the hooks); the settings the widgets edit
  // follow it unless a change of theirs is still on its way to the engine.
  void refresh() const;
  // The settings were edited by a widget: they stay the UI's own until the engine has applied what was sent.
  void settings_sent() { settings_pending_ = e_->posted(); }
  void send_target(const Target& t) {
    settings_.target = t;
    e_->set_target(t);
    settings_sent();
  }
  // textures uploaded, by what they show ("image", "heat<slot>", "maps"): the state JSON reports them, so a test
  // can see that a result change re-uploads only its own textures
  std::map<std::string, long long> uploads_;
  void ensure_base_textures();
  bool neuron_tooltip(int layer, int index);
  // the desktop's file chooser (the page uses the browser's)
  void open_file_dialog(FileKind kind);
  void file_dialog();
  void request_open_image();
  void request_open_model();
  void request_open_atlas();
  void request_open_lesson();
  void request_share();
  // the next item on this line if w more pixels fit, else on the next line (rows of controls on small screens)
  void flow(float w);
  static float check_width(const char* label);  // a checkbox or radio button with this label
  // the size of a w x h picture drawn to fit a box
  static ImVec2 fit(int w, int h, float box_w, float box_h);

  EngineApi* e_ = nullptr;
  mutable std::shared_ptr<const Snapshot> snap_;
  mutable const Snapshot* s_ = nullptr;
  mutable Settings settings_;  // the widgets' copy of the engine's settings
  bool in_frame_ = false;
  long long settings_pending_ = 0;
  HeatmapRenderer renderer_;
  std::map<int, Texture> luts_;
  struct Cached {
    long long gen = -1;  // the version of the result shown (the key names which part of it)
    int cmap = -1;
    float scale = 0;
    Texture tex;
  };
  std::map<std::string, Cached> cache_;
  Texture image_tex_;
  struct HeatSlot {
    Texture heat;
    const void* src = nullptr;
    long long gen = -1, picture = -1;
    std::vector<float> h;
    float vmax = 0, percentile = -1;
    bool rendered = false;
    std::tuple<int, int, int, int, float, bool, float> key;
    const Texture* out = nullptr;
  };
  std::map<int, HeatSlot> heat_slots_;
  // The colour bar of the heatmap last drawn from `slot`: the colour map from -scale to +scale with its numbers
  // (relevance per pixel, logit units), which end speaks for `cls`, and the hovered pixel's value marked on it.
  void colour_bar(int slot, float width, const std::string& cls, const std::string& name, bool mark_hover);
  float colour_bar_height() const;
  // A colour bar for a map that is not a heat slot (the layer explorer's shared scale): -vmax..+vmax; `what` says
  // what the values are, for the tooltip.
  void value_bar(const std::string& name, float width, float vmax, Colormap cmap, const std::string& what);
  // The bar both draw: marker (or null) is a value marked on it, tooltip the text shown when it is hovered.
  void scale_bar(const std::string& name, float width, float vmax, Colormap cmap, const std::string& cls,
                 const float* marker, const std::string& tooltip);
  std::string explained_class() const;  // the class label the explanation is for ("A rather than B" for a contrast)
  long long base_gen_ = -1;
  // Rankings recomputed only when the result they rank changes (not every frame): the classes by logit with their
  // probabilities, and a layer's neurons by relevance with the layer's largest |relevance|.
  struct ClassRanking {
    const float* src = nullptr;
    long long gen = -1;
    std::vector<int> order;
    std::vector<float> probs;
  };
  struct LayerRanking {
    const float* src = nullptr;
    long long gen = -1;
    std::vector<int> order;
    std::vector<double> neuron;  // each neuron's relevance
    float max_abs = 0;
  };
  ClassRanking class_rank_;
  LayerRanking layer_rank_;
  const ClassRanking& class_ranking(const Tensor& logits);
  const LayerRanking& layer_ranking(const Tensor& relevance);
  ViewState view_;  // how results are shown (the view part of the app's state)
  Tab tab_ = Tab::Graph;
  bool request_tab_ = false;
  std::vector<Sample> samples_;
  std::map<std::string, Texture> sample_thumbs_;
  Texture original_tex_;
  long long original_gen_ = -1;
  std::string asset_dir_;
  float scale_ = 1.0f;
  long long frames_ = 0;
  long long drawn_generation_ = -1, drawn_frames_ = 0;  // the results last drawn, and in how many frames
  FrameTimes frame_times_;
  bool show_hint_ = true;
  std::map<std::string, bool> help_open_;
  // graph view
  struct GraphPaint {  // where and how draw_graph draws: the canvas, its zoom and pan, pixels per point, the font
    ImVec2 p0, size;
    float zoom = 1, pan_x = 0, pan_y = 0, px = 1;
    ImFont* font = nullptr;
    float font_size = 13, min_edge = 0.02f;
    bool interactive = false, hovered = false, legend = true;  // interactive: marks, and the node under `mouse`
    ImVec2 mouse;
  };
  int draw_graph(ImDrawList* dl, const GraphPaint& p);  // the node under the mouse, or -1
  GraphPaint screen_paint() const;  // the screen's zoom, pan, scale, font and weak-line share
  struct GraphGeometry {  // where a graph picture's parts go (graph_geometry: one place for drawing and finding)
    float head_h = 0, legend_h = 0, margin_l = 0, margin_r = 0, top = 0, bottom = 0;
    float row_h = 0, col_w = 0, base = 0, shift = 0;  // a row and column after the zoom; the nodes' full size
    int label_mode = 0;                               // 0: none, 1: beside the nodes, 2: under them
    ImVec2 unzoomed(const GraphLayout& L, std::size_t node, ImVec2 size) const;
  };
  GraphGeometry graph_geometry(const GraphPaint& p);
  const GraphLayout& graph_layout();                     // cached per graph version
  const Texture* node_texture(std::size_t node);         // its thumbnail, or null (a circle)
  void find_in_graph(const std::string& text);
  void graph_side(float w, float h, bool below);
  std::string path_description() const;  // path_words for the current graph
  GraphLayout graph_layout_;
  long long graph_layout_version_ = -1;
  mutable long long path_words_version_ = -1;
  mutable std::string path_words_;
  float graph_min_edge_ = 0.02f;
  char graph_find_[64] = "";
  std::string graph_find_msg_;
  int graph_found_ = -1;
  ImVec2 graph_canvas_{0, 0};
  float graph_zoom_ = 1.0f;
  float graph_pan_x_ = 0, graph_pan_y_ = 0;
  int hover_node_ = -1;
  bool graph_wheel_ = false;  // the graph was under the cursor in the last frame: the wheel zooms it
  // layer explorer
  int explorer_layer_ = -1;
  bool explorer_relevance_ = true;
  float explorer_zoom_ = 1.0f;
  bool explorer_shared_scale_ = true;  // relevance maps on one scale (else each on its own)
  // optimiser view
  int optimizer_layer_ = -1;
  // evaluation
  int compare_preset_ = 1;
  int flip_step_ = 0;  // the pixel-flipping step whose picture is shown (the last one hovered)
  int eval_panel_ = 0;  // 0 pixel flipping, 1 the sanity check
  int sanity_seed_ = 1;
  int sanity_step_ = -1;  // the sanity check's step hovered in its chart (-1: none)
  // contrast picking
  bool contrast_mode_ = false;
  bool rules_all_layers_ = false;  // the Rules tab lists the ReLUs and pools too
  int contrast_a_ = -1;
  bool contrast_seen_ = false;  // whether the target was a contrast when the check box last looked
  // open-path box (native)
  char path_buf_[512] = {0};
  std::string last_export_;
  std::map<std::string, std::array<float, 4>> rects_, rects_prev_;
  std::vector<std::function<void()>> actions_;
  void (*open_image_cb_)() = nullptr;
  void (*open_model_cb_)() = nullptr;
  void (*open_atlas_cb_)() = nullptr;
  void (*download_cb_)(const char*) = nullptr;
  void (*download_zip_cb_)(const char*, const char*) = nullptr;
  Image figure_image(nlohmann::ordered_json* parts);  // drawn off-screen (export_figure)
  void (*share_cb_)(const char*) = nullptr;
  void (*load_url_cb_)(const char*) = nullptr;
  void (*cancel_download_cb_)() = nullptr;
  void (*hint_dismissed_cb_)() = nullptr;
  void (*need_atlas_cb_)() = nullptr;
  bool atlas_asked_ = false, atlas_missing_ = false;
  bool atlas_usable(const AtlasInfo* atlas);  // says why not, and asks the page for the atlas the first time
  void (*open_rules_cb_)() = nullptr;
  std::string share_base_ = "lrpscope/index.html";
  struct FileDialog {
    bool open = false, want_open = false;
    FileKind kind = FileKind::Image;
    std::string dir;
    char path[1024] = {0};
    struct Entry {
      std::string name;
      bool dir;
    };
    std::vector<Entry> entries;
    std::string error;
  } files_;
  // the pixel under the cursor on the input view (for the test hook): x, y, relevance; x < 0 when none
  int hover_x_ = -1, hover_y_ = -1;
  float hover_value_ = 0;
  bool embed_ = false;
  bool open_share_ = false, open_url_ = false;
  std::string share_link_, share_snippet_, share_copied_;
  std::vector<std::string> share_limits_;
  std::string rules_loaded_;  // the name of the last rules file applied
  char url_buf_[1024] = "https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors";
};

}  // namespace lrp::app
