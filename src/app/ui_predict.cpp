// Predict, then reveal: the explanation is hidden and the student paints where they think the evidence for the
// class is; "Reveal" shows the heatmap with the painted region outlined and says, in words, how much of the
// evidence (the positive relevance) lies there against how much of the picture was painted.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <imgui.h>

#include "app/ui.h"
#include "explain/heatmap.h"

namespace lrp::app {

void Ui::predict_sync() {
  const ExplanationView* ex = s_->explanation.get();
  if (!predict_.on || !ex) return;
  const Tensor& r = ex->input_relevance;
  // a new picture or another class is a new question: the guess starts again
  const std::pair<long long, int> key{version(Session::Result::Picture), ex->target_class};
  if (key != predict_.key || predict_.w != r.dim(2) || predict_.h != r.dim(1)) {
    predict_.key = key;
    predict_.w = r.dim(2);
    predict_.h = r.dim(1);
    predict_.mask.assign(static_cast<std::size_t>(predict_.w) * predict_.h, 0);
    predict_.revealed = false;
  }
  if (predict_.revealed) predict_.score = evidence_share(channel_sum(r), predict_.mask);
}

float Ui::brush_radius(int brush, int w, int h) {
  return static_cast<float>(brush) * std::max(1.0f, static_cast<float>(std::max(w, h)) / 28.0f);
}

// The pixels of a w x h picture drawn at p0 in `size` under a disc of `rad` pixels' radius dragged from where the
// pointer was in the last frame to where it is now (a fast stroke leaves no gaps).
void Ui::brush_cells(ImVec2 p0, ImVec2 size, int w, int h, float rad, const std::function<void(int, int)>& f) {
  const float cw = size.x / static_cast<float>(w), ch = size.y / static_cast<float>(h);
  const ImVec2 mp = ImGui::GetMousePos();
  const ImVec2 prev = ImGui::IsMouseClicked(ImGuiMouseButton_Left) || ImGui::IsMouseClicked(ImGuiMouseButton_Right)
                          ? mp : ImVec2(mp.x - ImGui::GetIO().MouseDelta.x, mp.y - ImGui::GetIO().MouseDelta.y);
  const float dist = std::hypot(mp.x - prev.x, mp.y - prev.y);
  const int steps = std::max(1, static_cast<int>(dist / std::max(1.0f, std::min(cw, ch))));
  for (int k = 0; k <= steps; ++k) {
    const float fx = (prev.x + (mp.x - prev.x) * k / steps - p0.x) / cw, fy = (prev.y + (mp.y - prev.y) * k / steps - p0.y) / ch;
    for (int y = static_cast<int>(std::floor(fy - rad)); y <= static_cast<int>(std::ceil(fy + rad)); ++y)
      for (int x = static_cast<int>(std::floor(fx - rad)); x <= static_cast<int>(std::ceil(fx + rad)); ++x) {
        if (x < 0 || y < 0 || x >= w || y >= h) continue;
        const float dx = x + 0.5f - fx, dy = y + 0.5f - fy;
        if (dx * dx + dy * dy <= rad * rad + 0.25f) f(x, y);
      }
  }
}

void Ui::set_predict(bool on) {
  predict_ = PredictState();
  predict_.on = on;
  if (on) whatif_.on = false;  // (one brush at a time)
}

// The picture alone, and the strokes of a brush on it: drag to paint, with the right button (or "erase") to erase.
void Ui::predict_canvas(const Tensor& r, ImVec2 sz) {
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  if (!predict_.revealed) {  // the picture alone (revealed: the heatmap is under the outline)
    const Texture& t = heat_view(0, r, version(Session::Result::Explanation), static_cast<int>(sz.x), 2);
    ImGui::Image(t.imgui_id(), sz);
    mark("heatmap:image");
    ImGui::SetCursorScreenPos(p0);
  }
  ImGui::InvisibleButton("##paint", sz, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  mark("predict:canvas");
  const int w = predict_.w, h = predict_.h;
  if (w <= 0 || h <= 0) return;
  const float cw = sz.x / static_cast<float>(w), ch = sz.y / static_cast<float>(h);
  if (ImGui::IsItemActive() && !predict_.revealed) {
    const bool erase = predict_.erase || ImGui::IsMouseDown(ImGuiMouseButton_Right);
    brush_cells(p0, sz, w, h, brush_radius(predict_.brush, w, h),
                [&](int x, int y) { predict_.mask[static_cast<std::size_t>(y) * w + x] = erase ? 0 : 1; });
  }
  // the painted region: filled while guessing, outlined once revealed (over the heatmap)
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImU32 fill = IM_COL32(255, 210, 40, 110), edge = IM_COL32(255, 210, 40, 255);
  auto at = [&](int x, int y) { return x >= 0 && y >= 0 && x < w && y < h && predict_.mask[static_cast<std::size_t>(y) * w + x]; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (!at(x, y)) continue;
      const float x0 = p0.x + x * cw, y0 = p0.y + y * ch, x1 = x0 + cw, y1 = y0 + ch;
      if (!predict_.revealed) dl->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y1), fill);
      if (!at(x - 1, y)) dl->AddLine(ImVec2(x0, y0), ImVec2(x0, y1), edge, 2);
      if (!at(x + 1, y)) dl->AddLine(ImVec2(x1, y0), ImVec2(x1, y1), edge, 2);
      if (!at(x, y - 1)) dl->AddLine(ImVec2(x0, y0), ImVec2(x1, y0), edge, 2);
      if (!at(x, y + 1)) dl->AddLine(ImVec2(x0, y1), ImVec2(x1, y1), edge, 2);
    }
}

std::string Ui::predict_words() const {
  const EvidenceShare& e = predict_.score;
  const std::string cls = explained_class();
  char b[512];
  if (e.area <= 0) return "You painted nothing: paint where you think the evidence is, then Reveal again.";
  const int area = static_cast<int>(std::lround(100 * e.area)), share = static_cast<int>(std::lround(100 * e.share));
  std::snprintf(b, sizeof b, "You painted %d %% of the picture, and it holds %d %% of the evidence for %s. ", area,
                share, cls.c_str());
  std::string out = b;
  const double q = e.ratio();
  if (e.area >= 0.9) out += "Painting nearly everything always holds nearly all of it: try a smaller region.";
  else if (q >= 2) std::snprintf(b, sizeof b, "That is %.1f times what the same area would hold if the evidence were spread evenly: you found where the network looked.", q), out += b;
  else if (q >= 1.2) std::snprintf(b, sizeof b, "That is %.1f times an even spread: partly where the network looked. Compare your outline with the red.", q), out += b;
  else out += "That is no more than an even spread would give: the network looked elsewhere. Compare your outline with the red.";
  return out;
}

void Ui::predict_controls() {
  if (!predict_.revealed) {
    text_wrapped("Where is the evidence for %s? Paint it on the picture (drag; right button erases), then press Reveal.",
                 explained_class().c_str());
    ImGui::SetNextItemWidth(120 * scale_);
    ImGui::SliderInt("##brush", &predict_.brush, 0, 6, "brush %d");
    tip("predict:brush", "The brush's radius in pixels of the picture as the network sees it (0: one pixel).");
    ImGui::SameLine();
    ImGui::Checkbox("erase", &predict_.erase);
    tip("predict:erase", "Paint to erase (the right mouse button erases too).");
    ImGui::SameLine();
    if (small_button("Clear")) std::fill(predict_.mask.begin(), predict_.mask.end(), 0);
    tip("predict:clear", "Start the painting again.");
    ImGui::SameLine();
    if (ImGui::Button("Reveal")) {
      predict_.revealed = true;
      if (const ExplanationView* ex = s_->explanation.get()) predict_.score = evidence_share(channel_sum(ex->input_relevance), predict_.mask);
    }
    tip("predict:reveal", "Show the explanation and how much of its evidence lies where you painted.");
  } else {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.55f, 1.0f));
    text_wrapped("%s", predict_words().c_str());
    ImGui::PopStyleColor();
    mark("predict:score");
    if (small_button("Guess again")) {
      predict_.revealed = false;
      std::fill(predict_.mask.begin(), predict_.mask.end(), 0);
    }
    tip("predict:again", "Hide the explanation and paint a new guess.");
  }
}

}  // namespace lrp::app
