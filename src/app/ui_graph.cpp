// The neuron graph: columns = graph layers (input side left, output right), nodes = selected neurons, edges =
// conditional relevance flow (red positive, blue negative), the critical path in yellow. Hover for a neuron's
// feature map and conditional heatmap, click to select, drag to pan, wheel to zoom.
#include <algorithm>
#include <cmath>
#include <imgui.h>

#include "app/ui.h"
#include "model/network.h"

namespace lrp::app {

bool Ui::neuron_tooltip(int layer, int index) {
  auto net = s_->network();
  if (!net || layer < 0 || layer >= net->size()) return false;
  hover_req_ = {layer, index};  // the engine computes its conditional heatmap beside the pipeline
  const Layer& l = net->layer(layer);
  ImGui::BeginTooltip();
  ImGui::Text("%s (%s) neuron %d", l.nick.c_str(), l.name.c_str(), index);
  // the feature map: the graph's copy for its nodes, else the layer explorer's maps
  const float* map = nullptr;
  int h = 0, w = 0;
  long long map_version = 0;
  if (const NeuronGraph* g = s_->neuron_graph()) {
    for (std::size_t i = 0; i < g->nodes.size(); ++i) {
      const GraphNode& n = g->nodes[i];
      if (n.layer != layer || n.index != index) continue;
      ImGui::Text("relevance %+.4g   mean activation %.4g", n.relevance, n.activation);
      if (!s_->graph->node_maps[i].empty()) {
        map = s_->graph->node_maps[i].data();
        h = s_->graph->node_map_size[i].first;
        w = s_->graph->node_map_size[i].second;
        map_version = version(Session::Result::Graph);
      }
    }
  }
  if (!map && s_->layer_maps && s_->layer_maps->layer == layer && s_->layer_maps->activation.rank() == 3 &&
      index < s_->layer_maps->activation.dim(0)) {
    const Tensor& act = s_->layer_maps->activation;
    h = act.dim(1);
    w = act.dim(2);
    map = act.data() + static_cast<std::size_t>(index) * h * w;
    map_version = version(Session::Result::Forward);
  }
  const float thumb = 96 * scale_;
  if (map) {
    const Texture& fm = cached_map("fm/" + std::to_string(layer) + "/" + std::to_string(index), map, map_version, w, h,
                                   false, Colormap::Gray);
    ImGui::BeginGroup();
    ImGui::Image(fm.imgui_id(), fit(fm.width(), fm.height(), thumb, thumb));
    ImGui::TextDisabled("feature map");
    ImGui::EndGroup();
    ImGui::SameLine();
  }
  const HoverView* hv = s_->hover.get();
  if (hv && hv->layer == layer && hv->index == index) {
    ImGui::BeginGroup();
    const Texture& t = heat_view(4, hv->conditional, hv->version, static_cast<int>(thumb), 0);
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), thumb, thumb));
    ImGui::TextDisabled("conditional heatmap");
    ImGui::EndGroup();
  } else {
    ImGui::BeginGroup();
    ImGui::Dummy(ImVec2(thumb, thumb * 0.8f));
    ImGui::TextDisabled("conditional heatmap: %.0f %%", 100.0 * s_->hover_progress);
    ImGui::EndGroup();
  }
  ImGui::EndTooltip();
  return true;
}

void Ui::graph_tab() {
  auto net = s_->network();
  const NeuronGraph* g = s_->neuron_graph();
  Settings& st = settings_;
  int k = st.graph_k;
  bool k_auto = st.graph_k_auto;
  ImGui::SetNextItemWidth(120 * scale_);
  bool changed = ImGui::SliderInt("neurons per layer", &k, 1, AppState::kMaxK);
  tip("graph:k", "k: how many neurons of each layer the graph shows, the k most relevant ones. More neurons show more "
                 "of the evidence but make the graph harder to read. Ctrl+click to type a value.");
  flow(check_width("k from the optimiser"));
  changed |= ImGui::Checkbox("k from the optimiser", &k_auto);
  mark("graph:k-auto");
  {
    std::string chose;
    if (g && net && st.graph_k_auto)
      for (std::size_t c = 0; c + 1 < g->layers.size() && c < g->column_nodes.size(); ++c)
        chose += (chose.empty() ? "" : ", ") + net->layer(g->layers[c]).nick + " " + std::to_string(g->column_nodes[c].size());
    tip("graph:k-auto",
        "Instead of one k for all layers, keep in each layer the fewest neurons whose own heatmap and prediction stay "
        "within the tolerance (SMAPE %.0f, set in the Optimiser tab) of the full ones.%s%s%s",
        st.tolerance, chose.empty() ? "" : " Here it kept: ", chose.c_str(), chose.empty() ? "" : ".");
  }
  if (ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x - ImGui::GetItemRectMax().x > 230 * scale_) ImGui::SameLine();
  if (ImGui::Button("layers...")) ImGui::OpenPopup("graph_layers");
  tip("graph:layers", "Which layers are columns of the graph (by default the last convolutions and the fully "
                      "connected layers).");
  if (ImGui::BeginPopup("graph_layers") && net) {
    std::vector<int> layers = st.graph_layers.empty() ? default_graph_layers(*net) : st.graph_layers;
    bool lchanged = false;
    for (int i = 0; i + 1 < net->size(); ++i) {
      const Layer& l = net->layer(i);
      if (l.kind != LayerKind::Conv && l.kind != LayerKind::Linear) continue;
      bool on = std::find(layers.begin(), layers.end(), i) != layers.end();
      if (ImGui::Checkbox((l.nick + "  " + l.name).c_str(), &on)) {
        lchanged = true;
        if (on) layers.push_back(i);
        else layers.erase(std::remove(layers.begin(), layers.end(), i), layers.end());
      }
    }
    if (ImGui::Button("default")) {
      layers.clear();
      lchanged = true;
    }
    if (lchanged) {
      std::sort(layers.begin(), layers.end());
      st.graph_layers = layers;
      post([this, k, k_auto, layers] {
        e_->set_graph(k, k_auto, layers);
        settings_sent();
      });
    }
    ImGui::EndPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("reset view")) graph_zoom_ = 1, graph_pan_x_ = graph_pan_y_ = 0;
  tip("graph:reset", "Show the whole graph again (zoom with the mouse wheel, drag to move it).");
  if (changed) {
    st.graph_k = k;
    st.graph_k_auto = k_auto;
    post([this, k, k_auto, layers = st.graph_layers] {
      e_->set_graph(k, k_auto, layers);
      settings_sent();
    });
  }
  help_text("graph",
            "Each circle is a neuron (a channel of a layer), its size its relevance. Columns are layers, from the "
            "input side on the left to the class on the right. A line shows how much relevance flows from a neuron "
            "to one in the layer below (red: supports, blue: opposes). The yellow path is the strongest chain of "
            "evidence from the class down. Hover a circle to see what it detects; click to select it.");
  if (!g || !net) {
    ImGui::TextDisabled(s_->busy ? "computing the graph..." : "no graph yet");
    return;
  }
  // the path heatmap on the right, or under the graph when the panel is narrow (phones)
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool below = avail.x < 560 * scale_;
  const float side_w = below ? avail.x : std::min(avail.x * 0.28f, avail.y * 0.45f);
  const float side_h = below ? std::min(avail.x * 0.5f, avail.y * 0.4f) : avail.y;
  const float canvas_w = below ? avail.x : avail.x - side_w - ImGui::GetStyle().ItemSpacing.x;
  const float canvas_h = below ? avail.y - side_h - ImGui::GetStyle().ItemSpacing.y : avail.y;
  ImGui::BeginChild("graph_canvas", ImVec2(canvas_w, canvas_h), true,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 sz = ImGui::GetContentRegionAvail();
  ImGui::InvisibleButton("canvas", sz, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  mark("graph:canvas");
  const bool hovered = ImGui::IsItemHovered();
  graph_wheel_ = hovered;  // the next frame's panels leave the wheel (and a pinch) to the graph
  ImGuiIO& io = ImGui::GetIO();
  if (hovered && io.MouseWheel != 0) {
    const float f = std::pow(1.15f, io.MouseWheel);
    const float mx = io.MousePos.x - p0.x - sz.x / 2, my = io.MousePos.y - p0.y - sz.y / 2;
    graph_pan_x_ = mx - (mx - graph_pan_x_) * f;
    graph_pan_y_ = my - (my - graph_pan_y_) * f;
    graph_zoom_ = std::clamp(graph_zoom_ * f, 0.3f, 8.0f);
  }
  if (ImGui::IsItemActive() && (ImGui::IsMouseDragging(0, 2.0f) || ImGui::IsMouseDragging(1, 2.0f))) {
    graph_pan_x_ += io.MouseDelta.x;
    graph_pan_y_ += io.MouseDelta.y;
  }
  dl->PushClipRect(p0, ImVec2(p0.x + sz.x, p0.y + sz.y), true);
  const int ncol = static_cast<int>(g->layers.size());
  const float top_pad = ImGui::GetTextLineHeightWithSpacing() * 2.4f;
  auto place = [&](float fx, float fy) {
    const float cx = p0.x + sz.x / 2, cy = p0.y + sz.y / 2;
    return ImVec2(cx + (fx - sz.x / 2) * graph_zoom_ + graph_pan_x_, cy + (fy - sz.y / 2) * graph_zoom_ + graph_pan_y_);
  };
  std::vector<ImVec2> pos(g->nodes.size());
  double max_rel = 1e-12, max_edge = 1e-12;
  for (const auto& n : g->nodes)
    if (n.column + 1 < ncol) max_rel = std::max(max_rel, std::fabs(n.relevance));
  for (const auto& e : g->edges) max_edge = std::max(max_edge, std::fabs(e.relevance));
  const float margin_x = 40 * scale_;
  for (int c = 0; c < ncol; ++c) {
    const auto& col = g->column_nodes[static_cast<std::size_t>(c)];
    const float x = ncol > 1 ? margin_x + (sz.x - 2 * margin_x) * c / (ncol - 1) : sz.x / 2;
    const float span = sz.y - top_pad - 20 * scale_;
    for (std::size_t i = 0; i < col.size(); ++i) {
      const float y = top_pad + span * (i + 0.5f) / col.size();
      pos[static_cast<std::size_t>(col[i])] = place(x, y);
    }
    // labels alternate between two rows when the columns are too close for them
    const std::string& nick = net->layer(g->layers[static_cast<std::size_t>(c)]).nick;
    const char* label = c == ncol - 1 ? "class" : nick.c_str();
    const float spacing = ncol > 1 ? (sz.x - 2 * margin_x) / (ncol - 1) * graph_zoom_ : sz.x;
    const bool stagger = spacing < ImGui::CalcTextSize("conv5_3").x + 8;
    const ImVec2 lp = place(x, top_pad * 0.1f);
    const float row = stagger && (c % 2) ? ImGui::GetTextLineHeight() : 0.0f;
    dl->AddText(ImVec2(lp.x - ImGui::CalcTextSize(label).x / 2, lp.y + row), IM_COL32(190, 200, 215, 255), label);
  }
  std::vector<std::pair<int, int>> path_edges;
  for (std::size_t i = 0; i + 1 < g->path.size(); ++i) path_edges.push_back({g->path[i], g->path[i + 1]});
  auto on_path = [&](const GraphEdge& e) {
    return std::find(path_edges.begin(), path_edges.end(), std::make_pair(e.from, e.to)) != path_edges.end();
  };
  for (const auto& e : g->edges) {
    const float m = static_cast<float>(std::fabs(e.relevance) / max_edge);
    if (m < 0.02f) continue;
    const bool hl = hover_node_ >= 0 && (e.from == hover_node_ || e.to == hover_node_);
    const int a = static_cast<int>(40 + 200 * m);
    const ImU32 col = e.relevance >= 0 ? IM_COL32(230, 60, 50, hl ? 255 : a) : IM_COL32(60, 110, 235, hl ? 255 : a);
    dl->AddLine(pos[static_cast<std::size_t>(e.from)], pos[static_cast<std::size_t>(e.to)], col, (0.5f + 5.0f * m) * scale_ * std::sqrt(graph_zoom_));
  }
  for (const auto& e : g->edges)
    if (on_path(e))
      dl->AddLine(pos[static_cast<std::size_t>(e.from)], pos[static_cast<std::size_t>(e.to)], IM_COL32(255, 210, 40, 230), 3.0f * scale_);
  hover_node_ = -1;
  const NeuronDetail* d = s_->neuron_detail();
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    const GraphNode& n = g->nodes[i];
    const bool output = n.column == ncol - 1;
    const float m = output ? 1.0f : static_cast<float>(std::sqrt(std::fabs(n.relevance) / max_rel));
    const float r = (4.0f + 9.0f * m) * scale_ * std::sqrt(graph_zoom_);
    const ImU32 fill = output ? IM_COL32(240, 240, 240, 255) : n.relevance >= 0 ? IM_COL32(220, 70, 55, 255) : IM_COL32(70, 110, 230, 255);
    dl->AddCircleFilled(pos[i], r, fill);
    if (std::find(g->path.begin(), g->path.end(), static_cast<int>(i)) != g->path.end())
      dl->AddCircle(pos[i], r + 2 * scale_, IM_COL32(255, 210, 40, 255), 0, 2.5f * scale_);
    if (d && d->layer == n.layer && d->index == n.index) dl->AddCircle(pos[i], r + 5 * scale_, IM_COL32(255, 255, 255, 255), 0, 2 * scale_);
    mark_rect("node:" + n.id, pos[i].x - r, pos[i].y - r, pos[i].x + r, pos[i].y + r);
    const float dx = io.MousePos.x - pos[i].x, dy = io.MousePos.y - pos[i].y;
    if (hovered && dx * dx + dy * dy <= (r + 3) * (r + 3)) hover_node_ = static_cast<int>(i);
  }
  dl->PopClipRect();
  if (hover_node_ >= 0) {
    const GraphNode& n = g->nodes[static_cast<std::size_t>(hover_node_)];
    if (n.column == ncol - 1) {
      ImGui::SetTooltip("class %s: logit %.4g", net->label(n.index).c_str(), n.activation);
    } else {
      neuron_tooltip(n.layer, n.index);
    }
    const ImVec2 drag = ImGui::GetMouseDragDelta(0, 0.0f);
    if (ImGui::IsMouseReleased(0) && drag.x * drag.x + drag.y * drag.y < 16.0f && n.column != ncol - 1) {
      post([this, l = n.layer, i = n.index] { e_->select_neuron(l, i); });
    }
  }
  ImGui::EndChild();
  if (!below) ImGui::SameLine();
  ImGui::BeginChild("graph_side", ImVec2(side_w, side_h), true);
  text_wrapped("Path heatmap");
  if (const Tensor* ph = s_->path_heatmap()) {
    const float w = below ? std::min(ImGui::GetContentRegionAvail().x * 0.45f, ImGui::GetContentRegionAvail().y - colour_bar_height())
                          : ImGui::GetContentRegionAvail().x;
    if (below) ImGui::BeginGroup();
    const Texture& t = heat_view(3, *ph, version(Session::Result::Graph), static_cast<int>(w), 0);
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), w, w));
    mark("graph:path-heatmap");
    colour_bar(3, ImGui::GetItemRectSize().x, explained_class(), "graph:path-colourbar", false);
    if (below) {
      ImGui::EndGroup();
      ImGui::SameLine();
      ImGui::BeginGroup();
    }
    text_wrapped("Relevance that flows only through the yellow path (%.3g in total along its edges).", g->path_relevance);
    if (below) ImGui::EndGroup();
  }
  ImGui::Separator();
  ImGui::TextDisabled("%zu neurons, %zu edges", g->nodes.size(), g->edges.size());
  ImGui::EndChild();
}

}  // namespace lrp::app
