// The Dear ImGui front end: one window filling the canvas, an input view with the shader-drawn heatmap, the
// predictions, and tabs for the neuron graph, neuron detail, layer explorer, rules, optimiser and evaluation.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "app/gl_util.h"
#include "app/session.h"
#include "explain/heatmap.h"

struct ImVec2;

namespace lrp::app {

enum class Tab { Graph, Neuron, Layers, Rules, Optimizer, Evaluation };
const char* tab_name(Tab t);

struct ViewOptions {
  int mode = 0;  // 0 overlay, 1 side by side, 2 heatmap only, 3 positive only, 4 negative only
  Colormap cmap = Colormap::BWR;
  float alpha = 0.8f;
  float percentile = 99.5f;
  bool gray = true;
};

struct Sample {
  std::string name;  // "fashion/sneaker-1"
  std::string path;
};

class Ui {
 public:
  bool init(Session* s, const std::string& asset_dir, float ui_scale, std::string* error);
  void frame(int width, int height);  // builds the whole UI for one frame
  void set_tab(Tab t) { tab_ = t; request_tab_ = true; }
  void dismiss_hint() { show_hint_ = false; }
  bool hint_visible() const { return show_hint_; }
  Tab tab() const { return tab_; }
  const std::vector<Sample>& samples() const { return samples_; }
  bool load_sample(const std::string& name);
  long long frames() const { return frames_; }
  std::string state_json() const;
  // URL parameters (already parsed by the page into JSON): composite, target, layers, k, neuron, panel, cmap,
  // alpha, embed. Returns an error text ("" when all applied).
  std::string apply_params(const std::string& json);
  // The query string that reproduces the current state (the page turns it into a permalink).
  std::string share_query() const;
  void show_share(const std::string& link, const std::string& snippet);
  void set_embed(bool e) { embed_ = e; }
  bool embed() const { return embed_; }
  void on_share(void (*cb)(const char* query)) { share_cb_ = cb; }
  void on_load_url(void (*cb)(const char* url)) { load_url_cb_ = cb; }
  void on_cancel_download(void (*cb)()) { cancel_download_cb_ = cb; }
  // Writes heatmap, path heatmap, reconstructions and graph PNGs and the state JSON with the given prefix;
  // returns the files written.
  std::vector<std::string> export_files(const std::string& prefix);
  void on_open_image_request(void (*cb)()) { open_image_cb_ = cb; }
  void on_open_model_request(void (*cb)()) { open_model_cb_ = cb; }
  void on_download(void (*cb)(const char* path)) { download_cb_ = cb; }

 private:
  // panels
  void menu_bar();
  void input_panel(float w, float h);
  void gallery_popup();
  void predictions_panel(float w, float h);
  void status_bar(float w, float h);
  void embed_frame(float w, float h);
  void share_popup();
  void url_popup();
  void tabs_panel(float w, float h);
  void graph_tab();
  void neuron_tab();
  void layers_tab();
  void rules_tab();
  void optimizer_tab();
  void evaluation_tab();
  void help_text(const char* id, const char* text);
  void hint_window(float w, float h);
  void shortcuts();
  // Remembers the last item's rectangle under a name (for the test hook: real clicks on real widgets).
  void mark(const std::string& name);
  void mark_rect(const std::string& name, float x0, float y0, float x1, float y1);
  // drawing helpers
  const Texture& heat_view(int slot, const Tensor& relevance, int size, int mode_override = -1);
  const Texture& lut(Colormap c);
  const Texture& cached_rgb(const std::string& key, const Image& img);
  // scale > 0: the value shown at full colour (shared by a whole layer); 0: each map's own range
  const Texture& cached_map(const std::string& key, const float* v, int w, int h, bool signed_map, Colormap c,
                            float scale = 0.0f);
  void ensure_base_textures();
  bool neuron_tooltip(int layer, int index);

  Session* s_ = nullptr;
  HeatmapRenderer renderer_;
  std::map<int, Texture> luts_;
  struct Cached {
    long long gen = -1;
    Texture tex;
  };
  std::map<std::string, Cached> cache_;
  Texture image_tex_;
  struct HeatSlot {
    Texture heat;
    const void* src = nullptr;
    long long gen = -1;
    std::vector<float> h;
    float vmax = 0, percentile = -1;
    bool rendered = false;
    std::tuple<int, int, int, int, float, bool, float> key;
    const Texture* out = nullptr;
  };
  std::map<int, HeatSlot> heat_slots_;
  long long base_gen_ = -1;
  ViewOptions view_;
  Tab tab_ = Tab::Graph;
  bool request_tab_ = false;
  std::vector<Sample> samples_;
  std::map<std::string, Texture> sample_thumbs_;
  Texture original_tex_;
  long long original_gen_ = -1;
  std::string asset_dir_;
  float scale_ = 1.0f;
  long long frames_ = 0;
  bool show_hint_ = true;
  std::map<std::string, bool> help_open_;
  // graph view
  float graph_zoom_ = 1.0f;
  float graph_pan_x_ = 0, graph_pan_y_ = 0;
  int hover_node_ = -1;
  // layer explorer
  int explorer_layer_ = -1;
  bool explorer_relevance_ = true;
  float explorer_zoom_ = 1.0f;
  // optimiser view
  int optimizer_layer_ = -1;
  // evaluation
  int compare_preset_ = 1;
  // contrast picking
  bool contrast_mode_ = false;
  int contrast_a_ = -1;
  // open-path box (native)
  char path_buf_[512] = {0};
  std::string last_export_;
  std::map<std::string, std::array<float, 4>> rects_, rects_prev_;
  void (*open_image_cb_)() = nullptr;
  void (*open_model_cb_)() = nullptr;
  void (*download_cb_)(const char*) = nullptr;
  void (*share_cb_)(const char*) = nullptr;
  void (*load_url_cb_)(const char*) = nullptr;
  void (*cancel_download_cb_)() = nullptr;
  bool embed_ = false;
  bool open_share_ = false, open_url_ = false;
  std::string share_link_, share_snippet_;
  char url_buf_[1024] = "https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors";
};

}  // namespace lrp::app
