// What if: paint over the picture as the model sees it — blur it, grey it, black it out or fill it with the data
// set's mean — and the prediction and the heatmap follow as you paint; Undo takes back a stroke, "Reset picture"
// all of them; the prediction is shown before -> after.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <imgui.h>

#include "app/ui.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

namespace {

const char* kFills[] = {"blur", "grey", "black", "data set mean"};

}  // namespace

void Ui::whatif_sync() {
  if (!whatif_.on) return;
  const PictureView& pv = s_->pic();
  if (pv.view.empty()) return;
  // a picture opened (or reset): painting starts from it
  if (!pv.edited && version(Session::Result::Picture) != whatif_.picture && !whatif_.painting) {
    whatif_.picture = version(Session::Result::Picture);
    whatif_.view = pv.view;
    whatif_.undo.clear();
    whatif_.mask.assign(static_cast<std::size_t>(pv.view.width) * pv.view.height, 0);
    whatif_.before.reset();
  }
  if (!whatif_.before && !pv.edited && s_->logits && version(Session::Result::Forward) >= whatif_.picture)
    whatif_.before = s_->logits;
}

void Ui::whatif_canvas(ImVec2 p0, ImVec2 sz) {
  Image& v = whatif_.view;
  if (v.empty() || v.width <= 0) return;
  ImGui::SetCursorScreenPos(p0);
  ImGui::InvisibleButton("##whatif", sz);
  mark("whatif:canvas");
  const int w = v.width, h = v.height;
  if (ImGui::IsItemActivated()) {  // a stroke begins: what it paints over can be taken back
    whatif_.undo.push_back(v);
    if (whatif_.undo.size() > 50) whatif_.undo.erase(whatif_.undo.begin());
    whatif_.painting = true;
  }
  bool changed = false;
  if (ImGui::IsItemActive() && !whatif_.undo.empty()) {
    const Image& base = whatif_.undo.back();  // (a blur reads the picture as it was before the stroke)
    const Network* net = s_->network();
    uint8_t fill[3] = {128, 128, 128};
    if (whatif_.fill == 2) fill[0] = fill[1] = fill[2] = 0;
    if (whatif_.fill == 3 && net) {
      const ModelConfig& c = net->config();
      for (int k = 0; k < 3; ++k) {
        const float m = c.mean.empty() ? 0.5f : c.mean[std::min<std::size_t>(static_cast<std::size_t>(k), c.mean.size() - 1)];
        fill[k] = static_cast<uint8_t>(std::clamp(std::lround(m / (c.scale > 0 ? c.scale : 1.0f / 255.0f)), 0L, 255L));
      }
    }
    const int br = std::max(1, w / 28) * 2;  // the blur's box: 5 x 5 pixels of a 28-pixel picture
    brush_cells(p0, sz, w, h, brush_radius(whatif_.brush, w, h), [&](int x, int y) {
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      for (int k = 0; k < 3; ++k) {
        uint8_t out = fill[k];
        if (whatif_.fill == 0) {
          int sum = 0, n = 0;
          for (int yy = std::max(0, y - br); yy <= std::min(h - 1, y + br); ++yy)
            for (int xx = std::max(0, x - br); xx <= std::min(w - 1, x + br); ++xx, ++n)
              sum += base.rgb[(static_cast<std::size_t>(yy) * w + xx) * 3 + k];
          out = static_cast<uint8_t>((sum + n / 2) / n);
        }
        if (v.rgb[i * 3 + k] != out) changed = true;
        v.rgb[i * 3 + k] = out;
      }
      whatif_.mask[i] = 1;
    });
  }
  // the picture is explained again as it is painted (a few times a second while the stroke goes on)
  const double now = ImGui::GetTime();
  if ((changed && now - whatif_.last_sent > 0.15) || ImGui::IsItemDeactivated()) {
    e_->edit_view(v);
    whatif_.last_sent = now;
  }
  if (ImGui::IsItemDeactivated()) whatif_.painting = false;
  // what is painted but not yet explained: drawn over the picture the engine last explained
  const Image& shown = s_->pic().view;
  if (shown.width == w && shown.height == h) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float cw = sz.x / w, ch = sz.y / h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t i = (static_cast<std::size_t>(y) * w + x) * 3;
        if (v.rgb[i] == shown.rgb[i] && v.rgb[i + 1] == shown.rgb[i + 1] && v.rgb[i + 2] == shown.rgb[i + 2]) continue;
        dl->AddRectFilled(ImVec2(p0.x + x * cw, p0.y + y * ch), ImVec2(p0.x + (x + 1) * cw, p0.y + (y + 1) * ch),
                          IM_COL32(v.rgb[i], v.rgb[i + 1], v.rgb[i + 2], 255));
      }
  }
}

std::string Ui::whatif_words() const {
  const Network* net = s_->network();
  if (!net || !whatif_.before || !s_->logits || !s_->pic().edited) return "";
  const std::vector<float> p0 = softmax(*whatif_.before), p1 = softmax(*s_->logits);
  const int c0 = argmax(*whatif_.before), c1 = argmax(*s_->logits);
  char b[512];
  std::snprintf(b, sizeof b, "Before: %s %.1f %%. After: %s %.1f %%", net->label(c0).c_str(), 100.0 * p0[static_cast<std::size_t>(c0)],
                net->label(c0).c_str(), 100.0 * p1[static_cast<std::size_t>(c0)]);
  std::string out = b;
  if (c1 == c0) out += " (still the top class).";
  else std::snprintf(b, sizeof b, "; the network now says %s (%.1f %%).", net->label(c1).c_str(), 100.0 * p1[static_cast<std::size_t>(c1)]), out += b;
  return out;
}

void Ui::whatif_controls() {
  ImGui::SetNextItemWidth(150 * scale_);
  const bool open = ImGui::BeginCombo("##fill", kFills[std::clamp(whatif_.fill, 0, 3)]);
  mark("whatif:fill");
  if (open) {
    for (int i = 0; i < 4; ++i) {
      if (ImGui::Selectable(kFills[i], i == whatif_.fill)) whatif_.fill = i;
      mark(std::string("whatif:fill:") + kFills[i]);
    }
    ImGui::EndCombo();
  }
  if (!open) tip("whatif:fill", "What the brush paints: a blur of the picture, grey, black, or the data set's mean (what the "
                     "network sees as 'nothing').");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(110 * scale_);
  ImGui::SliderInt("##wbrush", &whatif_.brush, 0, 6, "brush %d");
  tip("whatif:brush", "The brush's radius in pixels of the picture as the network sees it (0: one pixel).");
  ImGui::SameLine();
  ImGui::BeginDisabled(whatif_.undo.empty());
  if (small_button("Undo")) {
    whatif_.view = whatif_.undo.back();
    whatif_.undo.pop_back();
    post([this, v = whatif_.view] { e_->edit_view(v); });
  }
  ImGui::EndDisabled();
  tip("whatif:undo", "Take back the last stroke.");
  ImGui::SameLine();
  ImGui::BeginDisabled(whatif_.undo.empty() && !s_->pic().edited);
  if (small_button("Reset picture")) {
    whatif_.undo.clear();
    post([this] { e_->reset_view(); });
  }
  ImGui::EndDisabled();
  tip("whatif:reset", "The picture as it was opened.");
  const std::string words = whatif_words();
  if (!words.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.55f, 1.0f));
    text_wrapped("%s", words.c_str());
    ImGui::PopStyleColor();
    mark("whatif:words");
  } else {
    ImGui::TextDisabled("Paint over the picture: the prediction and the heatmap follow.");
  }
}

}  // namespace lrp::app
