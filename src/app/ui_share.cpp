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

static std::string url_encode(const std::string& s) {
  std::ostringstream o;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':' || c == '/') o << c;
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      o << buf;
    }
  }
  return o.str();
}

std::string Ui::apply_params(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception&) {
    return "bad parameters";
  }
  auto net = s_->network();
  std::string err;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  if (const std::string e = str("embed"); !e.empty()) embed_ = e != "0" && e != "false";
  if (const std::string c = str("composite"); !c.empty()) {
    const auto& names = Composite::preset_names();
    if (std::find(names.begin(), names.end(), c) != names.end()) s_->set_preset(c);
    else err += "unknown composite '" + c + "'; ";
  }
  if (const std::string t = str("target"); !t.empty() && net) {
    try {
      const auto comma = t.find(',');
      if (comma == std::string::npos) s_->set_target(Target::cls(std::stoi(t)));
      else s_->set_target(Target::contrast(std::stoi(t.substr(0, comma)), std::stoi(t.substr(comma + 1))));
    } catch (const std::exception&) {
      err += "bad target '" + t + "'; ";
    }
  }
  int k = s_->settings().graph_k;
  std::vector<int> layers = s_->settings().graph_layers;
  bool graph = false;
  if (const std::string ks = str("k"); !ks.empty()) {
    if (ks == "auto") {
      s_->settings().graph_k_auto = true;
    } else {
      try {
        k = std::max(1, std::min(64, std::stoi(ks)));
      } catch (const std::exception&) {
        err += "bad k '" + ks + "'; ";
      }
    }
    graph = true;
  }
  if (const std::string ls = str("layers"); !ls.empty() && net) {
    layers.clear();
    std::stringstream ss(ls);
    std::string name;
    while (std::getline(ss, name, ',')) {
      const int i = net->find(name);
      if (i >= 0 && (net->layer(i).kind == LayerKind::Conv || net->layer(i).kind == LayerKind::Linear) && i + 1 < net->size())
        layers.push_back(i);
      else if (!name.empty()) err += "unknown graph layer '" + name + "'; ";
    }
    std::sort(layers.begin(), layers.end());
    graph = true;
  }
  if (graph) s_->set_graph(k, s_->settings().graph_k_auto, layers);
  if (const std::string n = str("neuron"); !n.empty() && net) {
    const auto colon = n.rfind(':');
    const int i = colon == std::string::npos ? -1 : net->find(n.substr(0, colon));
    if (i >= 0) {
      try {
        s_->select_neuron(i, std::stoi(n.substr(colon + 1)));
      } catch (const std::exception&) {
        err += "bad neuron '" + n + "'; ";
      }
    } else {
      err += "unknown neuron '" + n + "'; ";
    }
  }
  if (const std::string p = str("panel"); !p.empty()) {
    bool found = false;
    for (int t = 0; t < 6; ++t) {
      std::string name = tab_name(static_cast<Tab>(t));
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (p == name || p == lower || (p == "optimizer" && t == 4)) {
        set_tab(static_cast<Tab>(t));
        found = true;
      }
    }
    if (!found) err += "unknown panel '" + p + "'; ";
  }
  if (const std::string c = str("cmap"); !c.empty()) {
    try {
      view_.cmap = parse_colormap(c);
    } catch (const std::exception&) {
      err += "unknown colour map '" + c + "'; ";
    }
  }
  if (const std::string a = str("alpha"); !a.empty()) {
    try {
      view_.alpha = std::max(0.0f, std::min(1.0f, std::stof(a)));
    } catch (const std::exception&) {
      err += "bad alpha '" + a + "'; ";
    }
  }
  if (!err.empty()) {
    err = "URL parameters: " + err.substr(0, err.size() - 2);
  }
  return err;
}

std::string Ui::share_query() const {
  std::vector<std::pair<std::string, std::string>> q;
  auto net = s_->network();
  if (!s_->model_source().empty() && s_->model_source().rfind("http", 0) == 0) q.push_back({"model", s_->model_source()});
  for (const auto& sm : samples_)
    if (sm.name == s_->image_name()) q.push_back({"image", sm.name});
  const Settings& st = s_->settings();
  if (st.target.kind == Target::Kind::Class) q.push_back({"target", std::to_string(st.target.a)});
  if (st.target.kind == Target::Kind::Contrast) q.push_back({"target", std::to_string(st.target.a) + "," + std::to_string(st.target.b)});
  if (st.composite.name != "custom") q.push_back({"composite", st.composite.name});
  if (net && !st.graph_layers.empty()) {
    std::string ls;
    for (int l : st.graph_layers) ls += (ls.empty() ? "" : ",") + net->layer(l).name;
    q.push_back({"layers", ls});
  }
  q.push_back({"k", st.graph_k_auto ? "auto" : std::to_string(st.graph_k)});
  if (const NeuronDetail* d = s_->detail(); d && net) q.push_back({"neuron", net->layer(d->layer).name + ":" + std::to_string(d->index)});
  std::string panel = tab_name(tab_);
  std::transform(panel.begin(), panel.end(), panel.begin(), ::tolower);
  q.push_back({"panel", panel});
  q.push_back({"cmap", colormap_name(view_.cmap)});
  char alpha[16];
  std::snprintf(alpha, sizeof alpha, "%.2f", view_.alpha);
  q.push_back({"alpha", alpha});
  if (embed_) q.push_back({"embed", "1"});
  std::string out;
  for (auto& [k, v] : q) out += (out.empty() ? "?" : "&") + k + "=" + url_encode(v);
  return out;
}

void Ui::show_share(const std::string& link, const std::string& snippet) {
  share_link_ = link;
  share_snippet_ = snippet;
  open_share_ = true;
}

void Ui::share_popup() {
  if (open_share_) {
    ImGui::OpenPopup("Share");
    open_share_ = false;
  }
  ImGui::SetNextWindowSize(ImVec2(std::min(640.0f * scale_, ImGui::GetIO().DisplaySize.x * 0.9f), 0));
  if (ImGui::BeginPopupModal("Share", nullptr, ImGuiWindowFlags_NoResize)) {
    ImGui::TextWrapped("This link opens lrpscope in the same state (copied to the clipboard when the browser allows it):");
    std::vector<char> a(share_link_.begin(), share_link_.end());
    a.push_back(0);
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##link", a.data(), a.size(), ImGuiInputTextFlags_ReadOnly);
    ImGui::TextWrapped("To put this view in a course page, paste this into its HTML:");
    std::vector<char> b(share_snippet_.begin(), share_snippet_.end());
    b.push_back(0);
    ImGui::InputTextMultiline("##snippet", b.data(), b.size(), ImVec2(-1, ImGui::GetTextLineHeight() * 4),
                              ImGuiInputTextFlags_ReadOnly);
    if (ImGui::Button("Close")) ImGui::CloseCurrentPopup();
    mark("share:close");
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
    ImGui::TextWrapped("A .safetensors file (or a sharded checkpoint's model.safetensors.index.json) with torchvision or timm "
                       "VGG names. The ImageNet VGG16 is 528 MB; it is kept in the browser's cache, so a second visit starts "
                       "at once. Nothing leaves this page.");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##url", url_buf_, sizeof url_buf_);
    if (ImGui::Button("Load") && load_url_cb_) {
      load_url_cb_(url_buf_);
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

// The compact view for iframes: class choice, image + heatmap, a small graph.
void Ui::embed_frame(float W, float H) {
  auto net = s_->network();
  const ForwardPass* fwd = s_->forward();
  const Explanation* ex = s_->explanation();
  ImGui::TextColored(ImVec4(1.0f, 0.55f, 0.35f, 1.0f), "lrpscope");
  ImGui::SameLine();
  if (fwd && net) {
    const Tensor& l = fwd->logits();
    const auto p = softmax(l);
    std::vector<int> order(l.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return l[static_cast<std::size_t>(a)] > l[static_cast<std::size_t>(b)]; });
    const int cur = ex ? ex->target_class() : order[0];
    char label[160];
    std::snprintf(label, sizeof label, "%s (%.1f %%)", net->label(cur).c_str(), 100.0 * p[static_cast<std::size_t>(cur)]);
    ImGui::SetNextItemWidth(std::min(260.0f * scale_, W * 0.45f));
    const bool open = ImGui::BeginCombo("##class", label);
    mark("embed:class");
    if (open) {
      for (std::size_t i = 0; i < std::min<std::size_t>(order.size(), 10); ++i) {
        const int c = order[i];
        std::snprintf(label, sizeof label, "%s (%.1f %%)", net->label(c).c_str(), 100.0 * p[static_cast<std::size_t>(c)]);
        if (ImGui::Selectable(label, c == cur)) s_->set_target(Target::cls(c));
        mark("embed:class:" + std::to_string(i));
      }
      ImGui::EndCombo();
    }
  }
  ImGui::SameLine();
  if (share_cb_ && ImGui::SmallButton("Share")) share_cb_(share_query().c_str());
  mark("share");
  ImGui::SameLine();
  ImGui::TextDisabled("%s", s_->settings().composite.name.c_str());
  const float avail_h = ImGui::GetContentRegionAvail().y - ImGui::GetFrameHeightWithSpacing();
  const float side = std::min(avail_h, W * 0.48f);
  ImGui::BeginChild("embed_image", ImVec2(side, avail_h), false);
  if (ex && image_tex_.valid()) {
    const Texture& t = heat_view(0, ex->input_relevance(), static_cast<int>(side));
    ImGui::Image(t.imgui_id(), ImVec2(side, side));
    mark("heatmap");
  } else {
    ImGui::TextDisabled(s_->busy() ? "computing..." : "no image");
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("embed_graph", ImVec2(0, avail_h), true);
  if (tab_ == Tab::Graph) graph_tab();
  else if (tab_ == Tab::Neuron) neuron_tab();
  else if (tab_ == Tab::Layers) layers_tab();
  else if (tab_ == Tab::Rules) rules_tab();
  else if (tab_ == Tab::Optimizer) optimizer_tab();
  else evaluation_tab();
  ImGui::EndChild();
  (void)H;
}

}  // namespace lrp::app
