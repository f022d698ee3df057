// The Neuron tab's references: the atlas pictures on which the selected channel fires hardest and those for which
// it mattered most, each cropped to its receptive field and masked by the channel's conditional heatmap there
// (computed in the engine, one at a time; a crop shows unmasked until its mask arrives). A click opens the picture.
// And the Concepts tab: a layer's channels as their best atlas pictures (DeepVis' grid), the most relevant to this
// decision first, beside the layer's concept map (channels that respond to the same pictures sit together).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/ui.h"
#include "model/network.h"

namespace lrp::app {

bool Ui::atlas_usable(const AtlasInfo* atlas) {
  if (!atlas) {
    if (need_atlas_cb_ && !atlas_asked_) {
      atlas_asked_ = true;
      need_atlas_cb_();
    }
    if (atlas_asked_ && !atlas_missing_)
      ImGui::TextDisabled("fetching the reference atlas...");
    else
      ImGui::TextDisabled("no reference atlas for this model (make one with lrpscope atlas; open it with --atlas or ?atlas=URL)");
    return false;
  }
  if (!atlas->mismatch.empty()) {
    text_wrapped("The atlas %s does not fit this model: %s", atlas->source.c_str(), atlas->mismatch.c_str());
    return false;
  }
  return true;
}

void Ui::references_section(int layer, int index) {
  const AtlasInfo* atlas = s_->atlas.get();
  ImGui::Spacing();
  ImGui::Text("What this channel sees");
  help_text("references",
            "Pictures from the atlas' image set (made with lrpscope atlas) for this channel: the top row are those on "
            "which it fires hardest (its largest activation), the bottom row those for which it mattered most to the "
            "network's decision (its relevance for each picture's own predicted class). Each is cut to the part of "
            "the picture the channel can see and dimmed where the channel's relevance did not flow. Click one to "
            "open that picture.");
  if (!atlas_usable(atlas)) return;
  refs_req_ = {layer, index};
  const ReferencesView* r = s_->references.get();
  if (!r || r->layer != layer || r->channel != index) {
    ImGui::TextDisabled(r ? "finding the references..." : "the atlas has no references for this layer");
    return;
  }
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float tile = std::floor(std::min(72.0f * scale_, (ImGui::GetContentRegionAvail().x - 8 * gap) / 8.0f));
  const char* rows[2] = {"fires hardest", "mattered most"};
  const char* keys[2] = {"activation", "relevance"};
  for (int by = 0; by < 2; ++by) {
    ImGui::TextDisabled("%s (by %s)", rows[by], keys[by]);
    if (r->by[by].empty()) ImGui::TextDisabled("none");
    for (std::size_t k = 0; k < r->by[by].size(); ++k) {
      const ReferenceView& v = r->by[by][k];
      const std::string key = std::string("refs:") + keys[by] + ":" + std::to_string(k);
      if (k > 0) ImGui::SameLine();
      const Texture& t = cached_rgb(key, v.crop, r->version);
      ImGui::PushID(key.c_str());
      const bool clicked = ImGui::ImageButton(t.imgui_id(), fit(t.width(), t.height(), tile, tile), ImVec2(0, 0),
                                              ImVec2(1, 1), 0);
      ImGui::PopID();
      mark(key);
      tip(key.c_str(), "%s: %s %.3g%s. Click to open this picture.", v.name.c_str(), keys[by], v.score,
          v.masked ? "" : " (its mask is still being computed)");
      if (clicked) {
        const int image = static_cast<int>(v.image);
        post([this, image] { e_->open_reference(image); });
      }
    }
  }
  if (r->done < r->total) ImGui::TextDisabled("masking by the conditional heatmaps: %d of %d", r->done, r->total);
  else ImGui::TextDisabled("from %d pictures of %s; masks with %s", atlas->set_count, atlas->set_kind.c_str(), atlas->composite.c_str());
}


void Ui::select_concept(int channel, bool open) {
  post([this, l = concepts_layer_, channel] { e_->select_neuron(l, channel); });
  if (open) {
    tab_ = Tab::Neuron;
    request_tab_ = true;
  }
}

void Ui::concept_tip(const ConceptsView& c, int ch) {
  auto net = s_->network();
  const float k = static_cast<float>(ConceptsView::kThumb) * scale_;
  ImGui::BeginTooltip();
  const Texture& t = cached_rgb("concepts:packed", concepts_packed_, concepts_packed_v_);
  const int col = ch % concepts_packed_cols_, row = ch / concepts_packed_cols_;
  const float cw = static_cast<float>(ConceptsView::kThumb) / concepts_packed_.width,
              chh = static_cast<float>(ConceptsView::kThumb) / concepts_packed_.height;
  ImGui::Image(t.imgui_id(), ImVec2(2 * k, 2 * k), ImVec2(col * cw, row * chh), ImVec2((col + 1) * cw, (row + 1) * chh));
  const std::string& nick = net->layer(c.layer).nick;
  if (!c.relevance.empty())
    ImGui::Text("%s:%d  relevance %+.3g here", nick.c_str(), ch, c.relevance[static_cast<std::size_t>(ch)]);
  else
    ImGui::Text("%s:%d", nick.c_str(), ch);
  ImGui::TextDisabled("its best picture by %s: %s", c.by ? "relevance" : "activation",
                      c.best_name[static_cast<std::size_t>(ch)].c_str());
  ImGui::TextDisabled("click: select it; double-click: its references (Neuron tab)");
  ImGui::EndTooltip();
}

void Ui::concepts_tab() {
  auto net = s_->network();
  const AtlasInfo* atlas = s_->atlas.get();
  ImGui::Text("Concepts");
  help_text("concepts",
            "The channels of one layer, each shown as the atlas picture it is most about (by activation: where it "
            "fires hardest; by relevance: where it mattered most), the channels this decision used most first. Red "
            "frames: evidence for the class, blue: against; the number is the channel's share of the layer's "
            "relevance here. The map places the channels by what pictures they respond to (a principal-component "
            "analysis of their scores over the atlas' images): neighbours respond to the same pictures. This "
            "picture's most relevant channels are the big red dots.");
  if (!net || !atlas_usable(atlas)) return;
  // the layer: one the atlas has (at first its last convolution)
  std::vector<int> layers;
  for (const std::string& n : atlas->layer_names)
    if (const int i = net->find(n); i >= 0) layers.push_back(i);
  if (layers.empty()) return;
  if (std::find(layers.begin(), layers.end(), concepts_layer_) == layers.end()) {
    concepts_layer_ = layers.front();
    for (int i : layers)
      if (net->layer(i).kind == LayerKind::Conv) concepts_layer_ = i;
  }
  ImGui::SetNextItemWidth(200 * scale_);
  const Layer& cur = net->layer(concepts_layer_);
  if (ImGui::BeginCombo("##concepts-layer", (cur.nick + "  " + cur.name).c_str())) {
    for (int i : layers)
      if (ImGui::Selectable((net->layer(i).nick + "  " + net->layer(i).name).c_str(), i == concepts_layer_)) concepts_layer_ = i;
    ImGui::EndCombo();
  }
  mark("concepts:layer");
  tip("concepts:layer", "The layer whose channels are shown.");
  flow(check_width("by activation"));
  ImGui::RadioButton("by activation", &concepts_by_, 0);
  tip("concepts:activation", "Show each channel as the picture on which it fires hardest, and the map of what fires them.");
  flow(check_width("by relevance"));
  ImGui::RadioButton("by relevance", &concepts_by_, 1);
  tip("concepts:relevance", "Show each channel as the picture for which it mattered most to the decision, and the map of that.");
  concepts_req_ = {concepts_layer_, concepts_by_};
  const ConceptsView* c = s_->concepts.get();
  if (!c || c->layer != concepts_layer_ || c->by != concepts_by_) {
    ImGui::TextDisabled("reading the atlas...");
    return;
  }
  const int n = static_cast<int>(c->best.size());
  // the channels, the most relevant here first (sorted again only when the view or the explanation changes)
  if (concepts_order_key_ != std::make_pair(c->version, c->explanation_version) ||
      static_cast<int>(concepts_order_.size()) != n) {
    concepts_order_key_ = {c->version, c->explanation_version};
    concepts_order_.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) concepts_order_[static_cast<std::size_t>(i)] = i;
    if (!c->relevance.empty())
      std::stable_sort(concepts_order_.begin(), concepts_order_.end(), [&](int a, int b) {
        // (a NaN from a damaged model sorts last: the comparison must stay an ordering)
        auto key = [&](int i) { const float r = c->relevance[static_cast<std::size_t>(i)]; return std::isnan(r) ? -INFINITY : r; };
        return key(a) > key(b);
      });
  }
  // every thumbnail in one picture, uploaded once per view
  if (concepts_packed_v_ != c->version) {
    const int K = ConceptsView::kThumb;
    concepts_packed_cols_ = 32;
    const int rows = std::max(1, (n + concepts_packed_cols_ - 1) / concepts_packed_cols_);
    concepts_packed_.width = concepts_packed_cols_ * K;
    concepts_packed_.height = rows * K;
    concepts_packed_.rgb.assign(static_cast<std::size_t>(concepts_packed_.width) * concepts_packed_.height * 3, 20);
    concepts_packed_.alpha.clear();
    for (int ch = 0; ch < n; ++ch) {
      const Image& t = c->best[static_cast<std::size_t>(ch)];
      const int ox = (ch % concepts_packed_cols_) * K + (K - t.width) / 2, oy = (ch / concepts_packed_cols_) * K + (K - t.height) / 2;
      for (int y = 0; y < t.height; ++y)
        std::copy_n(&t.rgb[static_cast<std::size_t>(y) * t.width * 3], static_cast<std::size_t>(t.width) * 3,
                    &concepts_packed_.rgb[(static_cast<std::size_t>(oy + y) * concepts_packed_.width + ox) * 3]);
    }
    concepts_packed_v_ = c->version;
  }
  if (const NeuronDetail* d = s_->neuron_detail(); d && d->layer == c->layer)
    ImGui::TextDisabled("selected: %s:%d (its references: the Neuron tab, key 2)", net->layer(c->layer).nick.c_str(), d->index);
  else
    ImGui::TextDisabled("%d channels; click one to select it, double-click for its references", n);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool narrow = avail.x < 560 * scale_;
  const bool has_map = !c->map_x.empty();
  const float side = has_map ? std::floor(narrow ? std::min(avail.x, 320 * scale_) : std::min(avail.x * 0.42f, std::max(160 * scale_, avail.y))) : 0;
  if (has_map) {
    concepts_map(*c, concepts_order_, side);
    if (!narrow) ImGui::SameLine();
  }
  const float gw = narrow || !has_map ? avail.x : avail.x - side - ImGui::GetStyle().ItemSpacing.x;
  const float gh = narrow && has_map ? std::max(200 * scale_, ImGui::GetContentRegionAvail().y) : std::max(side, avail.y);
  concepts_grid(*c, concepts_order_, gw, gh);
}

void Ui::concepts_map(const ConceptsView& c, const std::vector<int>& order, float side) {
  ImGui::BeginChild("concepts-map", ImVec2(side, side), true, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), sz = ImGui::GetContentRegionAvail();
  ImGui::InvisibleButton("map", sz);
  mark("concepts:map");
  const bool hovered = ImGui::IsItemHovered();
  const int n = static_cast<int>(c.map_x.size());
  float x0 = 1e30f, x1 = -1e30f, y0 = 1e30f, y1 = -1e30f;
  for (int i = 0; i < n; ++i) {
    x0 = std::min(x0, c.map_x[static_cast<std::size_t>(i)]);
    x1 = std::max(x1, c.map_x[static_cast<std::size_t>(i)]);
    y0 = std::min(y0, c.map_y[static_cast<std::size_t>(i)]);
    y1 = std::max(y1, c.map_y[static_cast<std::size_t>(i)]);
  }
  const float m = 10 * scale_, span = std::max({x1 - x0, y1 - y0, 1e-6f});
  auto at = [&](int i) {  // (one scale for both axes: distances mean the same across and up)
    const float u = (c.map_x[static_cast<std::size_t>(i)] - (x0 + x1) / 2) / span, v = (c.map_y[static_cast<std::size_t>(i)] - (y0 + y1) / 2) / span;
    return ImVec2(p0.x + sz.x / 2 + u * (sz.x - 2 * m), p0.y + sz.y / 2 - v * (sz.y - 2 * m));
  };
  float top = 0;
  for (float r : c.relevance) top = std::max(top, std::fabs(r));
  const NeuronDetail* d = s_->neuron_detail();
  const int selected = d && d->layer == c.layer ? d->index : -1;
  // the least relevant first, so the relevant ones are drawn on top
  int near = -1;
  float best = (8 * scale_) * (8 * scale_);
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int i = *it;
    if (i >= n) continue;
    const ImVec2 p = at(i);
    const float r = c.relevance.empty() || top <= 0 ? 0.0f : c.relevance[static_cast<std::size_t>(i)] / top;
    const float a = std::fabs(r);
    const ImU32 col = r > 0 ? IM_COL32(230, 60, 50, 90 + static_cast<int>(165 * a))
                    : r < 0 ? IM_COL32(60, 110, 235, 90 + static_cast<int>(165 * a)) : IM_COL32(150, 150, 150, 110);
    dl->AddCircleFilled(p, (2.0f + 6.0f * std::sqrt(a)) * scale_, col);
    if (hovered) {
      const float dx = p.x - mouse.x, dy = p.y - mouse.y;
      if (dx * dx + dy * dy < best) {
        best = dx * dx + dy * dy;
        near = i;
      }
    }
  }
  // the five most relevant channels named
  for (std::size_t k = 0; k < order.size() && k < 5 && !c.relevance.empty(); ++k) {
    const int i = order[k];
    if (i >= n || c.relevance[static_cast<std::size_t>(i)] <= 0) break;
    const ImVec2 p = at(i);
    dl->AddText(ImVec2(p.x + 6 * scale_, p.y - 7 * scale_), IM_COL32(235, 235, 235, 230), ("#" + std::to_string(i)).c_str());
  }
  if (selected >= 0 && selected < n) dl->AddCircle(at(selected), 10 * scale_, IM_COL32(255, 230, 90, 255), 0, 2.0f * scale_);
  for (int i = 0; i < n; ++i)
    if (i == selected || (!order.empty() && i == order[0])) {
      const ImVec2 p = at(i);
      mark_rect("concepts:dot:" + std::to_string(i), p.x - 4, p.y - 4, p.x + 4, p.y + 4);
    }
  if (near >= 0) {
    concept_tip(c, near);
    if (ImGui::IsMouseClicked(0)) select_concept(near, false);
    if (ImGui::IsMouseDoubleClicked(0)) select_concept(near, true);
  }
  ImGui::EndChild();
}

void Ui::concepts_grid(const ConceptsView& c, const std::vector<int>& order, float w, float h) {
  ImGui::BeginChild("concepts-grid", ImVec2(w, h), false);
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float cell = std::floor(std::max(40 * scale_, std::min(64 * scale_, (ImGui::GetContentRegionAvail().x - 7 * gap) / 8)));
  // a column as wide as its picture or its label, whichever is wider
  const float step = std::max(cell, ImGui::CalcTextSize("#000 +00%").x) + gap;
  const int cols = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x + gap) / step));
  const int n = static_cast<int>(order.size());
  const int rows = (n + cols - 1) / cols;
  const Texture& t = cached_rgb("concepts:packed", concepts_packed_, concepts_packed_v_);
  const float K = static_cast<float>(ConceptsView::kThumb), uw = K / concepts_packed_.width, vh = K / concepts_packed_.height;
  float total = 0;
  for (float r : c.relevance) total += std::max(0.0f, r);
  const NeuronDetail* d = s_->neuron_detail();
  const int selected = d && d->layer == c.layer ? d->index : -1;
  ImGuiListClipper clip;
  clip.Begin(rows, cell + ImGui::GetTextLineHeightWithSpacing() + ImGui::GetStyle().ItemSpacing.y);
  while (clip.Step())
    for (int row = clip.DisplayStart; row < clip.DisplayEnd; ++row) {
      for (int k = row * cols; k < std::min(n, (row + 1) * cols); ++k) {
        const int ch = order[static_cast<std::size_t>(k)];
        if (k % cols) ImGui::SameLine(static_cast<float>(k % cols) * step);
        ImGui::BeginGroup();
        const float r = c.relevance.empty() ? 0.0f : c.relevance[static_cast<std::size_t>(ch)];
        const ImVec4 frame = ch == selected ? ImVec4(1.0f, 0.9f, 0.35f, 1.0f)
                             : r > 0        ? ImVec4(0.9f, 0.25f, 0.2f, 1.0f)
                             : r < 0        ? ImVec4(0.25f, 0.45f, 0.95f, 1.0f) : ImVec4(0.3f, 0.3f, 0.3f, 1.0f);
        ImGui::PushStyleColor(ImGuiCol_Button, frame);
        ImGui::PushID(ch);
        const int col = ch % concepts_packed_cols_, prow = ch / concepts_packed_cols_;
        const bool clicked = ImGui::ImageButton(t.imgui_id(), ImVec2(cell - 4, cell - 4), ImVec2(col * uw, prow * vh),
                                                ImVec2((col + 1) * uw, (prow + 1) * vh), 2);
        ImGui::PopID();
        ImGui::PopStyleColor();
        const std::string key = "concepts:cell:" + std::to_string(k);
        mark(key);
        const bool hov = ImGui::IsItemHovered();
        if (clicked) select_concept(ch, false);
        if (hov && ImGui::IsMouseDoubleClicked(0)) select_concept(ch, true);
        if (hov) concept_tip(c, ch);
        if (total > 0 && r != 0)
          ImGui::TextDisabled("#%d %+.0f%%", ch, 100.0 * r / total);
        else
          ImGui::TextDisabled("#%d", ch);
        ImGui::EndGroup();
      }
    }
  ImGui::EndChild();
}

}  // namespace lrp::app
