// Layout, menu bar, status bar, help, first-run hint, shortcuts, state JSON and export.
#include <dirent.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include "app/ui.h"
#include "explain/conditional.h"
#include "explain/neuron_graph.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

const char* tab_name(Tab t) {
  switch (t) {
    case Tab::Graph: return "Graph";
    case Tab::Neuron: return "Neuron";
    case Tab::Layers: return "Layers";
    case Tab::Rules: return "Rules";
    case Tab::Optimizer: return "Optimiser";
    case Tab::Evaluation: return "Evaluation";
  }
  return "?";
}

static std::vector<std::string> list_png(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) == ".png") out.push_back(n.substr(0, n.size() - 4));
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Ui::init(Session* s, const std::string& asset_dir, float ui_scale, std::string* error) {
  s_ = s;
  asset_dir_ = asset_dir;
  scale_ = ui_scale;
  for (const char* group : {"fashion", "imagenet"})
    for (const auto& n : list_png(asset_dir + "/samples/" + group))
      samples_.push_back({std::string(group) + "/" + n, asset_dir + "/samples/" + group + "/" + n + ".png"});
  return renderer_.init(error);
}

bool Ui::load_sample(const std::string& name) {
  for (const auto& sm : samples_)
    if (sm.name == name) return s_->load_image_file(sm.path, sm.name);
  return false;
}

void Ui::help_text(const char* id, const char* text) {
  bool& open = help_open_[id];
  ImGui::SameLine(ImGui::GetContentRegionAvail().x + ImGui::GetCursorPosX() - ImGui::GetFrameHeight());
  ImGui::PushID(id);
  if (ImGui::SmallButton(open ? "x" : "?")) open = !open;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip(open ? "Hide the explanation" : "What am I looking at?");
  ImGui::PopID();
  if (open) {
    ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.16f, 0.2f, 0.28f, 1.0f));
    ImGui::BeginChild((std::string(id) + "_help").c_str(), ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 4.2f), true);
    ImGui::TextWrapped("%s", text);
    ImGui::EndChild();
    ImGui::PopStyleColor();
  }
}

void Ui::mark(const std::string& name) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  rects_[name] = {a.x, a.y, b.x, b.y};
}

void Ui::mark_rect(const std::string& name, float x0, float y0, float x1, float y1) { rects_[name] = {x0, y0, x1, y1}; }

void Ui::frame(int width, int height) {
  ++frames_;
  rects_prev_.swap(rects_);
  rects_.clear();
  ensure_base_textures();
  shortcuts();
  const float W = static_cast<float>(width), H = static_cast<float>(height);
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(W, H));
  ImGui::SetNextWindowBgAlpha(0.0f);  // the GL clear colour is the background: one full-screen fill less per frame
  ImGui::Begin("lrpscope", nullptr,
               ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoCollapse | (embed_ ? 0 : ImGuiWindowFlags_MenuBar) |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollbar);
  if (!embed_) menu_bar();
  if (embed_) {
    embed_frame(W, H);
    status_bar(W, 0);
    share_popup();
    ImGui::End();
    return;
  }
  const ImGuiStyle& st = ImGui::GetStyle();
  const float status_h = ImGui::GetFrameHeightWithSpacing() + st.WindowPadding.y;
  const float avail_h = ImGui::GetContentRegionAvail().y - status_h;
  const float avail_w = ImGui::GetContentRegionAvail().x;
  const bool narrow = avail_w < 900 * scale_;
  const float left_w = std::floor(narrow ? avail_w * 0.44f : std::min(avail_w * 0.40f, avail_h * 0.95f));
  ImGui::BeginChild("left", ImVec2(left_w, avail_h), false);
  const float pred_h = std::floor(ImGui::GetTextLineHeightWithSpacing() * 9.2f);
  input_panel(left_w, avail_h - pred_h - st.ItemSpacing.y);
  predictions_panel(left_w, pred_h);
  ImGui::EndChild();
  ImGui::SameLine();
  tabs_panel(avail_w - left_w - st.ItemSpacing.x, avail_h);
  status_bar(W, status_h);
  share_popup();
  url_popup();
  ImGui::End();
  if (show_hint_) hint_window(W, H);
}

void Ui::menu_bar() {
  if (!ImGui::BeginMenuBar()) return;
  ImGui::TextColored(ImVec4(1.0f, 0.55f, 0.35f, 1.0f), "lrpscope");
  if (ImGui::BeginMenu("Model")) {
    ImGui::TextDisabled("%s", s_->model_name().c_str());
    if (ImGui::MenuItem("Default model (Fashion-MNIST VGG16)"))
      s_->load_model_file(asset_dir_ + "/models/fashion-vgg16.safetensors", "fashion-vgg16");
    if (open_model_cb_ && ImGui::MenuItem("Open weights (.safetensors)...")) open_model_cb_();
    if (load_url_cb_ && ImGui::MenuItem("Load weights from a URL (e.g. the ImageNet VGG16)...")) open_url_ = true;
    ImGui::EndMenu();
  }
  const bool image_menu = ImGui::BeginMenu("Image");
  mark("menu:image");
  if (image_menu) {
    if (open_image_cb_ && ImGui::MenuItem("Open image...", "O")) open_image_cb_();
    ImGui::Separator();
    for (const auto& sm : samples_) {
      if (ImGui::MenuItem(sm.name.c_str(), nullptr, s_->image_name() == sm.name)) load_sample(sm.name);
      mark("sample:" + sm.name);
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Export")) {
    if (ImGui::MenuItem("Heatmap, graph, reconstructions (PNG) and state (JSON)")) {
      const auto files = export_files("lrpscope");
      last_export_.clear();
      for (const auto& f : files) last_export_ += f + " ";
      if (download_cb_)
        for (const auto& f : files) download_cb_(f.c_str());
    }
    if (!last_export_.empty()) ImGui::TextDisabled("wrote %s", last_export_.c_str());
    ImGui::EndMenu();
  }
  if (share_cb_) {
    if (ImGui::MenuItem("Share")) share_cb_(share_query().c_str());
    mark("share");
  }
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Show the first-steps hint", nullptr, &show_hint_);
    ImGui::Separator();
    ImGui::TextDisabled("Shortcuts: 1-6 tabs, left/right samples, M view mode,");
    ImGui::TextDisabled("C colour map, T top-1 class, Esc cancel");
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
}

void Ui::status_bar(float w, float h) {
  ImGui::Separator();
  auto net = s_->network();
  if (net) {
    ImGui::TextDisabled("%s  %.1f MB  %s", s_->model_name().c_str(), s_->model_bytes() / 1e6,
                        net->spec().arch_name().c_str());
  }
  ImGui::SameLine();
  const Timings& t = s_->timings();
  ImGui::TextDisabled("| forward %.1f ms  LRP %.1f ms  graph %.1f ms", t.forward_ms, t.lrp_ms, t.graph_ms);
  const Session::Download& dl = s_->download();
  if (dl.active) {
    ImGui::SameLine();
    char buf[160];
    if (dl.total > 0)
      std::snprintf(buf, sizeof buf, "%s %.0f / %.0f MB, %.1f MB/s", dl.what.c_str(), dl.loaded / 1e6, dl.total / 1e6, dl.speed / 1e6);
    else
      std::snprintf(buf, sizeof buf, "%s %.0f MB, %.1f MB/s", dl.what.c_str(), dl.loaded / 1e6, dl.speed / 1e6);
    ImGui::ProgressBar(dl.total > 0 ? static_cast<float>(dl.loaded / dl.total) : 0.0f, ImVec2(300 * scale_, 0), buf);
    mark("download");
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel download") && cancel_download_cb_) cancel_download_cb_();
    mark("download:cancel");
  }
  if (s_->busy()) {
    ImGui::SameLine();
    ImGui::ProgressBar(static_cast<float>(s_->progress()), ImVec2(160 * scale_, 0), s_->progress_label().c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel")) s_->cancel();
  }
  if (!s_->error().empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.0f, 0.4f, 0.35f, 1.0f), "%s", s_->error().c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("dismiss")) s_->clear_error();
  }
  (void)w;
  (void)h;
}

void Ui::hint_window(float w, float h) {
  const float hw = std::min(440.0f * scale_, w * 0.6f);
  // above the status bar, so its progress bar and Cancel stay reachable
  ImGui::SetNextWindowPos(ImVec2(w - hw - 12 * scale_, h - ImGui::GetFrameHeightWithSpacing() * 1.8f), ImGuiCond_Always,
                          ImVec2(0, 1));
  ImGui::SetNextWindowSize(ImVec2(hw, 0));
  ImGui::SetNextWindowBgAlpha(0.94f);
  ImGui::Begin("First steps", nullptr, ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoCollapse |
                                           ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings);
  ImGui::TextWrapped("The network looked at the picture on the left. Red shows the pixels that made it choose "
                     "its answer, blue the ones that spoke against it. Three things to try:");
  ImGui::Bullet();
  ImGui::TextWrapped("Click another class under Predictions: what would make it say that instead?");
  ImGui::Bullet();
  ImGui::TextWrapped("Hover the circles in the Graph tab: each is a neuron; the yellow path is the strongest chain of evidence.");
  ImGui::Bullet();
  ImGui::TextWrapped("Open the Rules tab and switch the composite: the same decision, explained by other rules.");
  if (ImGui::Button("Got it")) show_hint_ = false;
  mark("hint:ok");
  ImGui::End();
}

void Ui::shortcuts() {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  // digits: ImGui 1.86 maps keys by the backend's key codes; GLFW uses ASCII for digits and letters
  for (int i = 0; i < 6; ++i)
    if (ImGui::IsKeyPressed('1' + i, false)) set_tab(static_cast<Tab>(i));
  auto cycle_sample = [&](int d) {
    if (samples_.empty()) return;
    int cur = 0;
    for (std::size_t i = 0; i < samples_.size(); ++i)
      if (samples_[i].name == s_->image_name()) cur = static_cast<int>(i);
    const int n = static_cast<int>(samples_.size());
    load_sample(samples_[static_cast<std::size_t>((cur + d + n) % n)].name);
  };
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) cycle_sample(1);
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) cycle_sample(-1);
  if (ImGui::IsKeyPressed('M', false)) view_.mode = (view_.mode + 1) % 5;
  if (ImGui::IsKeyPressed('C', false)) view_.cmap = static_cast<Colormap>((static_cast<int>(view_.cmap) + 1) % 6);
  if (ImGui::IsKeyPressed('T', false)) s_->set_target(Target::top1());
  if (ImGui::IsKeyPressed('O', false) && open_image_cb_) open_image_cb_();
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) s_->cancel();
}

std::string Ui::state_json() const {
  nlohmann::ordered_json j;
  auto net = s_->network();
  j["model"] = s_->model_name();
  j["model_source"] = s_->model_source();
  j["model_bytes"] = static_cast<double>(s_->model_bytes());
#ifdef __EMSCRIPTEN__
  j["heap_mb"] = static_cast<double>(emscripten_get_heap_size()) / (1024.0 * 1024.0);  // only grows: the peak
#endif
  j["embed"] = embed_;
  j["cmap"] = colormap_name(view_.cmap);
  j["alpha"] = view_.alpha;
  j["graph_k"] = s_->settings().graph_k;
  j["download"] = {{"active", s_->download().active}, {"loaded", s_->download().loaded}, {"total", s_->download().total}};
  j["image"] = s_->image_name();
  const ForwardPass* fwd = s_->forward();
  const Explanation* ex = s_->explanation();
  if (fwd && net) {
    const Tensor& l = fwd->logits();
    int best = 0;
    for (std::size_t i = 1; i < l.size(); ++i)
      if (l[i] > l[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
    j["predicted"] = best;
    j["predicted_label"] = net->label(best);
    j["logits"] = std::vector<float>(l.data(), l.data() + l.size());
  } else {
    j["predicted"] = nullptr;
  }
  if (ex && net) {
    j["target"] = ex->target_class();
    j["target_label"] = net->label(ex->target_class());
    j["target_logit"] = ex->target_logit();
    j["input_relevance_sum"] = ex->input_sum();
    if (s_->settings().target.kind == Target::Kind::Contrast) j["contrast"] = {s_->settings().target.a, s_->settings().target.b};
  }
  j["composite"] = s_->settings().composite.name;
  j["maxpool"] = pool_mode_name(s_->settings().composite.pool);
  const NeuronGraph* g = s_->graph();
  j["graph_nodes"] = g ? static_cast<int>(g->nodes.size()) : 0;
  j["graph_edges"] = g ? static_cast<int>(g->edges.size()) : 0;
  if (g && net) {
    nlohmann::ordered_json gl = nlohmann::ordered_json::array();
    for (int l : g->layers) gl.push_back(net->layer(l).name);
    j["graph_layers"] = gl;
    nlohmann::ordered_json path = nlohmann::ordered_json::array();
    for (int n : g->path) path.push_back(g->nodes[static_cast<std::size_t>(n)].id);
    j["path"] = path;
  }
  const NeuronDetail* d = s_->detail();
  if (d && net) j["selected_neuron"] = {{"layer", net->layer(d->layer).name}, {"index", d->index}, {"relevance", d->relevance}};
  else j["selected_neuron"] = nullptr;
  j["tab"] = tab_name(tab_);
  j["frames"] = frames_;
  j["busy"] = s_->busy();
  j["progress"] = s_->progress();
  j["progress_label"] = s_->progress_label();
  j["frame_budget_ms"] = s_->budget_ms();  // the work budget per frame right now
  nlohmann::ordered_json curves = nlohmann::ordered_json::array();
  for (const auto& c : s_->curves())
    if (net && c.layer >= 0 && c.layer < net->size()) curves.push_back({{"layer", net->layer(c.layer).name}, {"chosen_k", c.chosen_k}});
  j["optimiser"] = curves;
  if (const FlipResult* f = s_->flip(0)) j["flip"] = {{"aopc", f->aopc_lrp}, {"aopc_random", f->aopc_random}};
  else j["flip"] = nullptr;
  j["error"] = s_->error();
  j["samples"] = static_cast<int>(samples_.size());
  j["hint"] = show_hint_;
  nlohmann::ordered_json rects = nlohmann::ordered_json::object();
  for (const auto& [k, r] : rects_prev_) rects[k] = {r[0], r[1], r[2], r[3]};
  j["rects"] = rects;
  j["scale"] = scale_;
  const Timings& t = s_->timings();
  j["timings"] = {{"forward_ms", t.forward_ms}, {"lrp_ms", t.lrp_ms}, {"graph_ms", t.graph_ms}, {"detail_ms", t.detail_ms}};
  return j.dump();
}

}  // namespace lrp::app
