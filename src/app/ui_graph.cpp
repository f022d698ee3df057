// The neuron graph: columns = graph layers (input side left, output right) with headers that stay in view,
// nodes = the selected neurons drawn as thumbnails of their feature maps or conditional heatmaps (or circles),
// framed by sign, sized by their share of the layer's relevance and labelled layer:channel and share; edges =
// conditional relevance flow (red supports, blue opposes, width by strength, weak ones hidden), the critical path
// as a band, a legend, the path in words. Hover for a neuron's maps, click to select it (its detail opens beside
// the graph), double-click for the Neuron tab, drag to pan, wheel or pinch to zoom, find a neuron by name.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <imgui.h>

#include "app/ui.h"
#include "explain/graph_layout.h"
#include "explain/heatmap.h"
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

const GraphLayout& Ui::graph_layout() {
  const NeuronGraph* g = s_->neuron_graph();
  const long long v = version(Session::Result::Graph);
  if (!g) graph_layout_ = GraphLayout();
  else if (graph_layout_version_ != v || graph_layout_.x.size() != g->nodes.size()) {
    graph_layout_ = layout_graph(*g);
    graph_found_ = -1;
  }
  graph_layout_version_ = g ? v : -1;
  return graph_layout_;
}

// The texture a node is drawn with (null: a circle): its feature map, or its conditional heatmap when computed.
const Texture* Ui::node_texture(std::size_t i) {
  const NeuronGraph* g = s_->neuron_graph();
  const GraphView* gv = s_->graph.get();
  if (!g || !gv || i >= g->nodes.size()) return nullptr;
  const GraphNode& n = g->nodes[i];
  if (view_.nodes == 1 && i < gv->node_maps.size() && !gv->node_maps[i].empty())
    return &cached_map("fm/" + std::to_string(n.layer) + "/" + std::to_string(n.index), gv->node_maps[i].data(),
                       version(Session::Result::Graph), gv->node_map_size[i].second, gv->node_map_size[i].first, false,
                       Colormap::Gray);
  const NodeHeat* nh = s_->node_heat.get();
  if (view_.nodes == 2 && nh && nh->graph_version == version(Session::Result::Graph) && i < nh->maps.size() &&
      !nh->maps[i].empty())
    return &cached_map("nh/" + std::to_string(i), nh->maps[i].data(), nh->graph_version, nh->w, nh->h, true, view_.cmap,
                       i < nh->scale.size() ? nh->scale[i] : 0.0f);
  const NodeRefsView* nr = s_->node_refs.get();
  if (view_.nodes == 3 && nr && nr->graph_version == version(Session::Result::Graph) && i < nr->best.size() &&
      !nr->best[i].rgb.empty())
    return &cached_rgb("nr/" + std::to_string(i), nr->best[i], nr->version);
  return nullptr;
}

// The legend's entries, flowed into rows of `width`: calls `item(kind, words, x, y)` for each (x, y from the legend's
// top left) unless it is null; returns the legend's height.
static float legend_flow(ImFont* font, float fs, float px, float width, float min_edge,
                         const std::function<void(int, const char*, float, float)>& item) {
  char hid[96];
  if (min_edge > 0) std::snprintf(hid, sizeof hid, "width: strength (< %.0f %% hidden)", 100.0 * min_edge);
  else std::snprintf(hid, sizeof hid, "width: strength");
  const char* words[] = {"supports the class", "opposes it", "critical path", "neuron for / against, size: share", hid};
  float x = 8 * px, y = 4 * px;
  for (int k = 0; k < 5; ++k) {
    const float w = font->CalcTextSizeA(fs, 1e9f, 0, words[k]).x + 34 * px;
    if (x + w > width && x > 10 * px) x = 8 * px, y += fs * 1.3f;
    if (item) item(k, words[k], x, y);
    x += w + 10 * px;
  }
  return y + fs * 1.3f + 4 * px;
}

Ui::GraphGeometry Ui::graph_geometry(const GraphPaint& p) {
  GraphGeometry G;
  const NeuronGraph* g = s_->neuron_graph();
  auto net = s_->network();
  const GraphLayout& L = graph_layout();
  const float px = p.px, fs = p.font_size;
  const ImVec2 sz = p.size;
  const int ncol = g ? static_cast<int>(g->layers.size()) : 1;
  std::string cls = "class";  // the class's labels stand to the right of its node: its name, its logit
  if (g && net && !g->column_nodes.empty() && !g->column_nodes.back().empty()) {
    const GraphNode& out = g->nodes[static_cast<std::size_t>(g->column_nodes.back()[0])];
    char logit[48];
    std::snprintf(logit, sizeof logit, "logit %.3g", out.activation);
    cls = node_label(out, *net);
    if (std::strlen(logit) > cls.size()) cls = logit;
  }
  G.head_h = fs * 2.5f;
  G.legend_h = p.legend ? legend_flow(p.font, fs, px, sz.x, p.min_edge, nullptr) : 0.0f;
  G.margin_l = 26 * px;
  G.margin_r = std::max(60 * px, p.font->CalcTextSizeA(fs, 1e9f, 0, cls.c_str()).x + 24 * px);
  G.top = G.head_h + 10 * px;
  G.bottom = sz.y - G.legend_h - 8 * px;
  // sizes on screen: a row's height and a column's width after the zoom
  G.row_h = (G.bottom - G.top) / static_cast<float>(std::max(1, L.rows.empty() ? 1 : L.rows[0])) * p.zoom;
  G.col_w = (ncol > 1 ? (sz.x - G.margin_l - G.margin_r) / static_cast<float>(ncol - 1) : sz.x) * p.zoom;
  G.base = std::clamp(std::min(G.row_h * 0.8f, G.col_w * 0.5f), 5 * px, 84 * px * std::max(1.0f, p.zoom / 2));
  // how the labels fit: beside the nodes (layer:channel and share), under them (#channel and share: the column's
  // header names the layer; the nodes move up to make room), or not at all (the tooltip has them)
  const float wide = p.font->CalcTextSizeA(fs, 1e9f, 0, "conv5_3:255").x, narrow = p.font->CalcTextSizeA(fs, 1e9f, 0, "12.3 %").x;
  G.label_mode = G.row_h >= fs * 2.1f && G.col_w - G.base >= wide + 10 * px ? 1
                 : G.row_h - G.base >= fs * 2.2f && G.col_w >= narrow + 4 * px ? 2 : 0;
  G.shift = G.label_mode == 2 ? fs / p.zoom : 0.0f;
  return G;
}

// A node's place before the zoom and pan (canvas coordinates from its top left).
ImVec2 Ui::GraphGeometry::unzoomed(const GraphLayout& L, std::size_t i, ImVec2 size) const {
  return ImVec2(margin_l + L.x[i] * (size.x - margin_l - margin_r), top + L.y[i] * (bottom - top) - shift);
}

int Ui::draw_graph(ImDrawList* dl, const GraphPaint& p) {
  const NeuronGraph* g = s_->neuron_graph();
  auto net = s_->network();
  if (!g || !net || g->layers.empty()) return -1;
  const GraphLayout& L = graph_layout();
  const float px = p.px, fs = p.font_size;
  ImFont* font = p.font;
  const ImVec2 p0 = p.p0, sz = p.size;
  const int ncol = static_cast<int>(g->layers.size());
  const GraphGeometry G = graph_geometry(p);
  const float head_h = G.head_h, legend_h = G.legend_h, margin_l = G.margin_l, margin_r = G.margin_r;
  const float col_w = G.col_w, base = G.base;
  const int label_mode = G.label_mode;
  auto place = [&](float fx, float fy) {
    const float cx = p0.x + sz.x / 2, cy = p0.y + sz.y / 2;
    return ImVec2(cx + (fx - sz.x / 2) * p.zoom + p.pan_x, cy + (fy - sz.y / 2) * p.zoom + p.pan_y);
  };
  std::vector<ImVec2> pos(g->nodes.size());
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    const ImVec2 u = G.unzoomed(L, i, sz);
    pos[i] = place(u.x, u.y);
  }
  auto side = [&](std::size_t i) { return std::max(5 * px, base * (0.45f + 0.55f * L.size[i])); };
  dl->PushClipRect(p0, ImVec2(p0.x + sz.x, p0.y + sz.y), true);
  // 1. the critical path as a band under everything
  if (g->path.size() > 1) {  // segments with round joints (a thick polyline's sharp joins spike at the turns)
    const float bw = std::max(7 * px, base * 0.75f);
    const ImU32 band = IM_COL32(255, 210, 60, 85);
    for (std::size_t i = 0; i + 1 < g->path.size(); ++i)
      dl->AddLine(pos[static_cast<std::size_t>(g->path[i])], pos[static_cast<std::size_t>(g->path[i + 1])], band, bw);
    for (std::size_t i = 1; i + 1 < g->path.size(); ++i) dl->AddCircleFilled(pos[static_cast<std::size_t>(g->path[i])], bw / 2, band);
  }
  // 2. the edges, the weak ones hidden
  const int hov = p.interactive ? hover_node_ : -1;
  for (std::size_t e = 0; e < g->edges.size(); ++e) {
    const GraphEdge& ed = g->edges[e];
    const float m = L.edge[e];
    const bool hl = hov >= 0 && (ed.from == hov || ed.to == hov);
    if (m < p.min_edge && !hl) continue;
    const int a = hov >= 0 && !hl ? static_cast<int>(15 + 60 * m) : static_cast<int>(50 + 190 * m);
    const ImU32 col = ed.relevance >= 0 ? IM_COL32(230, 60, 50, hl ? 255 : a) : IM_COL32(60, 120, 240, hl ? 255 : a);
    dl->AddLine(pos[static_cast<std::size_t>(ed.from)], pos[static_cast<std::size_t>(ed.to)], col,
                (0.6f + 5.0f * m) * px * std::sqrt(std::min(p.zoom, 4.0f)));
  }
  // 3. the nodes
  int hovered = -1;
  const NeuronDetail* d = s_->neuron_detail();
  const ImU32 text = IM_COL32(225, 230, 240, 255), dim = IM_COL32(165, 172, 185, 255);
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    const GraphNode& n = g->nodes[i];
    const bool output = n.column == ncol - 1;
    const bool on_path = std::find(g->path.begin(), g->path.end(), static_cast<int>(i)) != g->path.end();
    const float s = output ? std::max(base, 12 * px) : side(i), h = s / 2;
    const ImVec2 c = pos[i], a(c.x - h, c.y - h), b(c.x + h, c.y + h);
    const ImU32 sign = output ? IM_COL32(240, 240, 240, 255) : n.relevance >= 0 ? IM_COL32(235, 75, 60, 255) : IM_COL32(70, 125, 240, 255);
    const Texture* t = output || view_.nodes == 0 || s < 12 * px ? nullptr : node_texture(i);
    if (t) {
      const ImVec2 f = fit(t->width(), t->height(), s, s);  // (a map that is not square keeps its shape)
      dl->AddImage(t->imgui_id(), ImVec2(c.x - f.x / 2, c.y - f.y / 2), ImVec2(c.x + f.x / 2, c.y + f.y / 2));
      dl->AddRect(ImVec2(a.x - px, a.y - px), ImVec2(b.x + px, b.y + px), sign, 0, 0, 2.2f * px);
      if (on_path) dl->AddRect(ImVec2(a.x - 3.5f * px, a.y - 3.5f * px), ImVec2(b.x + 3.5f * px, b.y + 3.5f * px), IM_COL32(255, 205, 40, 255), 0, 0, 2.2f * px);
      if (d && d->layer == n.layer && d->index == n.index)
        dl->AddRect(ImVec2(a.x - 6 * px, a.y - 6 * px), ImVec2(b.x + 6 * px, b.y + 6 * px), IM_COL32(255, 255, 255, 255), 0, 0, 2 * px);
    } else {
      dl->AddCircleFilled(c, h, sign);
      if (on_path) dl->AddCircle(c, h + 2 * px, IM_COL32(255, 205, 40, 255), 0, 2.5f * px);
      if (d && d->layer == n.layer && d->index == n.index) dl->AddCircle(c, h + 5 * px, IM_COL32(255, 255, 255, 255), 0, 2 * px);
    }
    if (static_cast<int>(i) == graph_found_)  // what the search found: a green frame around it
      dl->AddRect(ImVec2(a.x - 9 * px, a.y - 9 * px), ImVec2(b.x + 9 * px, b.y + 9 * px), IM_COL32(120, 255, 160, 255), 0, 0, 2 * px);
    // the label: layer:channel and the share (the output: its class and logit), where there is room
    char l1[96], l2[48];
    if (output) {
      std::snprintf(l1, sizeof l1, "%s", net->label(n.index).c_str());
      std::snprintf(l2, sizeof l2, "logit %.3g", n.activation);
    } else {
      std::snprintf(l1, sizeof l1, "%s", node_label(n, *net).c_str());
      std::snprintf(l2, sizeof l2, "%.1f %%", 100.0 * n.share);
    }
    const float lx = c.x + h + 4 * px;
    if (output || label_mode == 1) {
      dl->AddText(font, fs, ImVec2(lx, c.y - fs), text, l1);
      dl->AddText(font, fs, ImVec2(lx, c.y), dim, l2);
    } else if (label_mode == 2) {
      char idx[24];
      std::snprintf(idx, sizeof idx, "#%d", n.index);
      const float w1 = font->CalcTextSizeA(fs, 1e9f, 0, idx).x, w2 = font->CalcTextSizeA(fs, 1e9f, 0, l2).x;
      dl->AddText(font, fs, ImVec2(c.x - w1 / 2, c.y + h + 2 * px), text, idx);
      dl->AddText(font, fs, ImVec2(c.x - w2 / 2, c.y + h + 2 * px + fs), dim, l2);
    }
    if (p.interactive) {
      mark_rect("node:" + n.id, a.x, a.y, b.x, b.y);
      const float dx = p.mouse.x - c.x, dy = p.mouse.y - c.y;
      if (p.hovered && std::fabs(dx) <= h + 3 && std::fabs(dy) <= h + 3) hovered = static_cast<int>(i);
    }
  }
  // 4. the column headers, in view whatever the pan: the layer's short name, how many of its neurons are shown
  dl->AddRectFilled(p0, ImVec2(p0.x + sz.x, p0.y + head_h), IM_COL32(30, 33, 40, 235));
  for (int c = 0; c < ncol; ++c) {
    const Layer& l = net->layer(g->layers[static_cast<std::size_t>(c)]);
    const float x = place(margin_l + L.column_x[static_cast<std::size_t>(c)] * (sz.x - margin_l - margin_r), 0).x;
    const bool out = c == ncol - 1;
    const std::string name = out ? "class" : l.nick;
    const int total = l.out_shape.empty() ? 0 : l.out_shape[0];
    char sub[48] = "";
    if (!out) std::snprintf(sub, sizeof sub, "%zu of %d", g->column_nodes[static_cast<std::size_t>(c)].size(), total);
    const float w1 = font->CalcTextSizeA(fs, 1e9f, 0, name.c_str()).x, w2 = font->CalcTextSizeA(fs, 1e9f, 0, sub).x;
    const bool stagger = col_w < std::max(w1, w2) + 8 * px;
    const float row = stagger && (c % 2) ? fs * 1.2f : 0.0f;
    dl->AddText(font, fs, ImVec2(x - w1 / 2, p0.y + 3 * px + row), IM_COL32(200, 210, 228, 255), name.c_str());
    if (!stagger) dl->AddText(font, fs, ImVec2(x - w2 / 2, p0.y + 3 * px + fs * 1.15f), dim, sub);
  }
  // 5. the legend
  if (p.legend) {
    const float y0 = p0.y + sz.y - legend_h;
    dl->AddRectFilled(ImVec2(p0.x, y0), ImVec2(p0.x + sz.x, p0.y + sz.y), IM_COL32(30, 33, 40, 235));
    legend_flow(font, fs, px, sz.x, p.min_edge, [&](int kind, const char* words, float lx, float ly) {
      const float x = p0.x + lx, y = y0 + ly, my = y + fs / 2;
      if (kind == 0) dl->AddLine(ImVec2(x, my), ImVec2(x + 24 * px, my), IM_COL32(230, 60, 50, 255), 3 * px);
      if (kind == 1) dl->AddLine(ImVec2(x, my), ImVec2(x + 24 * px, my), IM_COL32(60, 120, 240, 255), 3 * px);
      if (kind == 2) dl->AddLine(ImVec2(x, my), ImVec2(x + 24 * px, my), IM_COL32(255, 205, 40, 110), 9 * px);
      if (kind == 3) {
        dl->AddRect(ImVec2(x + 4 * px, my - 5 * px), ImVec2(x + 14 * px, my + 5 * px), IM_COL32(235, 75, 60, 255), 0, 0, 2 * px);
        dl->AddRect(ImVec2(x + 16 * px, my - 3 * px), ImVec2(x + 22 * px, my + 3 * px), IM_COL32(70, 125, 240, 255), 0, 0, 2 * px);
      }
      if (kind == 4) {
        dl->AddLine(ImVec2(x, my - 3 * px), ImVec2(x + 24 * px, my - 3 * px), IM_COL32(190, 190, 190, 160), 1 * px);
        dl->AddLine(ImVec2(x, my + 2 * px), ImVec2(x + 24 * px, my + 2 * px), IM_COL32(190, 190, 190, 230), 4 * px);
      }
      dl->AddText(font, fs, ImVec2(x + 30 * px, y), dim, words);
    });
  }
  dl->PopClipRect();
  return hovered;
}

Ui::GraphPaint Ui::screen_paint() const {
  GraphPaint gp;
  gp.zoom = graph_zoom_;
  gp.pan_x = graph_pan_x_;
  gp.pan_y = graph_pan_y_;
  gp.px = scale_;
  gp.font = ImGui::GetFont();
  gp.font_size = ImGui::GetFontSize();
  gp.min_edge = graph_min_edge_;
  gp.legend = true;
  return gp;
}

void Ui::find_in_graph(const std::string& text) {
  graph_find_msg_.clear();
  graph_found_ = -1;
  auto net = s_->network();
  const auto colon = text.rfind(':');
  long long idx = -1;
  const int layer = net && colon != std::string::npos ? net->find(text.substr(0, colon)) : -1;
  if (!net || colon == std::string::npos || layer < 0 || !parse_int_strict(text.substr(colon + 1), &idx) || idx < 0) {
    graph_find_msg_ = "type layer:channel, e.g. conv5_3:25 or features.28:25";
    return;
  }
  const Layer& l = net->layer(layer);
  if (l.kind != LayerKind::Conv && l.kind != LayerKind::Linear && l.kind != LayerKind::MaxPool) {
    graph_find_msg_ = l.nick + " has no neurons to select (a convolution, pooling or fully connected layer has)";
    return;
  }
  if (l.out_shape.empty() || idx >= l.out_shape[0]) {
    graph_find_msg_ = l.nick + " has " + std::to_string(l.out_shape.empty() ? 0 : l.out_shape[0]) + " channels, 0 to " +
                      std::to_string(l.out_shape.empty() ? 0 : l.out_shape[0] - 1);
    return;
  }
  const NeuronGraph* g = s_->neuron_graph();
  if (g)
    for (std::size_t i = 0; i < g->nodes.size(); ++i)
      if (g->nodes[i].layer == layer && g->nodes[i].index == idx) graph_found_ = static_cast<int>(i);
  if (graph_found_ >= 0 && graph_canvas_.x > 0) {  // zoom to it: its place at the canvas' centre
    graph_zoom_ = std::max(graph_zoom_, 2.0f);
    GraphPaint gp = screen_paint();
    gp.size = graph_canvas_;
    const ImVec2 u = graph_geometry(gp).unzoomed(graph_layout(), static_cast<std::size_t>(graph_found_), graph_canvas_);
    graph_pan_x_ = -(u.x - graph_canvas_.x / 2) * graph_zoom_;
    graph_pan_y_ = -(u.y - graph_canvas_.y / 2) * graph_zoom_;
  } else {
    graph_find_msg_ = l.nick + ":" + std::to_string(idx) + " is not in the graph; its detail is in the Neuron tab";
  }
  post([this, layer, i = static_cast<int>(idx)] { e_->select_neuron(layer, i); });
}

void Ui::graph_tab() {
  auto net = s_->network();
  const NeuronGraph* g = s_->neuron_graph();
  Settings& st = settings_;
  int k = st.graph_k, cap = st.graph_cap > 0 ? st.graph_cap : AppState::kMaxK;
  bool k_auto = st.graph_k_auto;
  ImGui::SetNextItemWidth(120 * scale_);
  bool changed = false;
  if (!k_auto) {
    changed |= ImGui::SliderInt("neurons per layer", &k, 1, AppState::kMaxK);
    tip("graph:k", "k: how many neurons of each layer the graph shows, the k most relevant ones. More neurons show more "
                   "of the evidence but make the graph harder to read. Ctrl+click to type a value.");
  } else {
    changed |= ImGui::SliderInt("at most", &cap, 1, AppState::kMaxK, cap >= AppState::kMaxK ? "no cap" : "%d per layer");
    tip("graph:k", "With k from the optimiser a layer can keep many neurons (hundreds on a big model): this caps "
                   "each layer at the most relevant ones. At the right end there is no cap.");
  }
  flow(check_width("k from the optimiser"));
  changed |= ImGui::Checkbox("k from the optimiser", &k_auto);
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
      post([this, k, k_auto, layers, c = st.graph_cap] {
        e_->set_graph(k, k_auto, layers, c);
        settings_sent();
      });
    }
    ImGui::EndPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("reset view")) graph_zoom_ = 1, graph_pan_x_ = graph_pan_y_ = 0, graph_found_ = -1;
  tip("graph:reset", "Show the whole graph again (zoom with the mouse wheel or two fingers, drag to move it).");
  if (changed) {
    st.graph_k = k;
    st.graph_k_auto = k_auto;
    st.graph_cap = cap >= AppState::kMaxK ? 0 : cap;
    post([this, k, k_auto, layers = st.graph_layers, c = st.graph_cap] {
      e_->set_graph(k, k_auto, layers, c);
      settings_sent();
    });
  }
  // the second row: what the nodes show, which edges, find a neuron
  {
    static const char* shows[] = {"nodes: circles", "nodes: feature maps", "nodes: heatmaps", "nodes: references"};
    ImGui::SetNextItemWidth(ImGui::CalcTextSize("nodes: feature maps").x + ImGui::GetFrameHeight() * 1.6f);
    // (send_requests asks the engine for the heatmaps)
    const bool open = ImGui::BeginCombo("##thumbs", shows[std::clamp(view_.nodes, 0, kGraphNodeKinds - 1)]);
    mark("graph:thumbs");
    if (open) {
      for (int i = 0; i < kGraphNodeKinds; ++i) {
        if (ImGui::Selectable(shows[i], view_.nodes == i)) view_.nodes = i;
        mark(std::string("graph:thumbs:") + graph_nodes_name(i));
      }
      ImGui::EndCombo();
    }
    const NodeHeat* nh = s_->node_heat.get();
    if (!open) tip("graph:thumbs", "What each neuron is drawn as: its feature map (where it fired on this picture: black = 0, white "
                        "= its strongest), its conditional heatmap (where in the picture its own evidence comes "
                        "from: red for the class, blue against; each on its own scale, computed one neuron after the "
                        "other%s), its channel's best picture in the reference atlas (cut to what the neuron sees; "
                        "by activation or by relevance, as chosen in the Concepts tab), or a plain circle.",
        nh && view_.nodes == 2 && nh->done < nh->total ? (", " + std::to_string(nh->done) + " of " + std::to_string(nh->total) + " so far").c_str() : "");
    if (view_.nodes == 3 && atlas_usable(s_->atlas.get())) {  // (else it says why the nodes are circles)
      flow(ImGui::CalcTextSize("best by relevance").x);
      ImGui::TextDisabled("best by %s", concepts_by_ ? "relevance" : "activation");
    }
    flow(110 * scale_ + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("weak lines").x);
    ImGui::SetNextItemWidth(110 * scale_);
    float pct = graph_min_edge_ * 100;
    if (ImGui::SliderFloat("weak lines", &pct, 0, 30, pct < 0.05f ? "all shown" : "hide < %.0f %%")) graph_min_edge_ = pct / 100;
    tip("graph:min-edge", "Hide the lines weaker than this share of the strongest one, so that a big graph (k from the "
                          "optimiser: thousands of lines) shows its main routes. A hovered neuron shows all of its lines.");
    flow(150 * scale_);
    ImGui::SetNextItemWidth(150 * scale_);
    if (ImGui::InputTextWithHint("##find", "find conv5_3:25", graph_find_, sizeof graph_find_, ImGuiInputTextFlags_EnterReturnsTrue))
      find_in_graph(graph_find_);
    tip("graph:find", "Jump to a neuron: type layer:channel (conv5_3:25 or features.28:25) and press Enter. It is "
                      "selected (its detail opens), and the graph zooms to it when it is one of the graph's neurons.");
    if (!graph_find_msg_.empty()) {
      ImGui::SameLine();
      ImGui::TextColored(ImVec4(1.0f, 0.75f, 0.4f, 1.0f), "%s", graph_find_msg_.c_str());
      mark("graph:find-message");
    }
  }
  help_text("graph",
            "Each box is a neuron (a channel of a layer), drawn as its feature map (or its conditional heatmap), "
            "framed red when it speaks for the class and blue against, its size its share of its layer's relevance. "
            "Columns are layers, from the input side on the left to the class on the right. A line shows how much "
            "relevance flows from a neuron to one in the layer below (red: supports, blue: opposes). The yellow band "
            "is the strongest chain of evidence from the class down. Hover a neuron to see what it detects; click "
            "to select it; double-click to open it in the Neuron tab.");
  if (!g || !net) {
    ImGui::TextDisabled(s_->busy ? "computing the graph..." : "no graph yet");
    return;
  }
  // the side panel on the right, or under the graph when the panel is narrow (phones)
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool below = avail.x < 560 * scale_;
  const float side_w = below ? avail.x : std::min(avail.x * 0.3f, std::max(avail.y * 0.45f, 200 * scale_));
  const float side_h = below ? std::min(avail.x * 0.75f, avail.y * 0.5f) : avail.y;
  const float canvas_w = below ? avail.x : avail.x - side_w - ImGui::GetStyle().ItemSpacing.x;
  const float canvas_h = below ? avail.y - side_h - ImGui::GetStyle().ItemSpacing.y : avail.y;
  ImGui::BeginChild("graph_canvas", ImVec2(canvas_w, canvas_h), true,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 sz = ImGui::GetContentRegionAvail();
  graph_canvas_ = sz;
  ImGui::InvisibleButton("canvas", sz, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  mark("graph:canvas");
  const bool hovered = ImGui::IsItemHovered();
  graph_wheel_ = hovered;  // the next frame's panels leave the wheel (and a pinch) to the graph
  ImGuiIO& io = ImGui::GetIO();
  if (hovered && io.MouseWheel != 0) {
    const float f = std::pow(1.15f, io.MouseWheel);
    const float mx = io.MousePos.x - p0.x - sz.x / 2, my = io.MousePos.y - p0.y - sz.y / 2;
    const float z = std::clamp(graph_zoom_ * f, 0.3f, 12.0f);
    graph_pan_x_ = mx - (mx - graph_pan_x_) * z / graph_zoom_;
    graph_pan_y_ = my - (my - graph_pan_y_) * z / graph_zoom_;
    graph_zoom_ = z;
  }
  if (ImGui::IsItemActive() && (ImGui::IsMouseDragging(0, 2.0f) || ImGui::IsMouseDragging(1, 2.0f))) {
    graph_pan_x_ += io.MouseDelta.x;
    graph_pan_y_ += io.MouseDelta.y;
  }
  GraphPaint gp = screen_paint();
  gp.p0 = p0;
  gp.size = sz;
  gp.interactive = true;
  gp.mouse = io.MousePos;
  gp.hovered = hovered;
  hover_node_ = draw_graph(dl, gp);
  const int ncol = static_cast<int>(g->layers.size());
  if (hover_node_ >= 0) {
    const GraphNode& n = g->nodes[static_cast<std::size_t>(hover_node_)];
    if (n.column == ncol - 1) {
      ImGui::SetTooltip("class %s: logit %.4g", net->label(n.index).c_str(), n.activation);
    } else {
      neuron_tooltip(n.layer, n.index);
    }
    const ImVec2 drag = ImGui::GetMouseDragDelta(0, 0.0f);
    if (ImGui::IsMouseReleased(0) && drag.x * drag.x + drag.y * drag.y < 16.0f && n.column != ncol - 1) {
      graph_found_ = -1;
      post([this, l = n.layer, i = n.index] { e_->select_neuron(l, i); });
    }
    if (ImGui::IsMouseDoubleClicked(0) && n.column != ncol - 1) {
      tab_ = Tab::Neuron;
      request_tab_ = true;
    }
  }
  ImGui::EndChild();
  if (!below) ImGui::SameLine();
  graph_side(side_w, side_h, below);
}

// Beside the graph: the selected neuron (its maps, its share, a way to the Neuron tab), the path heatmap with its
// colour bar, and the path in words.
void Ui::graph_side(float w, float h, bool below) {
  auto net = s_->network();
  const NeuronGraph* g = s_->neuron_graph();
  ImGui::BeginChild("graph_side", ImVec2(w, h), true);
  const float avail = ImGui::GetContentRegionAvail().x;
  const float tile = std::floor(std::min((avail - ImGui::GetStyle().ItemSpacing.x) / 2, below ? 110 * scale_ : 150 * scale_));
  if (const DetailView* dv = s_->detail.get(); dv && net && dv->detail.layer >= 0 && dv->detail.layer < net->size()) {
    const NeuronDetail& d = dv->detail;
    const Layer& l = net->layer(d.layer);
    text_wrapped("Selected: %s:%d (%s), %.1f %% of its layer's relevance", l.nick.c_str(), d.index, l.name.c_str(), 100.0 * d.share);
    mark("graph:selected");
    if (!dv->activation.empty()) {
      const Texture& fm = cached_map("graph_sel_fm", dv->activation.data(), version(Session::Result::Detail), dv->act_w,
                                     dv->act_h, false, Colormap::Gray);
      ImGui::Image(fm.imgui_id(), fit(fm.width(), fm.height(), tile, tile));
      tip("graph:selected-fm", "Its feature map: where this neuron fired on the picture (black = 0, white = its strongest).");
      ImGui::SameLine();
    }
    if (!d.conditional.empty()) {
      const Texture& t = heat_view(5, d.conditional, version(Session::Result::Detail), static_cast<int>(tile), 0);
      ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), tile, tile));
      tip("graph:selected-heatmap", "Its conditional heatmap: the relevance that reaches the picture through this "
                                    "neuron alone (red for the class, blue against).");
    }
    if (small_button("open in the Neuron tab")) {
      tab_ = Tab::Neuron;
      request_tab_ = true;
    }
    tip("graph:open-neuron", "The neuron's whole detail: its maps, its deconvnet and guided reconstructions, its share.");
    ImGui::Separator();
  } else {
    text_wrapped("Click a neuron to see it here.");
    ImGui::Separator();
  }
  text_wrapped("Path heatmap");
  if (const Tensor* ph = s_->path_heatmap()) {
    const float side = below ? std::min(avail * 0.45f, ImGui::GetContentRegionAvail().y - colour_bar_height())
                             : std::min(avail, 2 * tile + ImGui::GetStyle().ItemSpacing.x);
    if (below) ImGui::BeginGroup();
    const Texture& t = heat_view(3, *ph, version(Session::Result::Graph), static_cast<int>(side), 0);
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), side, side));
    mark("graph:path-heatmap");
    colour_bar(3, ImGui::GetItemRectSize().x, explained_class(), "graph:path-colourbar", false);
    if (below) {
      ImGui::EndGroup();
      ImGui::SameLine();
      ImGui::BeginGroup();
    }
    if (g && net) {
      text_wrapped("%s", path_description().c_str());
      mark("graph:path-words");
    }
    if (below) ImGui::EndGroup();
  }
  ImGui::Separator();
  if (g) ImGui::TextDisabled("%zu neurons, %zu lines", g->nodes.size(), g->edges.size());
  ImGui::EndChild();
}

std::string Ui::path_description() const {
  const NeuronGraph* g = s_->neuron_graph();
  auto net = s_->network();
  const Tensor* ph = s_->path_heatmap();
  const ExplanationView* ex = s_->explanation.get();
  if (!g || !net || !ph || !ex) return "";
  const long long v = version(Session::Result::Graph);
  if (path_words_version_ != v) {
    double sum = 0;
    for (std::size_t i = 0; i < ph->size(); ++i) sum += ph->data()[i];
    path_words_ = path_words(*g, *net, ex->target_logit, sum);
    path_words_version_ = v;
  }
  return path_words_;
}

}  // namespace lrp::app
