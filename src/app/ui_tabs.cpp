// The right-hand tabs: neuron detail, layer explorer, rules, optimiser and evaluation (the graph has its own file).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <imgui.h>
#include <numeric>

#include "app/ui.h"
#include "app/ui_chart.h"
#include "explain/selection.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {


static const char* tab_tip(Tab t) {
  switch (t) {
    case Tab::Graph: return "The neurons that carry the decision, layer by layer, and how relevance flows between them. Key: 1.";
    case Tab::Neuron: return "One neuron up close: where it fired, its share of the evidence, what it sees. Key: 2.";
    case Tab::Layers: return "Every feature map of one layer, the most relevant first. Key: 3.";
    case Tab::Rules: return "The LRP rule of every layer, the presets, and how much relevance each layer keeps. Key: 4.";
    case Tab::Optimizer: return "How few neurons of a layer are enough to keep the explanation and the prediction. Key: 5.";
    case Tab::Evaluation: return "Is the heatmap telling the truth? Pixel flipping and the sanity check of model randomisation. Key: 6.";
    case Tab::Concepts: return "The channels of one layer as the atlas pictures they are about, those this decision used most first, and their concept map. Key: 7.";
  }
  return "";
}

void Ui::tab_content(Tab t) {
  switch (t) {
    case Tab::Graph: graph_tab(); break;
    case Tab::Neuron: neuron_tab(); break;
    case Tab::Layers: layers_tab(); break;
    case Tab::Rules: rules_tab(); break;
    case Tab::Optimizer: optimizer_tab(); break;
    case Tab::Evaluation: evaluation_tab(); break;
    case Tab::Concepts: concepts_tab(); break;
  }
}

void Ui::tabs_panel(float w, float h) {
  ImGui::BeginChild("tabs", ImVec2(w, h), true,
                    ImGuiWindowFlags_NavFlattened | (graph_wheel_ ? ImGuiWindowFlags_NoScrollWithMouse : 0));
  if (tab_ != Tab::Graph) graph_wheel_ = false;
  if (predicting()) {  // (the panels would give the answer away)
    text_wrapped("The explanation is hidden until you reveal your guess: paint where you think the evidence for %s "
                 "is, then press Reveal under the picture.", explained_class().c_str());
    mark("predict:hidden");
    ImGui::EndChild();
    return;
  }
  summary_text();
  if (ImGui::GetContentRegionAvail().x < 560 * scale_) {
    // narrow (phones): the panels as a grid, three a row, of buttons with their whole names, big enough for a finger
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    const float bw = std::floor((ImGui::GetContentRegionAvail().x - 2 * gap) / 3);
    for (int i = 0; i < kTabCount; ++i) {
      const Tab t = static_cast<Tab>(i);
      if (i % 3) ImGui::SameLine();
      const bool on = tab_ == t;
      ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(on ? ImGuiCol_TabActive : ImGuiCol_Tab));
      if (ImGui::Button(tab_name(t), ImVec2(bw, 0))) tab_ = t;
      ImGui::PopStyleColor();
      tip((std::string("tab:") + tab_name(t)).c_str(), "%s", tab_tip(t));
    }
    request_tab_ = false;
    ImGui::Separator();
    tab_content(tab_);
    ImGui::EndChild();
    return;
  }
  if (ImGui::BeginTabBar("main_tabs", ImGuiTabBarFlags_FittingPolicyScroll)) {
    for (int i = 0; i < kTabCount; ++i) {
      const Tab t = static_cast<Tab>(i);
      ImGuiTabItemFlags f = (request_tab_ && tab_ == t) ? ImGuiTabItemFlags_SetSelected : 0;
      const bool open = ImGui::BeginTabItem(tab_name(t), nullptr, f);
      tip((std::string("tab:") + tab_name(t)).c_str(), "%s", tab_tip(t));
      if (open) {
        if (!request_tab_) tab_ = t;
        else if (tab_ == t) request_tab_ = false;  // the tab asked for is open
        tab_content(t);
        ImGui::EndTabItem();
      }
    }
    // (a request made inside a tab after the one it asks for, as the Concepts tab's double-click asks for the
    // Neuron tab, reaches the tab bar in the next frame: it stays until that tab is open)
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
}

// The explanation in words, above the tabs: where the evidence lies, how concentrated, the strongest neurons, how
// much of the logit the relevance adds up to (explain/summary.h). At most about four lines; it scrolls past that.
void Ui::summary_text() {
  const ExplanationView* ex = s_->explanation.get();
  if (!ex || ex->summary.empty()) return;
  const float wrap = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().WindowPadding.x * 2;
  const float text_h = ImGui::CalcTextSize(ex->summary.c_str(), nullptr, false, wrap).y;
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float hh = std::min(text_h + ImGui::GetStyle().WindowPadding.y * 2, line * 4.4f);
  ImGui::BeginChild("summary", ImVec2(0, hh), true);
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(ex->summary.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
  tip("summary", "The explanation in words, computed from its numbers: the picture is cut into a 3 x 3 grid; "
                 "the shares are of all the positive (or negative) relevance; 'neurons' are the channels of the "
                 "last convolution; the last sentence compares the relevance that reached the picture with the "
                 "class score it started from.");
}

void Ui::neuron_tab() {
  auto net = s_->network();
  const NeuronDetail* d = s_->neuron_detail();
  ImGui::Text("Selected neuron");
  help_text("neuron",
            "One neuron up close. Its feature map shows where in the picture it fired; its conditional heatmap shows "
            "the pixels whose relevance flows through this neuron alone. The deconvnet and guided-backprop "
            "reconstructions project its strongest response back to the pixels, and the crop is the part of the "
            "picture it can see.");
  if (!d || !net) {
    ImGui::TextDisabled("click a neuron in the graph or the layer explorer");
    return;
  }
  const Layer& l = net->layer(d->layer);
  ImGui::Text("%s (%s), neuron %d", l.nick.c_str(), l.name.c_str(), d->index);
  ImGui::Text("relevance %+.4g (%.1f %% of the layer), mean activation %.4g, max %.4g", d->relevance, 100.0 * d->share,
              d->mean_activation, d->max_activation);
  const float avail = ImGui::GetContentRegionAvail().x;
  // (smaller when the atlas' references are shown under them, so that they fit too)
  const bool refs = s_->atlas && s_->atlas->mismatch.empty();
  const float tile = std::floor(std::min((avail - 4 * ImGui::GetStyle().ItemSpacing.x) / 3.0f,
                                         ImGui::GetContentRegionAvail().y * (refs ? 0.26f : 0.42f)));
  auto caption = [&](const Texture& t, const char* text, const char* key = nullptr, int bar_slot = -1) {
    ImGui::BeginGroup();
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), tile, tile));
    if (key) mark(key);
    if (bar_slot >= 0) colour_bar(bar_slot, ImGui::GetItemRectSize().x, explained_class(), std::string(key) + ":colourbar", false);
    // the caption stays under its tile: wrapped at its width
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + tile);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    text_wrapped("%s", text);
    ImGui::PopStyleColor();
    ImGui::PopTextWrapPos();
    ImGui::EndGroup();
  };
  if (const DetailView& dv = *s_->detail; !dv.activation.empty()) {
    caption(cached_map("detail_fm", dv.activation.data(), version(Session::Result::Detail), dv.act_w, dv.act_h, false,
                       Colormap::Gray),
            "activation map");
    ImGui::SameLine();
  }
  caption(heat_view(2, d->conditional, version(Session::Result::Detail), static_cast<int>(tile), 0), "conditional heatmap",
          "neuron:conditional", 2);
  if (d->has_deconv) {
    ImGui::SameLine();
    const Image& v = s_->pic().view;
    const Box& b = d->deconv.field;
    caption(cached_rgb("detail_crop", crop_image(v, b.y0, b.x0, b.y1, b.x1), version(Session::Result::Detail)),
            "receptive field of the strongest position");
    references_section(d->layer, d->index);  // (what a learner asks next: before the reconstructions)
    auto rec = [&](const char* key, const DeconvResult& r) {
      const auto m = channel_sum(r.reconstruction);
      return &cached_map(key, m.data(), version(Session::Result::Detail), r.reconstruction.dim(2), r.reconstruction.dim(1),
                         true, Colormap::Gray);
    };
    caption(*rec("detail_deconv", d->deconv), "deconvnet reconstruction");
    ImGui::SameLine();
    caption(*rec("detail_guided", d->guided), "guided backprop");
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextDisabled("strongest at (%d, %d)", d->deconv.y, d->deconv.x);
    ImGui::TextDisabled("receptive field rows %d-%d,", b.y0, b.y1 - 1);
    ImGui::TextDisabled("columns %d-%d", b.x0, b.x1 - 1);
    ImGui::EndGroup();
  } else {
    references_section(d->layer, d->index);
  }
}

void Ui::layers_tab() {
  auto net = s_->network();
  const ExplanationView* ex = s_->explanation.get();
  if (!net || !ex) {
    ImGui::TextDisabled("waiting for an explanation");
    return;
  }
  if (explorer_layer_ < 0 || explorer_layer_ >= net->size()) {
    for (int i = 0; i < net->size(); ++i)
      if (net->layer(i).kind == LayerKind::Conv) explorer_layer_ = i;
  }
  layer_req_ = explorer_layer_;  // the engine sends this layer's maps
  ImGui::SetNextItemWidth(200 * scale_);
  const bool layer_open = ImGui::BeginCombo("layer", (net->layer(explorer_layer_).nick + "  " + net->layer(explorer_layer_).name).c_str());
  mark("layers:layer");
  if (!layer_open) tip("layers:layer", "The layer whose feature maps are shown (convolutions and max-pools).");
  if (layer_open) {
    for (int i = 0; i < net->size(); ++i) {
      const Layer& l = net->layer(i);
      if (l.kind != LayerKind::Conv && l.kind != LayerKind::MaxPool) continue;
      if (ImGui::Selectable((l.nick + "  " + l.name).c_str(), i == explorer_layer_)) explorer_layer_ = i;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  int which = explorer_relevance_ ? 1 : 0;
  ImGui::RadioButton("activation", &which, 0);
  tip("layers:activation", "Show where each neuron fired on this picture (its output after the ReLU; black = 0, "
                           "white = its strongest response).");
  ImGui::SameLine();
  ImGui::RadioButton("relevance", &which, 1);
  tip("layers:relevance", "Show how much each place of each map mattered for the class (red for, blue against).");
  explorer_relevance_ = which == 1;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(100 * scale_);
  ImGui::SliderFloat("zoom", &explorer_zoom_, 0.5f, 4.0f, "%.1fx");
  tip("layers:zoom", "The size of the maps.");
  if (explorer_relevance_) {
    flow(check_width("one scale"));
    ImGui::Checkbox("one scale", &explorer_shared_scale_);
    tip("layers:shared-scale", "On: all maps share one colour scale (the layer's strongest value), so a pale map "
                               "really mattered less. Off: each map is scaled to its own strongest value, so weak "
                               "maps show their pattern too.");
  }
  help_text("layers",
            "Every feature map of one layer, the most relevant first. Activation shows where a neuron fired; relevance "
            "shows how much each of those places mattered for the class (red for, blue against). Click a map to "
            "select that neuron.");
  const int layer = explorer_layer_;
  const LayerMaps* maps = s_->layer_maps.get();
  if (!maps || maps->layer != layer) {
    ImGui::TextDisabled("loading the maps of %s...", net->layer(layer).nick.c_str());
    return;
  }
  const Tensor& act = maps->activation;
  const Tensor& rel = maps->relevance;
  const LayerRanking& rank = layer_ranking(rel);
  const auto& order = rank.order;
  const int h = act.dim(1), w = act.dim(2);
  const float cell = std::max(24.0f, 56.0f * scale_ * explorer_zoom_);
  // relevance maps share one scale (so their strengths compare) unless the user asks for one scale per map
  const float layer_max = explorer_shared_scale_ ? rank.max_abs : 0.0f;
  if (explorer_relevance_) {
    if (explorer_shared_scale_) {
      const float bw = std::min(ImGui::GetContentRegionAvail().x, 360 * scale_);
      value_bar("layers:colourbar", bw, rank.max_abs, view_.cmap,
                "relevance at a position of a map, logit units; the same scale for every map of the layer");
    } else {
      ImGui::TextDisabled("each map scaled to its own strongest value (hover a map for its range)");
    }
  }
  ImGui::BeginChild("grid", ImVec2(0, 0), false);
  // (an image button is its picture, 2 pixels of frame on each side, and the spacing)
  const int cols = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x + ImGui::GetStyle().ItemSpacing.x) /
                                                (cell + 4 + ImGui::GetStyle().ItemSpacing.x)));
  const NeuronDetail* d = s_->neuron_detail();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int c = order[i];
    const std::string key = std::string(explorer_relevance_ ? "rel/" : "act/") + std::to_string(layer) + "/" + std::to_string(c);
    const float* src = (explorer_relevance_ ? rel.data() : act.data()) + static_cast<std::size_t>(c) * h * w;
    const Texture& t = cached_map(key, src, version(explorer_relevance_ ? Session::Result::Explanation : Session::Result::Forward),
                                  w, h, explorer_relevance_, explorer_relevance_ ? view_.cmap : Colormap::Gray,
                                  explorer_relevance_ ? layer_max : 0.0f);
    ImGui::PushID(c);
    const bool sel = d && d->layer == layer && d->index == c;
    if (sel) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(1.0f, 0.8f, 0.2f, 1.0f));
    if (ImGui::ImageButton(t.imgui_id(), fit(t.width(), t.height(), cell, cell), ImVec2(0, 0), ImVec2(1, 1), 2)) post([this, layer, c] { e_->select_neuron(layer, c); });
    mark("cell:" + net->layer(layer).name + ":" + std::to_string(c));
    if (sel) ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) {
      float lo = 0, hi = 0;
      for (int q = 0; q < h * w; ++q) lo = std::min(lo, src[q]), hi = std::max(hi, src[q]);
      ImGui::SetTooltip("%s neuron %d\nrelevance %+.4g (summed over the map)\n%s from %.3g to %.3g", net->layer(layer).nick.c_str(), c,
                        rank.neuron[static_cast<std::size_t>(c)], explorer_relevance_ ? "relevance" : "activation", lo, hi);
    }
    ImGui::PopID();
    if ((i + 1) % static_cast<std::size_t>(cols) != 0 && i + 1 < order.size()) ImGui::SameLine();
  }
  ImGui::EndChild();
}

void Ui::rules_tab() {
  auto net = s_->network();
  if (!net) return;
  Settings& st = settings_;
  Composite& c = st.composite;
  ImGui::SetNextItemWidth(220 * scale_);
  const bool combo = ImGui::BeginCombo("composite", c.name.c_str());
  mark("composite");
  if (!combo)
    tip("composite", "A preset: which LRP rule each layer uses. epsilon-gamma-box is the usual choice for VGG "
                     "(Montavon et al. 2019); hover a preset's entry in the table below for its rules.");
  if (combo) {
    for (const auto& n : Composite::preset_names()) {
      if (ImGui::Selectable(n.c_str(), n == c.name)) post([this, n] {
          e_->set_preset(n);
          settings_sent();
        });
      mark("composite:" + n);
    }
    ImGui::EndCombo();
  }
  flow(check_width("max-pool: winner"));
  int pm = c.maxpool(*net) == PoolMode::WinnerTakeAll ? 0 : 1;
  bool edited = false;
  if (ImGui::RadioButton("max-pool: winner", &pm, 0)) edited = true;
  tip("rules:pool:wta", "A max-pool gives all its relevance to the input that won the maximum (as the gradient does).");
  flow(check_width("proportional"));
  if (ImGui::RadioButton("proportional", &pm, 1)) edited = true;
  tip("rules:pool:avg", "A max-pool shares its relevance among its inputs in proportion to their values.");
  if (edited) c.set_maxpool(pm == 0 ? PoolMode::WinnerTakeAll : PoolMode::Proportional, *net);
  flow(check_width("biases absorb relevance"));
  bool all_bias = true;
  for (int i = 0; i < net->size(); ++i)
    if (net->layer(i).has_weights()) all_bias = all_bias && c.rule(i).bias;
  if (ImGui::Checkbox("biases absorb relevance", &all_bias)) {
    for (auto& r : c.rules) r.bias = all_bias;
    edited = true;
  }
  tip("rules:bias", "On: a layer's biases keep their share of the relevance, so less of it reaches the picture. Off: "
                    "all the relevance is passed on to the inputs (conservation is closer to exact).");
  flow(check_width("ReLU and pooling layers"));
  ImGui::Checkbox("ReLU and pooling layers", &rules_all_layers_);
  tip("rules:all", "Show the rules of the layers without weights too: ReLUs (pass, gradient, guided backprop, "
                   "deconvnet, beta-smooth) and pools (winner takes all, proportional).");
  if (small_button("Save rules")) {
    const std::string p = save_rules("lrpscope-rules.json");
    if (!p.empty()) {
      last_export_ = p;
      if (download_cb_) download_cb_(p.c_str());
    }
  }
  tip("rules:save", "Saves this table as a rules file (JSON): load it here again, or use it with lrpscope explain --rules.");
  ImGui::SameLine();
  if (small_button("Load rules...")) {
    if (open_rules_cb_) open_rules_cb_();
    else open_file_dialog(FileKind::Rules);
  }
  tip("rules:load", "Apply a rules file (JSON, as saved here or written by hand; see docs/rules.md).");
  if (!download_cb_ && !last_export_.empty() && last_export_.find("rules") != std::string::npos) {
    ImGui::SameLine();
    ImGui::TextDisabled("saved %s", last_export_.c_str());
  }
  help_text("rules",
            "LRP passes the class score down layer by layer; a rule decides how each layer shares it among its inputs. "
            "Presets combine rules that work well together. The chart shows how much relevance is left at every layer "
            "compared with the score it started from (the dashed line): rules that stabilise or ignore negative "
            "evidence let some of it leak.");
  // conservation chart
  const ExplanationView* ex = s_->explanation.get();
  if (ex) {
    ImGui::TextDisabled("how much relevance each layer passes on, from the picture (left) to the output (right)");
    std::vector<Bar> bars;
    bars.push_back({"input", ex->input_sum, "the picture (the input's relevance)"});
    for (int i = 0; i < net->size(); ++i) {
      const Layer& l = net->layer(i);
      if (l.kind == LayerKind::ReLU || l.kind == LayerKind::Flatten) continue;
      bars.push_back({l.nick, ex->layer_sums[static_cast<std::size_t>(i)], l.nick + " (" + l.name + "): the relevance of its outputs"});
    }
    const int hb = bar_chart("conservation", bars, ex->target_logit, "target logit", "sum of relevance",
                             ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 8.5f), scale_);
    mark("conservation");
    if (hb >= 0) {  // (for the test hook: which bar, its value)
      tip_name_ = "conservation:" + bars[static_cast<std::size_t>(hb)].label;
      tip_text_ = bars[static_cast<std::size_t>(hb)].tip + ": " + std::to_string(bars[static_cast<std::size_t>(hb)].value);
    }
  }
  // per-layer table
  if (ImGui::BeginTable("rules_table", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerH,
                        ImVec2(0, ImGui::GetContentRegionAvail().y))) {
    ImGui::TableSetupColumn("layer", ImGuiTableColumnFlags_WidthFixed, 150 * scale_);
    ImGui::TableSetupColumn("rule", ImGuiTableColumnFlags_WidthFixed, 120 * scale_);
    ImGui::TableSetupColumn("parameters");
    ImGui::TableHeadersRow();
    for (int i = 0; i < net->size(); ++i) {
      const Layer& l = net->layer(i);
      const unsigned mask = layer_mask(l);
      if (!mask || (!l.has_weights() && !rules_all_layers_)) continue;
      Rule& r = c.rules[static_cast<std::size_t>(i)];
      ImGui::PushID(i);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%s", l.nick.c_str());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", l.name.c_str());
      ImGui::TableNextColumn();
      ImGui::SetNextItemWidth(-1);
      const bool open = ImGui::BeginCombo("##rule", rule_name(r.kind));
      mark("rule:" + l.name);
      if (!open && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", rule_def(r.kind).summary);
      if (open) {
        for (const RuleDef& d : rule_defs()) {
          if (!(d.layers & mask)) continue;
          if (ImGui::Selectable(d.name, d.kind == r.kind) && d.kind != r.kind) {
            Rule nr = Rule::defaults(d.kind);
            nr.bias = r.bias;
            r = nr;
            edited = true;
          }
          mark("rule:" + l.name + ":" + d.name);
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", d.summary);
        }
        ImGui::EndCombo();
      }
      ImGui::TableNextColumn();
      // the rule's parameters, as the table describes them
      const float fw = 90 * scale_;
      bool first = true;
      for (Param q : rule_def(r.kind).params) {
        const ParamDef& pd = param_def(q);
        // (the stabiliser only shows when a rules file changed it: at its default it changes nothing visible)
        if (q == Param::Stabiliser && r.get(q) == rule_def(r.kind).defaults.get(q)) continue;
        if (!first) ImGui::SameLine();
        first = false;
        ImGui::PushID(static_cast<int>(q));
        bool changed = false;
        if (pd.boolean) {
          bool v = r.get(q) != 0.0f;
          if ((changed = ImGui::Checkbox(pd.label, &v))) r.set(q, v ? 1.0f : 0.0f);
        } else {
          float v = r.get(q);
          ImGui::SetNextItemWidth(fw);
          const bool log = q == Param::Epsilon || q == Param::Stabiliser;
          if ((changed = ImGui::DragFloat("##v", &v, pd.ui_step, pd.ui_min, pd.ui_max, pd.format,
                                          log ? ImGuiSliderFlags_Logarithmic : 0)))
            r.set(q, std::min(std::max(v, pd.min), pd.max));
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", pd.help);
        if (changed && rule_def(r.kind).edited) rule_def(r.kind).edited(r, q);
        edited |= changed;
        ImGui::PopID();
      }
      if (r.kind == RuleKind::ZBox) {
        ImGui::SameLine();
        ImGui::TextDisabled("bounds: the images of 0 and 1");
      }
      ImGui::PopID();
    }
    ImGui::EndTable();
  }
  if (edited) {
    c.name = "custom";
    post([this, c] {
      e_->edit_composite(c);
      settings_sent();
    });
  }
}

void Ui::optimizer_tab() {
  auto net = s_->network();
  const ExplanationView* ex = s_->explanation.get();
  if (!net || !ex) {
    ImGui::TextDisabled("waiting for an explanation");
    return;
  }
  if (optimizer_layer_ < 0) {
    for (int i = 0; i < net->size(); ++i)
      if (net->layer(i).kind == LayerKind::Conv) optimizer_layer_ = i;
  }
  ImGui::SetNextItemWidth(180 * scale_);
  const bool opt_open = ImGui::BeginCombo("layer", net->layer(optimizer_layer_).nick.c_str());
  mark("optimiser:layer");
  if (!opt_open) tip("optimiser:layer", "The layer whose neurons are counted.");
  if (opt_open) {
    for (int i = 0; i + 1 < net->size(); ++i) {
      const Layer& l = net->layer(i);
      if (l.kind != LayerKind::Conv && l.kind != LayerKind::Linear) continue;
      if (ImGui::Selectable(l.nick.c_str(), i == optimizer_layer_)) optimizer_layer_ = i;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button("Score this layer")) post([this, l = optimizer_layer_] { e_->run_optimizer(l); });
  tip("optimiser:run", "For k = 1, 2, 4, ... keep only the k most relevant neurons of this layer and measure how far "
                       "the heatmap and the prediction move from the full ones.");
  ImGui::SameLine();
  if (ImGui::Button("All layers")) post([this] { e_->run_optimizer(-1); });
  tip("optimiser:all", "Score every layer of the graph: 'k from the optimiser' in the Graph tab then uses each "
                       "layer's choice.");
  flow(140 * scale_ + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("tolerance (SMAPE)").x);
  float tol = static_cast<float>(settings_.tolerance);
  ImGui::SetNextItemWidth(140 * scale_);
  if (ImGui::SliderFloat("tolerance (SMAPE)", &tol, 0.0f, 100.0f, "%.1f")) {
    settings_.tolerance = tol;
    post([this, tol] {
      e_->set_tolerance(tol);
      settings_sent();
    });
  }
  tip("optimiser:tolerance", "How close is close enough: the chosen k is the smallest whose two SMAPE scores are both "
                             "at most this (0 = identical, 200 = nothing in common). The dashed line in the chart.");
  help_text("optimizer",
            "How many neurons of a layer do we need? For each k, keep only the k most relevant neurons and compare: "
            "backward, the heatmap through them against the full heatmap; forward, the prediction with only them "
            "switched on against the real one. Lower is closer (SMAPE 0 = identical, 200 = nothing in common). The "
            "yellow line marks the smallest k within the tolerance.");
  auto chosen = [&](const LayerCurve& c) {
    for (std::size_t i = 0; i < c.k.size(); ++i)
      if (c.backward_smape[i] <= tol && c.forward_smape[i] <= tol) return static_cast<int>(i);
    return static_cast<int>(c.k.size()) - 1;
  };
  const LayerCurve* cur = nullptr;
  for (const auto& c : s_->layer_curves())
    if (c.layer == optimizer_layer_) cur = &c;
  if (cur) {
    Chart ch;
    for (int k : cur->k) ch.x.push_back(k);
    ch.log_x = true;
    ch.mark = chosen(*cur);
    ch.xlabel = "k (neurons kept, log scale)";
    const int m = ch.mark;
    const float hgt = ImGui::GetContentRegionAvail().y * 0.33f;
    ch.ylabel = "SMAPE";
    ch.hline = tol;
    line_chart("smape", {{"backward SMAPE", cur->backward_smape, IM_COL32(230, 90, 70, 255)}, {"forward SMAPE", cur->forward_smape, IM_COL32(90, 160, 240, 255)}},
               ch, ImVec2(0, hgt), scale_);
    mark("optimiser-chart");
    ch.ylabel = "MSE";
    ch.hline = NAN;
    line_chart("mse", {{"backward MSE", cur->backward_mse, IM_COL32(230, 90, 70, 255)}, {"forward MSE", cur->forward_mse, IM_COL32(90, 160, 240, 255)}},
               ch, ImVec2(0, hgt), scale_);
    ImGui::Text("chosen k = %d of %d neurons", cur->k[static_cast<std::size_t>(m)], cur->width);
  } else {
    ImGui::TextDisabled("press 'Score this layer' to compute the curves");
  }
  if (!s_->layer_curves().empty() && ImGui::BeginTable("opt_table", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY, ImVec2(0, ImGui::GetContentRegionAvail().y))) {
    ImGui::TableSetupColumn("layer");
    ImGui::TableSetupColumn("width");
    ImGui::TableSetupColumn("chosen k");
    ImGui::TableSetupColumn("SMAPE back / fwd");
    ImGui::TableHeadersRow();
    for (const auto& c : s_->layer_curves()) {
      const int m = chosen(c);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (ImGui::Selectable(net->layer(c.layer).nick.c_str(), c.layer == optimizer_layer_, ImGuiSelectableFlags_SpanAllColumns)) optimizer_layer_ = c.layer;
      ImGui::TableNextColumn();
      ImGui::Text("%d", c.width);
      ImGui::TableNextColumn();
      ImGui::Text("%d", c.k[static_cast<std::size_t>(m)]);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f / %.2f", c.backward_smape[static_cast<std::size_t>(m)], c.forward_smape[static_cast<std::size_t>(m)]);
    }
    ImGui::EndTable();
  }
}

void Ui::evaluation_tab() {
  auto net = s_->network();
  if (!net || !s_->explanation.get()) {
    ImGui::TextDisabled("waiting for an explanation");
    return;
  }
  // two questions about the heatmap, one panel each
  const char* names[2] = {"Pixel flipping", "Sanity check"};
  const char* tips[2] = {"Does removing the most relevant patches first destroy the prediction fastest?",
                         "Does the heatmap change when the model's weights are destroyed, layer by layer?"};
  for (int i = 0; i < 2; ++i) {
    if (i) ImGui::SameLine();
    if (ImGui::RadioButton(names[i], eval_panel_ == i)) eval_panel_ = i;
    tip(i ? "evaluation:sanity" : "evaluation:flipping", "%s", tips[i]);
  }
  ImGui::Separator();
  if (eval_panel_ == 1) sanity_panel();
  else flipping_panel();
}

void Ui::flipping_panel() {
  const auto& presets = Composite::preset_names();
  ImGui::SetNextItemWidth(220 * scale_);
  ImGui::Combo("compare with", &compare_preset_, [](void* data, int i, const char** out) {
    *out = (*static_cast<const std::vector<std::string>*>(data))[static_cast<std::size_t>(i)].c_str();
    return true;
  }, const_cast<std::vector<std::string>*>(&presets), static_cast<int>(presets.size()));
  tip("evaluation:compare", "A second preset whose heatmap is tested the same way, for comparison.");
  ImGui::SameLine();
  if (ImGui::Button("Run pixel flipping")) post([this, p = std::string(presets[static_cast<std::size_t>(compare_preset_)])] { e_->run_flipping(p); });
  tip("evaluation:run", "Replace the picture patch by patch, most relevant first (by this explanation, by the "
                        "compared preset, and in a random order), and record the class score after each step.");
  help_text("evaluation",
            "Is the heatmap telling the truth? We blank out the picture patch by patch, most relevant first, and watch "
            "the class score. A good explanation makes it fall fast, faster than blanking in a random order. AOPC "
            "(area over the curve) sums up the fall: higher is better.");
  const FlipResult* a = s_->flip_result(0);
  const FlipResult* b = s_->flip_result(1);
  if (!a || !b) {
    ImGui::TextDisabled("press 'Run pixel flipping'");
    return;
  }
  Chart ch;
  for (int f : a->flipped) ch.x.push_back(f);
  ch.xlabel = "patches replaced";
  ch.ylabel = "target logit";
  const std::string n0 = settings_.composite.name + " order", n1 = s_->flip_compare() + " order";
  // the chart, and beside it the picture as the network saw it at the hovered step (the explanation's order)
  const float avail_w = ImGui::GetContentRegionAvail().x, chart_h = ImGui::GetContentRegionAvail().y * 0.6f;
  const float pic = std::min(chart_h, avail_w * 0.3f);
  const int at = line_chart("flip", {{n0.c_str(), a->lrp, IM_COL32(230, 90, 70, 255)}, {n1.c_str(), b->lrp, IM_COL32(90, 200, 120, 255)},
                                     {"random order", a->random, IM_COL32(160, 160, 170, 255)}},
                            ch, ImVec2(avail_w - pic - ImGui::GetStyle().ItemSpacing.x, chart_h), scale_);
  mark("flip-chart");
  if (at >= 0) flip_step_ = at;
  ImGui::SameLine();
  ImGui::BeginGroup();
  const Image& v = s_->pic().view;
  const int step = std::clamp(flip_step_, 0, static_cast<int>(a->flipped.size()) - 1);
  if (!v.empty() && !a->order.empty() && a->columns > 0) {
    const int n = a->flipped[static_cast<std::size_t>(step)];
    Image shown = v;
    const int channels = static_cast<int>(a->fill_byte.size());
    for (int q = 0; q < n && q < static_cast<int>(a->order.size()); ++q) {
      const int p = a->order[static_cast<std::size_t>(q)];
      const int y0 = (p / a->columns) * a->patch, x0 = (p % a->columns) * a->patch;
      for (int y = y0; y < std::min(v.height, y0 + a->patch); ++y)
        for (int x = x0; x < std::min(v.width, x0 + a->patch); ++x)
          for (int c = 0; c < 3; ++c)
            shown.rgb[(static_cast<std::size_t>(y) * v.width + x) * 3 + c] =
                static_cast<uint8_t>(a->fill_byte[static_cast<std::size_t>(std::min(c, channels - 1))] + 0.5f);
    }
    const Texture& t = cached_rgb("flip-step", shown, version(Session::Result::Flip) * 64 + step);
    ImGui::Image(t.imgui_id(), fit(t.width(), t.height(), pic, pic - ImGui::GetTextLineHeightWithSpacing() * 2));
    mark("flip-picture");
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + pic);
    ImGui::TextDisabled("step %d: %d of %d patches replaced, most relevant first (hover the chart)", step, n, a->patches);
    ImGui::PopTextWrapPos();
  }
  ImGui::EndGroup();
  ImGui::Text("AOPC: %s %.4f   %s %.4f   random %.4f", settings_.composite.name.c_str(), a->aopc_lrp,
              s_->flip_compare().c_str(), b->aopc_lrp, a->aopc_random);
  ImGui::TextDisabled("patches of %dx%d pixels; x axis: patches replaced", a->patch, a->patch);
}

}  // namespace lrp::app
