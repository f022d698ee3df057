// Embedding and sharing: URL parameters, the permalink / iframe snippet, the compact embed view, and loading
// weights from a URL (the page downloads them with progress and caching).
#include <algorithm>
#include <cstring>
#include <imgui.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/ui.h"
#include "explain/neuron_graph.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

namespace {

bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

}  // namespace

AppState Ui::current_state() const {
  refresh();
  AppState st;
  auto net = s_->network();
  if (is_url(s_->model_source())) st.model = s_->model_source();
  if (s_->atlas && !s_->atlas->is_default && is_url(s_->atlas->source)) st.atlas = s_->atlas->source;
  if (!s_->image_source().empty()) st.image = s_->image_source();
  else
    for (const auto& sm : samples_)
      if (sm.name == s_->image_name()) st.image = sm.name;
  st.invert = s_->invert == InvertMode::On ? "on" : s_->invert == InvertMode::Off ? "off" : "auto";
  const Settings& se = settings_;
  st.composite = se.preset;
  if (net && se.composite.name == "custom") {
    try {
      st.rules = se.composite.to_compact(*net, se.preset);
    } catch (const std::exception&) {
      st.rules.clear();
    }
  }
  st.target = se.target;
  if (net)
    for (int l : se.graph_layers) st.graph_layers.push_back(net->layer(l).name);
  st.k = se.graph_k;
  st.k_auto = se.graph_k_auto;
  st.cap = se.graph_cap;
  st.tolerance = se.tolerance;
  const auto [wl, wi] = s_->wanted_neuron;
  if (net && wl >= 0 && wl < net->size() && wi >= 0) st.neuron = net->layer(wl).name + ":" + std::to_string(wi);
  st.view = view_;
  st.panel = tab_;
  st.embed = embed_;
  st.predict = predict_.on;
  if (lesson_.open() && !lesson_.source.empty()) {
    st.lesson = lesson_.source;
    st.step = lesson_.step + 1;
  }
  return st;
}

std::vector<std::string> Ui::share_limits() const {
  std::vector<std::string> out;
  const std::string src = s_->model_source();
  const bool default_model = src == asset_dir_ + "/models/fashion-vgg16.safetensors" || src == "fashion-vgg16";
  if (!default_model && !is_url(src))
    out.push_back("The model (" + s_->model_name() + ") was opened from a file on this computer: a link cannot carry "
                  "it, so the receiver sees the default model. Put the weights on a web server and load them by URL "
                  "to share them.");
  const AppState st = current_state();
  if (s_->atlas && !s_->atlas->is_default && st.atlas.empty())
    out.push_back("The reference atlas (" + s_->atlas->source + ") was opened from this computer: a link cannot carry "
                  "it, so the receiver sees the default model's. Put it on a web server and open it with ?atlas=URL.");
  if (st.image.empty() && !s_->image_name().empty())
    out.push_back("The picture (" + s_->image_name() + ") was opened from this computer: a link cannot carry it, so "
                  "the receiver sees the default sample instead (and the class, neuron and rules below are applied "
                  "to that picture).");
  return out;
}

bool Ui::apply_state(const AppState& st, std::vector<std::string>* errors) {
  std::vector<std::string> view_errors = errors ? *errors : std::vector<std::string>();
  embed_ = st.embed;
  view_ = st.view;  // (checked when it was read)
  if (st.predict || predict_.on) set_predict(st.predict);  // (a step that asks for a guess asks for a new one)
  // the contrast picker shows the state's target (a contrast ticked by hand before does not outlive it)
  contrast_mode_ = st.target.kind == Target::Kind::Contrast;
  contrast_a_ = -1;
  set_tab(st.panel);
  // the picture: a sample is opened here, where its file is (the page fetched an image URL before); opening one
  // resets the class and the neuron, so it goes first
  if (!st.image.empty() && st.image != s_->image_name()) {
    const bool sample = std::any_of(samples_.begin(), samples_.end(), [&](const Sample& sm) { return sm.name == st.image; });
    if (sample) load_sample(st.image);
    else if (!AppState::image_is_address(st.image)) view_errors.push_back("image='" + st.image + "': no sample by that name");
  }
  // the rest is the engine's: checked against the model it has when it applies the link (a model named by the
  // link may still be on its way), one error line for every problem
  return e_->apply_state(st, view_errors);
}

std::string Ui::apply_query(const std::string& query, const std::vector<std::string>& page_errors) {
  std::vector<std::string> errors = page_errors;
  const AppState st = AppState::from_query(query, &errors);
  // a lesson named by the link: the page fetches it itself; here it is a file (the desktop's --state)
  if (!st.lesson.empty() && !apply_step_cb_) {
    const std::string shown = st.lesson.substr(st.lesson.find_last_of('/') == std::string::npos ? 0 : st.lesson.find_last_of('/') + 1);
    AppState only;
    only.lesson = st.lesson;
    only.step = st.step;
    only.embed = st.embed;
    // a link of the lesson alone shows its step; one with more says how the view was changed after it
    const bool alone = AppState::from_query(only.to_query(), nullptr) == st;
    embed_ = st.embed;
    if (open_lesson_file(st.lesson, shown, std::max(0, st.step - 1)) && alone) return "";
    if (alone) return s_->error;
  }
  const bool ok = apply_state(st, &errors);
  // inline, the engine applied it already and its error line says what did not apply; in thread mode it will
  refresh();
  return ok || e_->mode() != Engine::Mode::Inline ? std::string() : s_->error;
}

void Ui::show_share(const std::string& link, const std::string& snippet) {
  share_link_ = link;
  share_snippet_ = snippet;
  share_limits_ = share_limits();
  if (!share_note_.empty()) {  // a link that is not of the view (a lesson's): only its own note
    share_limits_ = {share_note_};
    share_note_.clear();
  }
  open_share_ = true;
}

std::string Ui::share_snippet(const std::string& link) {
  std::string embed_link = link;
  if (embed_link.find("embed=1") == std::string::npos)
    embed_link += std::string(embed_link.find('?') == std::string::npos ? "?" : "&") + "embed=1";
  std::string esc;
  for (char c : embed_link) esc += c == '"' ? std::string("&quot;") : c == '&' ? std::string("&amp;") : std::string(1, c);
  return "<iframe src=\"" + esc + "\" width=\"900\" height=\"540\" style=\"border:0\" loading=\"lazy\"\n"
         "        allow=\"clipboard-write\" title=\"lrpscope: why did the network say that?\"></iframe>";
}

void Ui::share_popup() {
  if (open_share_) {
    ImGui::OpenPopup("Share");
    open_share_ = false;
    share_copied_.clear();
  }
  ImGui::SetNextWindowSize(ImVec2(std::min(640.0f * scale_, ImGui::GetIO().DisplaySize.x * 0.95f), 0));
  if (ImGui::BeginPopupModal("Share", nullptr, ImGuiWindowFlags_NoResize)) {
    text_wrapped("This link opens lrpscope in the same state: the picture, the class, the rules, the neuron "
                       "and the view.");
    const float copy_w = ImGui::CalcTextSize("Copy snippet").x + ImGui::GetStyle().FramePadding.x * 2;
    std::vector<char> a(share_link_.begin(), share_link_.end());
    a.push_back(0);
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - copy_w - ImGui::GetStyle().ItemSpacing.x);
    // read-only but selectable: Ctrl+A, Ctrl+C work in it too
    ImGui::InputText("##link", a.data(), a.size(), ImGuiInputTextFlags_ReadOnly | ImGuiInputTextFlags_AutoSelectAll);
    mark("share:link");
    ImGui::SameLine();
    if (ImGui::Button("Copy link", ImVec2(copy_w, 0))) {
      ImGui::SetClipboardText(share_link_.c_str());
      share_copied_ = "link copied to the clipboard";
    }
    mark("share:copy-link");
    for (const auto& l : share_limits_) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.4f, 1.0f));
      text_wrapped("%s", l.c_str());
      ImGui::PopStyleColor();
    }
    text_wrapped("To put this view in a course page, paste this into its HTML:");
    std::vector<char> b(share_snippet_.begin(), share_snippet_.end());
    b.push_back(0);
    ImGui::InputTextMultiline("##snippet", b.data(), b.size(),
                              ImVec2(ImGui::GetContentRegionAvail().x - copy_w - ImGui::GetStyle().ItemSpacing.x,
                                     ImGui::GetTextLineHeight() * 4.5f),
                              ImGuiInputTextFlags_ReadOnly);
    ImGui::SameLine();
    if (ImGui::Button("Copy snippet", ImVec2(copy_w, 0))) {
      ImGui::SetClipboardText(share_snippet_.c_str());
      share_copied_ = "snippet copied to the clipboard";
    }
    mark("share:copy-snippet");
    if (ImGui::Button("Close") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) ImGui::CloseCurrentPopup();
    mark("share:close");
    if (!share_copied_.empty()) {
      ImGui::SameLine();
      ImGui::TextDisabled("%s", share_copied_.c_str());
    }
    ImGui::EndPopup();
  }
}

void Ui::url_popup() {
  if (open_url_) {
    ImGui::OpenPopup("Load weights from a URL");
    open_url_ = false;
  }
  ImGui::SetNextWindowSize(ImVec2(std::min(680.0f * scale_, ImGui::GetIO().DisplaySize.x * 0.95f), 0));
  if (ImGui::BeginPopupModal("Load weights from a URL", nullptr, ImGuiWindowFlags_NoResize)) {
    text_wrapped("A .safetensors file (or a sharded checkpoint's model.safetensors.index.json) with torchvision or timm "
                       "VGG names, a PyTorch .pth or an ONNX model. The ImageNet VGG16 is 528 MB; it is kept in the browser's cache, so a second visit starts "
                       "at once. Nothing leaves this page.");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##url", url_buf_, sizeof url_buf_);
    mark("url:field");
    if (ImGui::Button("Load") && load_url_cb_) {
      load_url_cb_(url_buf_);
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) ImGui::CloseCurrentPopup();
    mark("url:cancel");
    ImGui::EndPopup();
  }
}

// The compact view for iframes: class choice, image + heatmap, a small graph.
void Ui::embed_frame(float W, float H) {
  auto net = s_->network();
  const ExplanationView* ex = s_->explanation.get();
  ImGui::TextColored(ImVec4(1.0f, 0.55f, 0.35f, 1.0f), "lrpscope");
  ImGui::SameLine();
  if (s_->logits && net) {
    const ClassRanking& rank = class_ranking(*s_->logits);
    const auto& p = rank.probs;
    const auto& order = rank.order;
    const int cur = ex ? ex->target_class : order[0];
    char label[160];
    std::snprintf(label, sizeof label, "%s (%.1f %%)", net->label(cur).c_str(), 100.0 * p[static_cast<std::size_t>(cur)]);
    ImGui::SetNextItemWidth(std::min(260.0f * scale_, W * 0.45f));
    const bool open = ImGui::BeginCombo("##class", label);
    mark("embed:class");
    if (open) {
      for (std::size_t i = 0; i < std::min<std::size_t>(order.size(), 10); ++i) {
        const int c = order[i];
        std::snprintf(label, sizeof label, "%s (%.1f %%)", net->label(c).c_str(), 100.0 * p[static_cast<std::size_t>(c)]);
        if (ImGui::Selectable(label, c == cur)) post([this, c] { send_target(Target::cls(c)); });
        mark("embed:class:" + std::to_string(i));
      }
      ImGui::EndCombo();
    }
  }
  ImGui::SameLine();
  if (share_cb_ && small_button("Share")) share_cb_(share_query().c_str());
  mark("share");
  ImGui::SameLine();
  ImGui::TextDisabled("%s", settings_.composite.name.c_str());
  const float avail_h = ImGui::GetContentRegionAvail().y - ImGui::GetFrameHeightWithSpacing();
  const float side = std::min(avail_h, W * 0.48f);
  ImGui::BeginChild("embed_image", ImVec2(side, avail_h), false);
  if (ex && image_tex_.valid() && predict_.on) {  // predict, then reveal
    const Tensor& r = ex->input_relevance;
    const ImVec2 sz = fit(r.dim(2), r.dim(1), side, std::max(32.0f, avail_h - ImGui::GetTextLineHeightWithSpacing() * 4));
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    if (predict_.revealed) {
      const Texture& t = heat_view(0, r, version(Session::Result::Explanation), static_cast<int>(sz.x));
      ImGui::Image(t.imgui_id(), sz);
      mark("heatmap");
      ImGui::SetCursorScreenPos(p0);
    }
    predict_canvas(r, sz);
    predict_controls();
  } else if (ex && image_tex_.valid()) {
    const Texture& t = heat_view(0, ex->input_relevance, version(Session::Result::Explanation), static_cast<int>(side));
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), side, std::max(32.0f, avail_h - colour_bar_height())));
    mark("heatmap");
    colour_bar(0, ImGui::GetItemRectSize().x, explained_class(), "colourbar", false);
  } else {
    ImGui::TextDisabled(s_->busy ? "computing..." : "no image");
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("embed_graph", ImVec2(0, avail_h), true);
  if (predicting()) {
    text_wrapped("The explanation is hidden until you reveal your guess.");
    mark("predict:hidden");
  } else if (tab_ == Tab::Graph) graph_tab();
  else if (tab_ == Tab::Neuron) neuron_tab();
  else if (tab_ == Tab::Layers) layers_tab();
  else if (tab_ == Tab::Rules) rules_tab();
  else if (tab_ == Tab::Optimizer) optimizer_tab();
  else evaluation_tab();
  ImGui::EndChild();
  (void)H;
}

}  // namespace lrp::app
