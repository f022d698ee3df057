// The input view (image + heatmap through our shader), the predictions, and texture helpers.
#include <algorithm>
#include <cmath>
#include <imgui.h>
#include <numeric>

#include "app/ui.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

const Texture& Ui::lut(Colormap c) {
  Texture& t = luts_[static_cast<int>(c)];
  if (!t.valid()) {
    std::vector<uint8_t> rgb(256 * 3);
    for (int i = 0; i < 256; ++i) colormap_rgb(c, i / 255.0f, &rgb[static_cast<std::size_t>(i) * 3]);
    t.upload_rgb8(256, 1, rgb.data(), false);
  }
  return t;
}

void Ui::ensure_base_textures() {
  if (base_gen_ == s_->generation()) return;
  base_gen_ = s_->generation();
  const Image& v = s_->preprocessed().view;
  if (!v.empty()) image_tex_.upload_rgb8(v.width, v.height, v.rgb.data());
}

const Texture& Ui::cached_rgb(const std::string& key, const Image& img) {
  Cached& c = cache_[key];
  if (c.gen != s_->generation() || !c.tex.valid()) {
    c.gen = s_->generation();
    if (!img.empty()) c.tex.upload_rgb8(img.width, img.height, img.rgb.data());
  }
  return c.tex;
}

const Texture& Ui::cached_map(const std::string& key, const float* v, int w, int h, bool signed_map, Colormap cm,
                              float scale) {
  Cached& c = cache_[key];
  if (c.gen != s_->generation() || !c.tex.valid()) {
    c.gen = s_->generation();
    const std::size_t n = static_cast<std::size_t>(w) * h;
    float lo = 0, hi = 0;
    for (std::size_t i = 0; i < n; ++i) {
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
    }
    const float m = scale > 0 ? scale : std::max(std::fabs(lo), std::fabs(hi));
    std::vector<uint8_t> rgba(n * 4);
    for (std::size_t i = 0; i < n; ++i) {
      float t;
      if (signed_map) t = m > 0 ? std::clamp(0.5f + 0.5f * v[i] / m, 0.0f, 1.0f) : 0.5f;
      else t = hi > lo ? (v[i] - lo) / (hi - lo) : 0.0f;
      colormap_rgb(cm, t, &rgba[i * 4]);
      rgba[i * 4 + 3] = 255;
    }
    c.tex.upload_rgba8(w, h, rgba.data());
  }
  return c.tex;
}

// Renders a relevance (C,H,W in the input space) over the input image with the heatmap shader.
// Renders a relevance (C,H,W in the input space) over the input image with the heatmap shader. The result is
// cached per slot and drawn again only when the data, the size or the view settings change.
const Texture& Ui::heat_view(int slot, const Tensor& relevance, int size, int mode_override) {
  const int m = view_.mode;
  const int shader_mode = mode_override >= 0 ? mode_override : m == 0 || m == 1 ? 0 : m == 2 ? 1 : m;
  const int out_h = size * relevance.dim(1) / std::max(1, relevance.dim(2));
  HeatSlot& hs = heat_slots_[slot];
  const bool same_data = hs.src == relevance.data() && hs.gen == base_gen_ && hs.heat.valid();
  if (!same_data) {
    const std::vector<float> h = channel_sum(relevance);
    hs.heat.upload_r32f(relevance.dim(2), relevance.dim(1), h.data());
    hs.vmax = symmetric_scale(h, view_.percentile);
    hs.percentile = view_.percentile;
    hs.src = relevance.data();
    hs.gen = base_gen_;
    hs.h = h;
  } else if (hs.percentile != view_.percentile) {
    hs.vmax = symmetric_scale(hs.h, view_.percentile);
    hs.percentile = view_.percentile;
  }
  const auto key = std::make_tuple(size, out_h, shader_mode, static_cast<int>(view_.cmap), view_.alpha, view_.gray, hs.vmax);
  if (same_data && hs.rendered && hs.key == key) return *hs.out;
  HeatmapParams p;
  p.scale = hs.vmax > 0 ? 1.0f / hs.vmax : 0.0f;
  p.alpha = view_.alpha;
  p.gray = view_.gray;
  p.mode = shader_mode;
  hs.out = &renderer_.render(slot, size, out_h, image_tex_, hs.heat, lut(view_.cmap), p);
  hs.key = key;
  hs.rendered = true;
  return *hs.out;
}

void Ui::gallery_popup() {
  if (!ImGui::BeginPopup("gallery")) return;
  const float cell = 72 * scale_;
  std::string group;
  int col = 0;
  for (const auto& sm : samples_) {
    const std::string g = sm.name.substr(0, sm.name.find('/'));
    if (g != group) {
      group = g;
      col = 0;
      ImGui::TextDisabled("%s", g == "fashion" ? "Fashion-MNIST test images (for the default model)" : "photographs (for the ImageNet VGG16)");
    }
    Texture& t = sample_thumbs_[sm.name];
    if (!t.valid()) {
      try {
        Image img = load_image(sm.path);
        t.upload_rgb8(img.width, img.height, img.rgb.data(), img.width <= 64);
      } catch (const std::exception&) {
        const uint8_t grey[3] = {60, 60, 60};
        t.upload_rgb8(1, 1, grey);
      }
    }
    if (col % 8 != 0) ImGui::SameLine();
    ImGui::PushID(sm.name.c_str());
    if (ImGui::ImageButton(t.imgui_id(), ImVec2(cell, cell))) {
      load_sample(sm.name);
      ImGui::CloseCurrentPopup();
    }
    mark("gallery:" + sm.name);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", sm.name.c_str());
    ImGui::PopID();
    ++col;
  }
  ImGui::EndPopup();
}

void Ui::input_panel(float w, float h) {
  ImGui::BeginChild("input", ImVec2(w, h), true);
  if (ImGui::SmallButton("Samples")) ImGui::OpenPopup("gallery");
  mark("samples");
  gallery_popup();
  if (open_image_cb_) {
    ImGui::SameLine();
    if (ImGui::SmallButton("Open...")) open_image_cb_();
  }
  ImGui::SameLine();
  ImGui::Text("%s", s_->image_name().c_str());
  help_text("input",
            "The picture as the network sees it, with the explanation on top. Relevance says how much each pixel "
            "pushed the network towards the class it explains: red pixels spoke for it, blue ones against it, "
            "white or clear ones hardly mattered. The colours are scaled so the strongest pixel is full colour.");
  const Explanation* ex = s_->explanation();
  const float ctrl_h = ImGui::GetFrameHeightWithSpacing() * 2.2f;
  float side = std::min(ImGui::GetContentRegionAvail().x, h - ctrl_h - ImGui::GetFrameHeightWithSpacing() * 1.3f);
  side = std::max(side, 32.0f);
  if (ex && image_tex_.valid()) {
    const int px = static_cast<int>(side);
    if (view_.mode == 1) {
      const float half = std::floor((ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2);
      const Texture& a = heat_view(0, ex->input_relevance(), static_cast<int>(half), 2);  // the image
      ImGui::Image(a.imgui_id(), ImVec2(half, half));
      ImGui::SameLine();
      const Texture& c = heat_view(1, ex->input_relevance(), static_cast<int>(half), 1);  // the heatmap
      ImGui::Image(c.imgui_id(), ImVec2(half, half));
    } else {
      const Texture& t = heat_view(0, ex->input_relevance(), px);
      ImGui::Image(t.imgui_id(), ImVec2(side, side));
    }
    mark("heatmap");
    if (ImGui::IsItemHovered() && s_->network()) {
      const ImVec2 mp = ImGui::GetMousePos(), mn = ImGui::GetItemRectMin(), mx = ImGui::GetItemRectMax();
      const Tensor& r = ex->input_relevance();
      const int x = static_cast<int>((mp.x - mn.x) / (mx.x - mn.x) * r.dim(2));
      const int y = static_cast<int>((mp.y - mn.y) / (mx.y - mn.y) * r.dim(1));
      if (x >= 0 && y >= 0 && x < r.dim(2) && y < r.dim(1)) {
        float v = 0;
        for (int c = 0; c < r.dim(0); ++c) v += r[(static_cast<std::size_t>(c) * r.dim(1) + y) * r.dim(2) + x];
        ImGui::SetTooltip("pixel (%d, %d): relevance %+.4g", x, y, v);
      }
    }
  } else {
    ImGui::Dummy(ImVec2(side, side));
    const ImVec2 mn = ImGui::GetItemRectMin();
    ImGui::GetWindowDrawList()->AddText(ImVec2(mn.x + 10, mn.y + side / 2), IM_COL32(200, 200, 200, 255),
                                        s_->busy() ? "computing..." : "open an image");
  }
  // controls
  static const char* modes[] = {"overlay", "side by side", "heatmap", "positive", "negative"};
  ImGui::SetNextItemWidth(w * 0.28f);
  ImGui::Combo("##mode", &view_.mode, modes, 5);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(w * 0.25f);
  int cm = static_cast<int>(view_.cmap);
  const auto& names = colormap_names();
  if (ImGui::BeginCombo("##cmap", names[static_cast<std::size_t>(cm)].c_str())) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string label = names[i] + (names[i] == "cividis" ? " (colour-blind safe)" : "");
      if (ImGui::Selectable(label.c_str(), static_cast<int>(i) == cm)) view_.cmap = static_cast<Colormap>(i);
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Checkbox("grey", &view_.gray);
  ImGui::SetNextItemWidth(w * 0.3f);
  ImGui::SliderFloat("##alpha", &view_.alpha, 0.0f, 1.0f, "opacity %.2f");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(w * 0.3f);
  ImGui::SliderFloat("##pct", &view_.percentile, 90.0f, 100.0f, "scale: %.1f pct");
  // the image as the user gave it
  const Image& orig = s_->image();
  if (!orig.empty() && orig.width <= 4096 && orig.height <= 4096) {
    if (original_gen_ != base_gen_) {
      original_tex_.upload_rgb8(orig.width, orig.height, orig.rgb.data(), false);
      original_gen_ = base_gen_;
    }
    const float th = ImGui::GetFrameHeight();
    ImGui::SameLine();
    ImGui::Image(original_tex_.imgui_id(), ImVec2(th * orig.width / std::max(1, orig.height), th));
    if (ImGui::IsItemHovered()) {
      ImGui::BeginTooltip();
      ImGui::Text("as you gave it: %d x %d pixels%s", orig.width, orig.height,
                  s_->preprocessed().inverted ? "\n(inverted for this model, which expects light on dark)" : "");
      const float big = 220 * scale_;
      ImGui::Image(original_tex_.imgui_id(), ImVec2(big * std::min(1.0f, static_cast<float>(orig.width) / orig.height),
                                                    big * std::min(1.0f, static_cast<float>(orig.height) / orig.width)));
      ImGui::EndTooltip();
    }
  }
  if (auto net = s_->network(); net && net->config().dark_background) {
    ImGui::SameLine();
    int inv = static_cast<int>(s_->invert());
    static const char* invs[] = {"invert: auto", "invert: on", "invert: off"};
    ImGui::SetNextItemWidth(w * 0.3f);
    if (ImGui::Combo("##invert", &inv, invs, 3)) s_->set_invert(static_cast<InvertMode>(inv));
  }
  ImGui::EndChild();
}

void Ui::predictions_panel(float w, float h) {
  ImGui::BeginChild("predictions", ImVec2(w, h), true);
  ImGui::Text("Predictions");
  ImGui::SameLine();
  if (ImGui::Checkbox("contrast", &contrast_mode_)) contrast_a_ = -1;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Explain 'class A rather than class B': click A, then B");
  help_text("predictions",
            "The five classes the network finds most likely, with their probabilities. Click one to see what in the "
            "picture speaks for that class. With 'contrast', click two classes to see what makes the first more "
            "likely than the second.");
  const ForwardPass* fwd = s_->forward();
  auto net = s_->network();
  if (fwd && net) {
    const Tensor& l = fwd->logits();
    const auto p = softmax(l);
    std::vector<int> order(l.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return l[static_cast<std::size_t>(a)] > l[static_cast<std::size_t>(b)]; });
    const Explanation* ex = s_->explanation();
    const Target& tg = s_->settings().target;
    for (int i = 0; i < std::min<int>(5, static_cast<int>(order.size())); ++i) {
      const int c = order[static_cast<std::size_t>(i)];
      const bool is_target = ex && ex->target_class() == c;
      const bool is_b = tg.kind == Target::Kind::Contrast && tg.b == c;
      ImGui::PushID(c);
      const ImVec2 pos = ImGui::GetCursorScreenPos();
      const float bw = ImGui::GetContentRegionAvail().x;
      const float bh = ImGui::GetTextLineHeight() + 4;
      const bool clicked = ImGui::InvisibleButton("cls", ImVec2(bw, bh));
      mark("pred:" + std::to_string(i));
      if (clicked) {
        if (contrast_mode_) {
          if (contrast_a_ < 0) {
            contrast_a_ = c;
          } else if (c != contrast_a_) {
            s_->set_target(Target::contrast(contrast_a_, c));
            contrast_a_ = -1;
          }
        } else {
          s_->set_target(Target::cls(c));
        }
      }
      ImDrawList* dl = ImGui::GetWindowDrawList();
      const float prob = p[static_cast<std::size_t>(c)];
      const ImU32 col = is_target ? IM_COL32(220, 70, 50, 255) : is_b ? IM_COL32(60, 110, 220, 255) : IM_COL32(90, 100, 120, 255);
      dl->AddRectFilled(pos, ImVec2(pos.x + bw, pos.y + bh), IM_COL32(40, 44, 52, 255), 3);
      dl->AddRectFilled(pos, ImVec2(pos.x + bw * prob, pos.y + bh), col, 3);
      if (ImGui::IsItemHovered()) dl->AddRect(pos, ImVec2(pos.x + bw, pos.y + bh), IM_COL32(255, 255, 255, 180), 3);
      if (contrast_a_ == c) dl->AddRect(pos, ImVec2(pos.x + bw, pos.y + bh), IM_COL32(255, 200, 60, 255), 3, 0, 2);
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s%s  %.1f %%  (logit %.2f)", is_target ? "> " : "", net->label(c).c_str(), 100.0 * prob,
                    l[static_cast<std::size_t>(c)]);
      dl->AddText(ImVec2(pos.x + 6, pos.y + 2), IM_COL32(255, 255, 255, 255), buf);
      ImGui::PopID();
    }
    if (ex) {
      if (tg.kind == Target::Kind::Contrast)
        ImGui::TextDisabled("explaining %s rather than %s", net->label(tg.a).c_str(), net->label(tg.b).c_str());
      else
        ImGui::TextDisabled("explaining %s%s", net->label(ex->target_class()).c_str(),
                            tg.kind == Target::Kind::Top1 ? " (the top class)" : "");
    } else if (contrast_mode_ && contrast_a_ >= 0) {
      ImGui::TextDisabled("now click the class to contrast with");
    }
  }
  ImGui::EndChild();
}

}  // namespace lrp::app
