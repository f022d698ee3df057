// The Evaluation tab's sanity check (Adebayo et al. 2018, cascading model randomisation; explain/sanity.h): the
// weights are re-initialised from the top layer down, one layer per step, and the heatmap of the same class is drawn
// after each step next to the trained model's, with its rank correlation and SSIM, and a verdict in words.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <imgui.h>

#include "app/ui.h"
#include "app/ui_chart.h"
#include "model/network.h"

namespace lrp::app {

namespace {

// What the scores say, in a sentence or two: the last step's rank correlation (every layer random), and the one
// after the classifier alone was re-initialised (where z+ and gamma rules are known to stay the same).
std::string sanity_verdict(const SanityView& v, const Network& net) {
  const auto& st = v.result.steps;
  if (st.size() < 2) return "";
  char b[512];
  std::string out;
  // the step at which the last fully connected layer was re-initialised (all of the classifier random)
  int cls = -1;
  for (std::size_t i = 1; i < st.size(); ++i) {
    const int l = net.find(st[i].layer);
    if (l >= 0 && net.layer(l).kind == LayerKind::Linear) cls = static_cast<int>(i);
  }
  if (cls > 0 && static_cast<std::size_t>(cls) + 1 < st.size() + (v.done ? 0 : 1)) {
    const double r = std::fabs(st[static_cast<std::size_t>(cls)].spearman_abs);
    std::snprintf(b, sizeof b,
                  r > 0.9 ? "With the whole classifier random (%s and above), the heatmap is still %.0f %% the same "
                            "by rank: it hardly depends on what the top layers learned. "
                          : "With the whole classifier random (%s and above), the heatmap's rank correlation with the "
                            "original falls to %.2f: it depends on what the top layers learned. ",
                  st[static_cast<std::size_t>(cls)].layer.c_str(), r > 0.9 ? 100 * r : r);
    out += b;
  }
  if (v.done) {
    const double r = std::fabs(st.back().spearman_abs);
    std::snprintf(b, sizeof b,
                  r < 0.5 ? "With every layer random its rank correlation is %.2f: the heatmap changed as the model was "
                            "destroyed, as a faithful explanation must."
                          : "With every layer random its rank correlation is still %.2f: much of the heatmap comes from "
                            "the picture itself, not from what the model learned.",
                  r);
    out += b;
  }
  return out;
}

}  // namespace

void Ui::sanity_panel() {
  const Network* net = s_->network();
  if (!net || !s_->explanation) return;
  ImGui::SetNextItemWidth(110 * scale_);
  ImGui::InputInt("seed", &sanity_seed_);
  sanity_seed_ = std::max(0, sanity_seed_);
  tip("sanity:seed", "The seed of the random weights: the same seed gives the same weights (lrpscope sanity --seed).");
  ImGui::SameLine();
  if (ImGui::Button("Run sanity check")) post([this, seed = sanity_seed_] { e_->run_sanity(static_cast<uint64_t>(seed)); });
  tip("sanity:run", "Re-initialise the model's weights from the top layer down, one layer at a time, and explain the "
                    "same class after each step with the current rules.");
  help_text("sanity",
            "If a heatmap explains the model, destroying the model must change it. Here the weights are replaced by "
            "random ones, the top layer first, then one more layer at each step, and the same class is explained "
            "again. Each heatmap is compared with the trained model's by rank correlation (Spearman: 1 the same "
            "order of pixels, 0 unrelated) and by SSIM (structural similarity). A heatmap that stays the same shows "
            "the picture's edges, not the model's reasons (Adebayo et al. 2018).");
  const SanityView* v = s_->sanity.get();
  if (!v) {
    ImGui::TextDisabled("press 'Run sanity check' (%s, class %d)", settings_.composite.name.c_str(),
                        s_->explanation->target_class);
    return;
  }
  const auto& st = v->result.steps;
  const int layers = [&] {
    int n = 0;
    for (const Layer& l : net->layers()) n += l.has_weights();
    return n;
  }();
  ImGui::TextWrapped("%s for class %d (%s), seed %llu: %s", v->method.c_str(), v->result.target,
                     net->label(v->result.target).c_str(), static_cast<unsigned long long>(v->seed),
                     v->done ? "every layer re-initialised"
                             : (std::to_string(st.size() - 1) + " of " + std::to_string(layers) + " layers re-initialised" +
                                (s_->busy ? "..." : " (stopped)")).c_str());
  // the chart: the scores after each step
  Chart ch;
  for (std::size_t i = 0; i < st.size(); ++i) ch.x.push_back(static_cast<double>(i));
  ch.xlabel = "layers re-initialised, from the top";
  ch.ylabel = "similarity to the original";
  Series rho{"Spearman |.|", {}, IM_COL32(230, 90, 70, 255)}, rhos{"Spearman", {}, IM_COL32(240, 170, 60, 255)},
      ss{"SSIM", {}, IM_COL32(90, 160, 240, 255)};
  for (const SanityStep& x : st) {
    rho.y.push_back(x.spearman_abs);
    rhos.y.push_back(x.spearman);
    ss.y.push_back(x.ssim);
  }
  ch.mark = sanity_step_;
  ch.ymin = -1;  // (every score is at most 1; Spearman can reach -1)
  ch.ymax = 1;
  const float avail_w = ImGui::GetContentRegionAvail().x;
  const float chart_h = std::max(120 * scale_, ImGui::GetContentRegionAvail().y * 0.34f);
  const int at = line_chart("sanity-chart", {rho, rhos, ss}, ch, ImVec2(avail_w, chart_h), scale_);
  mark("sanity-chart");
  sanity_step_ = at;
  // the heatmaps: the original and one per step, each on its own scale, in the columns that make them largest while
  // all of them fit under the chart (with a caption each, and room for the verdict)
  const float gap = ImGui::GetStyle().ItemSpacing.x, lh = ImGui::GetTextLineHeightWithSpacing();
  const int total = layers + 1;
  const float room = ImGui::GetContentRegionAvail().y - lh * 4;
  int cols = 1;
  float cell = 0;
  for (int c = 1; c <= total; ++c) {
    const int rows = (total + c - 1) / c;
    const float by_w = (avail_w + gap) / static_cast<float>(c) - gap;
    const float by_h = room / static_cast<float>(rows) - 2 * lh - ImGui::GetStyle().ItemSpacing.y;
    const float side = std::min(by_w, by_h);
    if (side > cell) cell = side, cols = c;
  }
  // (no narrower than the longest caption: a cell's group is as wide as its widest line)
  float caption_w = ImGui::CalcTextSize("original").x;
  for (const Layer& l : net->layers())
    if (l.has_weights()) caption_w = std::max(caption_w, ImGui::CalcTextSize(l.nick.c_str()).x);
  cell = std::floor(std::max({cell, 40 * scale_, caption_w + 2}));
  cols = std::max(1, std::min(cols, static_cast<int>((avail_w + gap) / (cell + gap))));
  const int h = v->result.height, w = v->result.width;
  for (int i = 0; i < total; ++i) {
    if (i % cols) ImGui::SameLine();
    ImGui::BeginGroup();
    const std::size_t k = static_cast<std::size_t>(i);
    const ImVec2 size = fit(w, h, cell, cell);
    if (k < st.size() && h > 0 && w > 0) {
      const float sc = k < v->scale.size() ? v->scale[k] : 0.0f;
      const Texture& t = cached_map("sanity/" + std::to_string(i), st[k].heatmap.data(), version(Session::Result::Sanity), w, h,
                                    true, view_.cmap, sc > 0 ? sc : 1e-12f);
      ImGui::Image(t.imgui_id(), size);
      mark("sanity-map/" + std::to_string(i));
      if (i == sanity_step_)
        ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), IM_COL32(255, 210, 40, 255), 0, 0, 2);
      if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        if (i == 0) ImGui::Text("the trained model");
        else ImGui::Text("%s and every layer above it re-initialised", st[k].layer.c_str());
        ImGui::Text("Spearman %.3f, of |relevance| %.3f, SSIM %.3f", st[k].spearman, st[k].spearman_abs, st[k].ssim);
        ImGui::Text("the model now predicts %d (%s)", st[k].predicted, net->label(st[k].predicted).c_str());
        ImGui::EndTooltip();
      }
      // the layer, and the score on a line of its own where both do not fit (a number is never cut in two)
      char cap[96];
      if (i == 0) std::snprintf(cap, sizeof cap, "original");
      else std::snprintf(cap, sizeof cap, "%s %.2f", st[k].layer.c_str(), st[k].spearman_abs);
      if (i == 0 || ImGui::CalcTextSize(cap).x <= size.x) {
        ImGui::TextUnformatted(cap);
      } else {
        ImGui::TextUnformatted(st[k].layer.c_str());
        ImGui::Text("%.2f", st[k].spearman_abs);
      }
    } else {
      ImGui::Dummy(size);
      ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), IM_COL32(90, 94, 104, 255));
      ImGui::TextDisabled("...");
      ImGui::TextUnformatted(" ");
    }
    ImGui::EndGroup();
  }
  const std::string verdict = sanity_verdict(*v, *net);
  if (!verdict.empty()) ImGui::TextWrapped("%s", verdict.c_str());
  ImGui::TextDisabled("under each heatmap: the layer re-initialised last and the Spearman correlation of |relevance|");
}

}  // namespace lrp::app
