// Layout, menu bar, status bar, help, first-run hint, shortcuts, state JSON and export.
#include <dirent.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <imgui_internal.h>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include "app/ui.h"
#include "explain/conditional.h"
#include "explain/neuron_graph.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

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

bool Ui::init(EngineApi* e, const std::string& asset_dir, float ui_scale, std::string* error) {
  e_ = e;
  refresh();
  asset_dir_ = asset_dir;
  scale_ = ui_scale;
  for (const char* group : {"fashion", "imagenet"})
    for (const auto& n : list_png(asset_dir + "/samples/" + group))
      samples_.push_back({std::string(group) + "/" + n, asset_dir + "/samples/" + group + "/" + n + ".png"});
  return renderer_.init(error);
}

bool Ui::load_sample(const std::string& name) {
  for (const auto& sm : samples_)
    if (sm.name == name) return e_->load_image_file(sm.path, sm.name);
  return false;
}

void Ui::refresh() const {
  if (in_frame_) return;  // while a frame is built its widgets point into the snapshot it started with
  snap_ = e_->snapshot();
  s_ = snap_.get();
  if (s_->applied >= settings_pending_) settings_ = s_->settings;
}

void text_wrapped(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ImGuiWindow* win = ImGui::GetCurrentWindow();
  const float wrap = ImGui::CalcWrapWidthForPos(ImGui::GetCursorScreenPos(), win->DC.TextWrapPos < 0 ? 0.0f : win->DC.TextWrapPos);
  const float width = wrap > 1 ? wrap : ImGui::GetContentRegionAvail().x;
  std::string line, word;
  const char* p = buf;
  auto flush = [&]() {
    ImGui::TextUnformatted(line.c_str());
    line.clear();
  };
  for (;;) {
    const char c = *p;
    if (c == ' ' || c == '\n' || c == 0) {
      if (!word.empty()) {
        const std::string cand = line.empty() ? word : line + " " + word;
        if (!line.empty() && ImGui::CalcTextSize(cand.c_str()).x > width) {
          flush();
          line = word;
        } else {
          line = cand;
        }
        word.clear();
      }
      if (c == '\n' || c == 0) flush();
      if (c == 0) break;
    } else {
      word += c;
    }
    ++p;
  }
}

void Ui::help_text(const char* id, const char* text) {
  bool& open = help_open_[id];
  // at the right end of the line, or right-aligned on a line of its own when the line is full
  const float bw = ImGui::CalcTextSize(open ? "x" : "?").x + ImGui::GetStyle().FramePadding.x * 2;
  const float x = ImGui::GetWindowContentRegionMax().x - bw;
  const float prev_end = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x + ImGui::GetScrollX();
  if (prev_end + ImGui::GetStyle().ItemSpacing.x <= x) ImGui::SameLine(x);
  else ImGui::SetCursorPosX(x);
  ImGui::PushID(id);
  if (small_button(open ? "x" : "?")) open = !open;
  tip((std::string("help:") + id).c_str(), open ? "Hide the explanation." : "What am I looking at? A few sentences on this view.");
  ImGui::PopID();
  if (open) {
    ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.16f, 0.2f, 0.28f, 1.0f));
    ImGui::BeginChild((std::string(id) + "_help").c_str(), ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 4.2f), true);
    text_wrapped("%s", text);
    ImGui::EndChild();
    ImGui::PopStyleColor();
  }
}

void Ui::tip(const char* name, const char* fmt, ...) {
  mark(name);
  const bool nav_here = ImGui::GetIO().NavVisible && ImGui::IsItemFocused();
  if (!ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled) && !nav_here) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  show_tip(name, buf);
}

void Ui::show_tip(const std::string& name, const std::string& text) {
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(std::min(ImGui::GetIO().DisplaySize.x * 0.85f, 380.0f * scale_));
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
  tip_name_ = name;
  tip_text_ = text;
}

bool Ui::small_button(const char* label) { return touch_ ? ImGui::Button(label) : ImGui::SmallButton(label); }

void Ui::set_touch(bool on) {
  if (on == touch_) return;
  touch_ = on;
  // frames (buttons, fields, check boxes, tabs, menu items) 40 points high: the font plus the padding
  ImGuiStyle& st = ImGui::GetStyle();
  if (on) {
    base_style_ = st;
    const float font = ImGui::GetFontSize() > 0 ? ImGui::GetFontSize() : 15.0f * scale_;
    st.FramePadding = ImVec2(10 * scale_, std::max(st.FramePadding.y, std::ceil((40 * scale_ - font) / 2)));
    st.ItemSpacing = ImVec2(8 * scale_, 8 * scale_);
    st.ItemInnerSpacing = ImVec2(8 * scale_, 6 * scale_);
    st.ScrollbarSize = 18 * scale_;
    st.GrabMinSize = 24 * scale_;
    st.TouchExtraPadding = ImVec2(4 * scale_, 4 * scale_);
  } else {
    st = base_style_;
  }
}

void Ui::mark(const std::string& name) {
  // (a panel scrolled out of sight submits no items: the last item is then someone else's)
  if (ImGui::GetCurrentWindow()->SkipItems) return;
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  rects_[name] = {a.x, a.y, b.x, b.y};
}

void Ui::mark_rect(const std::string& name, float x0, float y0, float x1, float y1) { rects_[name] = {x0, y0, x1, y1}; }

void Ui::frame(int width, int height) {
  in_frame_ = false;
  refresh();
  in_frame_ = true;
  drawn_frames_ = s_->generation == drawn_generation_ ? drawn_frames_ + 1 : 1;
  drawn_generation_ = s_->generation;
  ++frames_;
  hover_req_ = {-1, -1};
  layer_req_ = -1;
  refs_req_ = {-1, -1};
  concepts_req_ = {-1, 0};
  rects_prev_.swap(rects_);
  rects_.clear();
  tip_prev_name_.swap(tip_name_);
  tip_prev_text_.swap(tip_text_);
  tip_name_.clear();
  tip_text_.clear();
  hover_x_ = hover_y_ = -1;
  ensure_base_textures();
  predict_sync();
  whatif_sync();
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
    if (lesson_.open()) {
      const float lw = ImGui::GetContentRegionAvail().x;
      lesson_panel(lw, lesson_height(lw, H * 0.34f));
    }
    embed_frame(W, H);
    status_bar(W, 0);
    share_popup();
    ImGui::End();
    in_frame_ = false;
    run_actions();
    send_requests();
    return;
  }
  const ImGuiStyle& st = ImGui::GetStyle();
  const float status_h = ImGui::GetFrameHeightWithSpacing() + st.WindowPadding.y;
  if (lesson_.open()) {  // the lesson's step above the views
    const float lw = ImGui::GetContentRegionAvail().x;
    lesson_panel(lw, lesson_height(lw, (ImGui::GetContentRegionAvail().y - status_h) * 0.36f));
  }
  const float avail_h = ImGui::GetContentRegionAvail().y - status_h;
  const float avail_w = ImGui::GetContentRegionAvail().x;
  if (avail_w < 800 * scale_ || avail_h < 480 * scale_) column_layout(avail_w, avail_h);  // phones, tablets upright
  else columns_layout(avail_w, avail_h);
  status_bar(W, status_h);
  share_popup();
  url_popup();
  file_dialog();
  ImGui::End();
  lesson_editor();
  if (show_hint_) hint_window(W, H);
  in_frame_ = false;
  run_actions();
  send_requests();
}

void Ui::columns_layout(float w, float h) {
  layout_ = "columns";
  const ImGuiStyle& st = ImGui::GetStyle();
  const bool narrow = w < 900 * scale_;
  const float left_w = std::floor(narrow ? w * 0.44f : std::min(w * 0.40f, h * 0.95f));
  ImGui::BeginChild("left", ImVec2(left_w, h), false, ImGuiWindowFlags_NavFlattened);  // (the arrow keys cross into it)
  const float pred_h = std::floor(ImGui::GetTextLineHeightWithSpacing() * 9.2f);
  input_panel(left_w, h - pred_h - st.ItemSpacing.y);
  predictions_panel(left_w, pred_h);
  ImGui::EndChild();
  ImGui::SameLine();
  tabs_panel(w - left_w - st.ItemSpacing.x, h);
}

void Ui::column_layout(float w, float h) {
  ImGui::BeginChild("column", ImVec2(w, h), false, graph_wheel_ ? ImGuiWindowFlags_NoScrollWithMouse : 0);
  const ImGuiStyle& st = ImGui::GetStyle();
  const float cw = ImGui::GetContentRegionAvail().x;
  // the title line, five classes, the line saying what is explained
  const float row = touch_ ? ImGui::GetFrameHeight() + st.ItemSpacing.y : ImGui::GetTextLineHeight() + 4 + st.ItemSpacing.y;
  const float pred_h = std::floor(ImGui::GetFrameHeightWithSpacing() + row * 5 + ImGui::GetTextLineHeightWithSpacing() +
                                  st.WindowPadding.y * 2 + 2);
  // (on phones the graph's controls take several rows: its panel is longer, so the graph keeps most of a screen)
  const float tabs_h = std::max(h * 0.92f, 480 * scale_) + (cw < 560 * scale_ && tab_ == Tab::Graph ? h * 0.6f : 0.0f);
  const bool tablet = cw >= 560 * scale_;
  layout_ = tablet ? "tablet" : "phone";
  if (tablet) {  // tablets upright: the picture and the predictions side by side, then the panel
    const float in_w = std::floor(cw * 0.56f);
    // upright tablets keep the panel in view below; low screens (phones on their side) give the picture most of it
    const float side = h >= 700 * scale_ ? std::min(in_w, h * 0.5f - input_extra_height(in_w)) : std::min(in_w, h * 0.8f);
    const float in_h = std::max(side, 120 * scale_) + input_extra_height(in_w);
    input_panel(in_w, in_h);
    ImGui::SameLine();
    predictions_panel(cw - in_w - st.ItemSpacing.x, in_h);
  } else {  // phones: the picture, the predictions, the panel
    const float side = std::min(cw, h * 0.62f);
    input_panel(cw, side + input_extra_height(cw));
    predictions_panel(cw, pred_h);
  }
  tabs_panel(cw, tabs_h);
  // a finger (or a mouse) dragged where no control takes it scrolls the column
  // (a press on a window's empty part makes its move handle active, although nothing moves here)
  ImGuiIO& io = ImGui::GetIO();
  const ImGuiContext& g = *GImGui;
  const bool no_control = g.ActiveId == 0 || (g.ActiveIdWindow && g.ActiveId == g.ActiveIdWindow->MoveId);
  if (ImGui::IsWindowHovered(ImGuiHoveredFlags_ChildWindows | ImGuiHoveredFlags_AllowWhenBlockedByActiveItem) &&
      ImGui::IsMouseDragging(0, 4.0f) && no_control) {
    // the panel under the finger scrolls first (a long panel inside the column), and the column once it is at its end
    ImGuiWindow* column = ImGui::GetCurrentWindow();
    ImGuiWindow* target = g.HoveredWindow ? g.HoveredWindow : column;
    const float dy = -io.MouseDelta.y;
    auto can_scroll = [&](ImGuiWindow* win) {
      return win->ScrollMax.y > 0 && !(win->Flags & ImGuiWindowFlags_NoScrollWithMouse) &&
             (dy > 0 ? win->Scroll.y < win->ScrollMax.y : win->Scroll.y > 0);
    };
    while (target != column && target->ParentWindow && !can_scroll(target)) target = target->ParentWindow;
    ImGui::SetScrollY(target, target->Scroll.y + dy);
  }
  mark_rect("column", ImGui::GetWindowPos().x, ImGui::GetWindowPos().y, ImGui::GetWindowPos().x + w, ImGui::GetWindowPos().y + h);
  column_scroll_ = ImGui::GetScrollY();
  ImGui::EndChild();
}

// What the frame showed asks the engine for its display data: the tooltip's neuron and the explorer's layer.
void Ui::send_requests() {
  if (hover_req_ != hover_sent_) {
    hover_sent_ = hover_req_;
    e_->hover(hover_req_.first, hover_req_.second);
  }
  if (layer_req_ != layer_sent_) {
    layer_sent_ = layer_req_;
    e_->want_layer(layer_req_);
  }
  if (concepts_req_ != concepts_sent_) {
    concepts_sent_ = concepts_req_;
    e_->want_concepts(concepts_req_.first, concepts_req_.second);
  }
  if (refs_req_ != refs_sent_) {
    refs_sent_ = refs_req_;
    e_->want_references(refs_req_.first, refs_req_.second);
  }
  if ((view_.nodes == 2) != node_heat_sent_) {  // the graph's nodes as heatmaps (the combo, or a link)
    node_heat_sent_ = view_.nodes == 2;
    e_->want_node_heat(node_heat_sent_);
  }
  if (const std::pair<bool, int> nr{view_.nodes == 3, concepts_by_}; nr != node_refs_sent_) {  // ... as references
    node_refs_sent_ = nr;
    e_->want_node_refs(nr.first, nr.second);
  }
}

bool Ui::wants_frames() const {
  return ImGui::GetCurrentContext() && (ImGui::GetIO().WantTextInput || files_.open);
}

ImVec2 Ui::fit(int w, int h, float box_w, float box_h) {
  if (w <= 0 || h <= 0) return ImVec2(box_w, box_h);
  const float k = std::min(box_w / w, box_h / h);
  return ImVec2(std::floor(w * k), std::floor(h * k));
}

void Ui::flow(float w) {
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  if (ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + w <= right) ImGui::SameLine();
}

float Ui::check_width(const char* label) {
  return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label).x;
}

void Ui::run_actions() {
  std::vector<std::function<void()>> now;
  now.swap(actions_);
  for (auto& f : now) f();
}

void Ui::menu_bar() {
  if (!ImGui::BeginMenuBar()) return;
  ImGui::TextColored(ImVec4(1.0f, 0.55f, 0.35f, 1.0f), "lrpscope");
  const bool model_menu = ImGui::BeginMenu("Model");
  mark("menu:model");
  if (model_menu) {
    ImGui::TextDisabled("%s", s_->model_name().c_str());
    if (ImGui::MenuItem("Default model (Fashion-MNIST VGG16)"))
      post([this] { e_->load_model_file(asset_dir_ + "/models/fashion-vgg16.safetensors", "fashion-vgg16"); });
    if (ImGui::MenuItem("Open weights (.safetensors, .pth, .onnx)...")) request_open_model();
    mark("menu:model:open");
    if (load_url_cb_ && ImGui::MenuItem("Load weights from a URL (e.g. the ImageNet VGG16)...")) open_url_ = true;
    mark("menu:model:url");
    ImGui::Separator();
    if (ImGui::MenuItem("Open a reference atlas (.atlas)...")) request_open_atlas();
    tip("menu:model:atlas", "The pictures that show what each channel is about, made for this model by lrpscope "
                            "atlas (the default model's comes with the app). Dropping the file on the app opens it too.");
    ImGui::EndMenu();
  }
  const bool image_menu = ImGui::BeginMenu("Image");
  mark("menu:image");
  if (image_menu) {
    if (ImGui::MenuItem("Open image...", "O")) request_open_image();
    mark("menu:image:open");
    ImGui::Separator();
    for (int fits = 1; fits >= 0; --fits) {
      bool first = true;
      for (const auto& sm : samples_) {
        if (sample_fits(sm.name) != (fits == 1)) continue;
        if (first && !fits) {
          ImGui::Separator();
          ImGui::TextDisabled("for another model:");
        }
        first = false;
        if (ImGui::MenuItem(sm.name.c_str(), nullptr, s_->image_name() == sm.name)) post([this, n = sm.name] { load_sample(n); });
        mark("sample:" + sm.name);
      }
    }
    ImGui::EndMenu();
  }
  const bool export_menu = ImGui::BeginMenu("Export");
  mark("menu:export");
  if (export_menu) {
    if (ImGui::MenuItem(download_zip_cb_ ? "Figure for slides and papers (one zip)" : "Figure for slides and papers (one folder)"))
      export_now();
    mark("export:figure");
    tip("export:figure", "One figure: the picture, its heatmap with the colour bar and the class, the explanation in "
                         "words and the neuron graph with its labels and legend, at twice the screen's size (PNG); the "
                         "graph as SVG; the rules as a rules file; the view as JSON with its link.");
    if (!last_export_.empty()) ImGui::TextDisabled("wrote %s", last_export_.c_str());
    ImGui::EndMenu();
  }
  const bool lesson_menu = ImGui::BeginMenu("Lesson");
  mark("menu:lesson");
  if (lesson_menu) {
    if (ImGui::MenuItem("Open a lesson...")) request_open_lesson();
    mark("menu:lesson:open");
    if (ImGui::MenuItem("Add this view as a step")) post([this] { lesson_add_view(); });
    mark("menu:lesson:add");
    tip("menu:lesson:add", "Start a lesson (or add to the one open) with the app as it is now: picture, class, rules, "
                           "neuron, view and panel. Write the step's text in the lesson editor.");
    if (ImGui::MenuItem("Edit the lesson", nullptr, lesson_edit_, lesson_.open())) lesson_edit_ = !lesson_edit_;
    mark("menu:lesson:edit");
    if (ImGui::MenuItem("Close the lesson", nullptr, false, lesson_.open())) post([this] { lesson_ = LessonState(); lesson_edit_ = false; });
    ImGui::EndMenu();
  }
  if (ImGui::MenuItem("Share")) request_share();
  mark("share");
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Show the first-steps hint", nullptr, &show_hint_);
    ImGui::Separator();
    ImGui::TextDisabled("Shortcuts: 1-7 tabs, left/right samples (in a lesson: its steps), M view mode,");
    ImGui::TextDisabled("C colour map, T top-1 class, O open an image,");
    ImGui::TextDisabled("Esc close a menu or dialog, else cancel the work");
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
}

void Ui::status_bar(float w, float h) {
  ImGui::Separator();
  auto net = s_->network();
  if (net) {
    ImGui::TextDisabled("%s  %.1f MB  %s%s", s_->model_name().c_str(), s_->model_bytes() / 1e6,
                        net->spec().arch_name().c_str(), net->info().canonized.empty() ? "" : " (canonised)");
    if (!net->info().canonized.empty())
      tip("model:canonised", "To explain it, the model was canonised at load: %s. Its outputs are unchanged; LRP "
                             "sees a convolution and its ReLU where the checkpoint has three layers (as zennit's "
                             "canonizers do).", net->info().canonized.c_str());
  }
  ImGui::SameLine();
  const Timings& t = s_->timings;
  ImGui::TextDisabled("| forward %.1f ms  LRP %.1f ms  graph %.1f ms", t.forward_ms, t.lrp_ms, t.graph_ms);
  tip("timings", "How long the engine computed, for this picture: forward = the network's prediction, LRP = the "
                 "relevance of every layer back to the pixels, graph = the neuron graph with its conditional "
                 "relevances. Everything runs on this computer%s.",
      e_->mode() == EngineApi::Mode::Remote ? ", in a worker beside the page" : "");
  const Session::Download& dl = s_->download;
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
    if (small_button("Cancel download") && cancel_download_cb_) cancel_download_cb_();
    mark("download:cancel");
  }
  if (s_->busy) {
    ImGui::SameLine();
    ImGui::ProgressBar(static_cast<float>(s_->progress), ImVec2(160 * scale_, 0), s_->progress_label.c_str());
    ImGui::SameLine();
    if (small_button("Cancel")) post([this] { e_->cancel(); });
  }
  if (!s_->error.empty()) {
    // the dismiss button first, so it stays on screen however long the message is; the text is cut to the
    // space left and shown whole when hovered
    ImGui::SameLine();
    if (small_button("dismiss")) post([this] { e_->clear_error(); });
    mark("error:dismiss");
    ImGui::SameLine();
    const std::string& e = s_->error;
    const float room = ImGui::GetContentRegionAvail().x - 4;
    std::string shown = e;
    if (ImGui::CalcTextSize(shown.c_str()).x > room) {
      std::size_t lo = 0, hi = e.size();
      while (lo < hi) {  // the longest prefix that fits with the ellipsis
        const std::size_t mid = (lo + hi + 1) / 2;
        if (ImGui::CalcTextSize((e.substr(0, mid) + "...").c_str()).x <= room) lo = mid;
        else hi = mid - 1;
      }
      shown = e.substr(0, lo) + "...";
    }
    ImGui::TextColored(ImVec4(1.0f, 0.4f, 0.35f, 1.0f), "%s", shown.c_str());
    mark("error");
    if (shown != e && ImGui::IsItemHovered()) {
      ImGui::BeginTooltip();
      ImGui::PushTextWrapPos(std::min(ImGui::GetIO().DisplaySize.x * 0.9f, 640.0f * scale_));
      ImGui::TextUnformatted(e.c_str());
      ImGui::PopTextWrapPos();
      ImGui::EndTooltip();
    }
  }
  (void)w;
  (void)h;
}

void Ui::hint_window(float w, float h) {
  // small, in the corner of the graph panel; a phone gets most of the width
  const float hw = w < 700 * scale_ ? w * 0.9f : std::min(340.0f * scale_, w * 0.34f);
  // above the status bar, so its progress bar and Cancel stay reachable
  ImGui::SetNextWindowPos(ImVec2(w - hw - 12 * scale_, h - ImGui::GetFrameHeightWithSpacing() * 1.8f), ImGuiCond_Always,
                          ImVec2(0, 1));
  ImGui::SetNextWindowSize(ImVec2(hw, 0));
  ImGui::SetNextWindowBgAlpha(0.94f);
  ImGui::Begin("First steps", nullptr, ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoCollapse |
                                           ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings);
  text_wrapped("Red pixels made the network choose its answer, blue ones spoke against it. Try:");
  ImGui::Bullet();
  text_wrapped("another class under Predictions;");
  ImGui::Bullet();
  text_wrapped("a circle in the Graph (point at it or tap it): a neuron; yellow is the strongest chain;");
  ImGui::Bullet();
  text_wrapped("another composite in the Rules tab.");
  if (ImGui::Button("Got it")) dismiss_hint();
  mark("hint:ok");
  mark_rect("hint", ImGui::GetWindowPos().x, ImGui::GetWindowPos().y, ImGui::GetWindowPos().x + ImGui::GetWindowSize().x,
            ImGui::GetWindowPos().y + ImGui::GetWindowSize().y);
  ImGui::End();
}

void Ui::set_keyboard_nav(bool on) {
  ImGuiIO& io = ImGui::GetIO();
  keyboard_nav_ = on;
  if (on) {
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    ImGui::NavMoveRequestCancel();  // Tab's own request (it would put a slider into text input)
    if (ImGuiWindow* w = ImGui::FindWindowByName("lrpscope")) {
      ImGui::FocusWindow(w);
      ImGui::NavInitWindow(w, true);  // the cursor on the window's first control
    }
    GImGui->NavDisableHighlight = false;
  } else {
    io.ConfigFlags &= ~ImGuiConfigFlags_NavEnableKeyboard;
  }
}

void Ui::shortcuts() {
  ImGuiIO& io = ImGui::GetIO();
  const bool popup_was_open = popup_was_open_;
  popup_was_open_ = ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId);
  if (keyboard_nav_ && (io.MouseClicked[0] || io.MouseClicked[1])) set_keyboard_nav(false);
  if (io.WantTextInput) return;
  const int tab_key = ImGui::GetKeyIndex(ImGuiKey_Tab);
  if (!keyboard_nav_ && !io.KeyCtrl && !io.KeyAlt && ImGui::IsKeyPressed(tab_key, false)) set_keyboard_nav(true);
  // digits: ImGui 1.86 maps keys by the backend's key codes; GLFW uses ASCII for digits and letters
  for (int i = 0; i < kTabCount; ++i)
    if (ImGui::IsKeyPressed('1' + i, false)) set_tab(static_cast<Tab>(i));
  auto cycle_sample = [&](int d) {
    if (samples_.empty()) return;
    int cur = 0;
    for (std::size_t i = 0; i < samples_.size(); ++i)
      if (samples_[i].name == s_->image_name()) cur = static_cast<int>(i);
    const int n = static_cast<int>(samples_.size());
    post([this, nm = samples_[static_cast<std::size_t>((cur + d + n) % n)].name] { load_sample(nm); });
  };
  lesson_shortcuts();
  if (!keyboard_nav_ && !lesson_.open()) {  // with keyboard navigation the arrows move between the controls; in a lesson they move between its steps
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) cycle_sample(1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) cycle_sample(-1);
  }
  if (ImGui::IsKeyPressed('M', false)) view_.mode = static_cast<ViewMode>((static_cast<int>(view_.mode) + 1) % 5);
  if (ImGui::IsKeyPressed('C', false)) view_.cmap = static_cast<Colormap>((static_cast<int>(view_.cmap) + 1) % 6);
  if (ImGui::IsKeyPressed('T', false)) post([this] { send_target(Target::top1()); });
  if (ImGui::IsKeyPressed('O', false)) request_open_image();
  // Esc closes an open drop-down, menu or dialog (with keyboard navigation ImGui has already closed it when this
  // runs: the popup open at the end of the last frame says so); with none open it ends keyboard navigation, else
  // it cancels the work
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) {
    if (ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId)) ImGui::ClosePopupToLevel(0, true);
    else if (!popup_was_open && keyboard_nav_) set_keyboard_nav(false);
    else if (!popup_was_open) post([this] { e_->cancel(); });
  }
}

std::string Ui::description() const {
  refresh();
  auto net = s_->network();
  std::string d;
  char buf[256];
  if (!net) return "lrpscope: no model is loaded.";
  d = "Model " + s_->model_name() + ". ";
  if (!s_->image_name().empty()) d += "Picture " + s_->image_name() + ". ";
  if (s_->logits) {
    const Tensor& l = *s_->logits;
    const std::vector<float> p = softmax(l);
    const std::vector<int> order = rank_classes(l);
    d += "The network says ";
    for (std::size_t i = 0; i < std::min<std::size_t>(3, order.size()); ++i) {
      const int c = order[i];
      std::snprintf(buf, sizeof buf, "%s%s (%.1f %%)", i == 0 ? "" : i + 1 == std::min<std::size_t>(3, order.size()) ? ", then " : ", ",
                    net->label(c).c_str(), 100.0 * p[static_cast<std::size_t>(c)]);
      d += buf;
    }
    d += ". ";
  }
  if (const ExplanationView* ex = s_->explanation.get()) {
    d += "Explaining " + explained_class() + " with " + settings_.composite.name + ". ";
    d += ex->summary;
    if (!d.empty() && d.back() != ' ') d += " ";
  } else if (s_->busy) {
    d += "Computing the explanation. ";
  }
  d += std::string("Tab ") + tab_name(tab_) + " is open.";
  if (!s_->error.empty()) d += " Error: " + s_->error;
  return d;
}

std::string Ui::state_json() const {
  refresh();
  nlohmann::ordered_json j;
  auto net = s_->network();
  j["model"] = s_->model_name();
  j["model_source"] = s_->model_source();
  j["model_bytes"] = static_cast<double>(s_->model_bytes());
  if (auto n = s_->network()) {
    j["model_arch"] = n->spec().arch_name();
    j["model_canonised"] = n->info().canonized;
  }
#ifdef __EMSCRIPTEN__
  j["heap_mb"] = static_cast<double>(emscripten_get_heap_size()) / (1024.0 * 1024.0);  // only grows: the peak
  j["heap_used_mb"] = static_cast<double>(mallinfo().uordblks) / (1024.0 * 1024.0);  // what is allocated now
#endif
  j["engine"] = e_->mode() == EngineApi::Mode::Remote ? "worker" : e_->mode() == EngineApi::Mode::Thread ? "thread" : "inline";
  j["engine_commands"] = {{"posted", e_->posted()}, {"applied", s_->applied}};
  j["engine_heap_mb"] = s_->heap_mb;  // where the weights are: this module, or the engine's worker
  j["engine_heap_used_mb"] = s_->heap_used_mb;
  j["embed"] = embed_;
  j["cmap"] = colormap_name(view_.cmap);
  j["alpha"] = view_.alpha;
  j["graph_k"] = settings_.graph_k;
  j["download"] = {{"active", s_->download.active}, {"loaded", s_->download.loaded}, {"total", s_->download.total}};
  j["image"] = s_->image_name();
  if (const Image& im = s_->image(); !im.empty())
    j["picture"] = {{"width", s_->pic().kept_width}, {"height", s_->pic().kept_height}, {"shown_width", im.shown_width()},
                    {"shown_height", im.shown_height()}, {"alpha", !im.alpha.empty()},
                    {"background", s_->pic().background}};
  const ExplanationView* ex = s_->explanation.get();
  if (s_->logits && net) {
    const Tensor& l = *s_->logits;
    const int best = argmax(l);
    j["predicted"] = best;
    j["predicted_label"] = net->label(best);
    j["logits"] = std::vector<float>(l.data(), l.data() + l.size());
  } else {
    j["predicted"] = nullptr;
  }
  if (ex && net) {
    j["target"] = ex->target_class;
    j["target_label"] = net->label(ex->target_class);
    j["target_logit"] = ex->target_logit;
    j["input_relevance_sum"] = ex->input_sum;
    j["summary"] = ex->summary;
    if (settings_.target.kind == Target::Kind::Contrast) j["contrast"] = {settings_.target.a, settings_.target.b};
  }
  j["composite"] = settings_.composite.name;
  const bool fits = net && static_cast<int>(settings_.composite.rules.size()) == net->size();
  j["maxpool"] = pool_mode_name(fits ? settings_.composite.maxpool(*net) : PoolMode::WinnerTakeAll);
  const NeuronGraph* g = s_->neuron_graph();
  j["graph_nodes"] = g ? static_cast<int>(g->nodes.size()) : 0;
  j["graph_edges"] = g ? static_cast<int>(g->edges.size()) : 0;
  if (g && net) {
    nlohmann::ordered_json gl = nlohmann::ordered_json::array();
    for (int l : g->layers) gl.push_back(net->layer(l).name);
    j["graph_layers"] = gl;
    nlohmann::ordered_json path = nlohmann::ordered_json::array();
    for (int n : g->path) path.push_back(g->nodes[static_cast<std::size_t>(n)].id);
    j["path"] = path;
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const GraphNode& n : g->nodes) nodes.push_back(n.id);
    j["graph_node_ids"] = nodes;
  }
  {  // the graph's view: what its nodes show, the lines hidden, what was found, the path in words
    nlohmann::ordered_json gv;
    gv["nodes"] = graph_nodes_name(view_.nodes);
    gv["min_edge"] = graph_min_edge_;
    gv["zoom"] = graph_zoom_;
    gv["found"] = g && graph_found_ >= 0 && graph_found_ < static_cast<int>(g->nodes.size()) ? g->nodes[static_cast<std::size_t>(graph_found_)].id : "";
    gv["find_message"] = graph_find_msg_;
    gv["path_words"] = path_description();
    const NodeHeat* nh = s_->node_heat.get();
    gv["node_heat"] = {nh ? nh->done : 0, nh ? nh->total : 0};
    if (const NodeRefsView* nr = s_->node_refs.get()) {  // per node: its picture's name and crop size ("" / 0: none)
      nlohmann::ordered_json names = nlohmann::ordered_json::array(), sizes = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < nr->best.size(); ++i) {
        names.push_back(nr->name[i]);
        sizes.push_back({nr->best[i].width, nr->best[i].height});
      }
      gv["node_refs"] = {{"by", nr->by ? "relevance" : "activation"}, {"current", nr->graph_version == version(Session::Result::Graph)},
                         {"names", names}, {"sizes", sizes}};
    }
    gv["cap"] = settings_.graph_cap;
    j["graph_view"] = gv;
  }
  const NeuronDetail* d = s_->neuron_detail();
  if (d && net) j["selected_neuron"] = {{"layer", net->layer(d->layer).name}, {"index", d->index}, {"relevance", d->relevance}};
  else j["selected_neuron"] = nullptr;
  j["tab"] = tab_name(tab_);
  j["app"] = nlohmann::ordered_json::parse(current_state().to_json());  // what a permalink carries
  j["link"] = current_state().to_query();
  j["share"] = share_query();
  j["share_dialog"] = {{"link", share_link_}, {"snippet", share_snippet_}, {"limits", share_limits_}};
  j["share_limits"] = share_limits();  // what a link made now could not carry
  j["picture_note"] = picture_note();
  j["url_field"] = std::string(url_buf_);
  j["hover"] = hover_x_ >= 0 ? nlohmann::ordered_json{{"x", hover_x_}, {"y", hover_y_}, {"relevance", hover_value_}}
                             : nlohmann::ordered_json();
  if (const AtlasInfo* a = s_->atlas.get())
    j["atlas"] = {{"source", a->source}, {"model", a->model_name}, {"layers", a->layers}, {"top", a->top},
                  {"set", a->set_kind}, {"set_count", a->set_count}, {"mismatch", a->mismatch}};
  if (const ReferencesView* r = s_->references.get()) {
    nlohmann::ordered_json rj{{"layer", r->layer >= 0 && net && r->layer < net->size() ? net->layer(r->layer).name : ""},
                              {"channel", r->channel}, {"done", r->done}, {"total", r->total}};
    const char* keys[2] = {"activation", "relevance"};
    for (int by = 0; by < 2; ++by) {
      rj[keys[by]] = nlohmann::ordered_json::array();
      for (const ReferenceView& v : r->by[by])
        rj[keys[by]].push_back({{"image", v.image}, {"name", v.name}, {"score", v.score}, {"masked", v.masked},
                                {"box", {v.box.y0, v.box.x0, v.box.y1, v.box.x1}}, {"size", {v.crop.width, v.crop.height}}});
    }
    j["references"] = std::move(rj);
  }
  if (const ConceptsView* c = s_->concepts.get(); c && c->layer >= 0 && net && c->layer < net->size()) {
    // the Concepts tab as drawn: its first channels in their order, with their relevance and best picture
    nlohmann::ordered_json order = nlohmann::ordered_json::array(), rel = order, best = order;
    for (std::size_t k = 0; k < concepts_order_.size() && k < 24; ++k) {
      const int ch = concepts_order_[k];
      if (ch >= static_cast<int>(c->best.size())) break;
      order.push_back(ch);
      rel.push_back(c->relevance.empty() ? 0.0f : c->relevance[static_cast<std::size_t>(ch)]);
      best.push_back(c->best_name[static_cast<std::size_t>(ch)]);
    }
    j["concepts"] = {{"layer", net->layer(c->layer).name}, {"by", c->by ? "relevance" : "activation"},
                     {"channels", c->best.size()}, {"map", !c->map_x.empty()}, {"order", order},
                     {"relevance", rel}, {"best", best}};
  }
  j["frames"] = frames_;
  // whether the last drawn frames show these results (the rectangles are the last frame's; ImGui lays out a window
  // that appears in its second frame)
  j["drawn"] = drawn_generation_ == s_->generation && drawn_frames_ >= 2;
  j["busy"] = s_->working;
  j["uploads"] = uploads_;
  j["progress"] = s_->progress;
  j["progress_label"] = s_->progress_label;
  j["frame_budget_ms"] = s_->budget_ms;  // the work budget per frame right now
  j["busy_frames"] = {{"frames", frame_times_.frames}, {"longest_ms", frame_times_.longest_ms},
                      {"longest_app_ms", frame_times_.longest_app_ms}, {"longest_gl_ms", frame_times_.longest_gl_ms},
                      {"longest_own_ms", frame_times_.longest_own_ms},
                      {"longest_gap_ms", frame_times_.longest_gap_ms}};
  nlohmann::ordered_json curves = nlohmann::ordered_json::array();
  for (const auto& c : s_->layer_curves())
    if (net && c.layer >= 0 && c.layer < net->size()) curves.push_back({{"layer", net->layer(c.layer).name}, {"chosen_k", c.chosen_k}});
  j["optimiser"] = curves;
  if (const FlipResult* f = s_->flip_result(0)) {
    const int step = f->flipped.empty() ? 0 : std::clamp(flip_step_, 0, static_cast<int>(f->flipped.size()) - 1);
    j["flip"] = {{"aopc", f->aopc_lrp}, {"aopc_random", f->aopc_random}, {"patch", f->patch}, {"patches", f->patches},
                 {"step", step}, {"replaced", f->flipped.empty() ? 0 : f->flipped[static_cast<std::size_t>(step)]}};
  }
  else j["flip"] = nullptr;
  j["evaluation_panel"] = eval_panel_ == 1 ? "sanity" : "flipping";
  j["contrast_mode"] = contrast_mode_;  // the contrast check box
  {
    std::string mask;
    for (uint8_t m : predict_.mask) mask += m ? '1' : '0';
    j["predict"] = {{"on", predict_.on}, {"revealed", predict_.revealed}, {"w", predict_.w}, {"h", predict_.h},
                    {"mask", mask}, {"area", predict_.score.area}, {"share", predict_.score.share},
                    {"words", predict_.revealed ? predict_words() : ""}};
    std::string painted;
    for (uint8_t m : whatif_.mask) painted += m ? '1' : '0';
    j["whatif"] = {{"on", whatif_.on}, {"fill", whatif_.fill}, {"mask", painted}, {"strokes", whatif_.undo.size()},
                   {"edited", s_->pic().edited}, {"words", whatif_words()}};
  }
  if (lesson_.open()) {
    const LessonStep& ls = lesson_.lesson.steps[static_cast<std::size_t>(lesson_.step)];
    j["lesson"] = {{"title", lesson_.lesson.title}, {"step", lesson_.step + 1},
                   {"steps", static_cast<int>(lesson_.lesson.steps.size())}, {"step_title", ls.title},
                   {"name", lesson_.name}, {"source", lesson_.source}, {"editing", lesson_edit_},
                   {"applied", lesson_applied_}, {"link", last_link_}, {"json", lesson_.lesson.to_json()}};
  } else {
    j["lesson"] = nullptr;
  }
  if (const SanityView* v = s_->sanity.get()) {
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (const SanityStep& st : v->result.steps)
      steps.push_back({{"layer", st.layer}, {"spearman", st.spearman}, {"spearman_abs", st.spearman_abs},
                       {"ssim", st.ssim}, {"predicted", st.predicted}});
    j["sanity"] = {{"method", v->method}, {"seed", v->seed}, {"target", v->result.target}, {"done", v->done},
                   {"steps", steps}};
  } else {
    j["sanity"] = nullptr;
  }
  j["error"] = s_->error;
  j["samples"] = static_cast<int>(samples_.size());
  j["hint"] = show_hint_;
  nlohmann::ordered_json rects = nlohmann::ordered_json::object();
  for (const auto& [k, r] : rects_prev_) rects[k] = {r[0], r[1], r[2], r[3]};
  j["rects"] = rects;
  j["keyboard_nav"] = keyboard_nav_;
  j["touch"] = touch_;
  j["layout"] = layout_;
  j["column_scroll"] = column_scroll_;
  j["graph_zoom"] = graph_zoom_;
  j["description"] = description();
  j["last_export"] = last_export_;
  {  // the control keyboard navigation is on (its rectangle on the screen), when it shows
    const ImGuiContext* g = ImGui::GetCurrentContext();
    if (keyboard_nav_ && g && g->NavWindow && g->NavId && !g->NavDisableHighlight) {
      const ImRect r = ImGui::WindowRectRelToAbs(g->NavWindow, g->NavWindow->NavRectRel[g->NavLayer]);
      j["nav_rect"] = {r.Min.x, r.Min.y, r.Max.x, r.Max.y};
    } else {
      j["nav_rect"] = nullptr;
    }
  }
  if (tip_prev_name_.empty()) j["tooltip"] = nullptr;
  else j["tooltip"] = {{"for", tip_prev_name_}, {"text", tip_prev_text_}};
  j["scale"] = scale_;
  const Timings& t = s_->timings;
  j["timings"] = {{"forward_ms", t.forward_ms}, {"lrp_ms", t.lrp_ms}, {"graph_ms", t.graph_ms}, {"detail_ms", t.detail_ms}};
  return j.dump();
}

}  // namespace lrp::app
