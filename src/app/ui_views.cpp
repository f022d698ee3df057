// The input view (image + heatmap through our shader), the predictions, and texture helpers.
#include <algorithm>
#include <cmath>
#include <cstdio>
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

// base_gen_: the version of the picture the image texture shows.
void Ui::ensure_base_textures() {
  const long long pv = version(Session::Result::Picture);
  if (base_gen_ == pv) return;
  base_gen_ = pv;
  const Image& v = s_->pic().view;
  if (!v.empty()) {
    image_tex_.upload_rgb8(v.width, v.height, v.rgb.data());
    ++uploads_["image"];
  }
}

const Texture& Ui::cached_rgb(const std::string& key, const Image& img, long long version) {
  Cached& c = cache_[key];
  if (c.gen != version || !c.tex.valid()) {
    c.gen = version;
    if (!img.empty()) {
      c.tex.upload_rgb8(img.width, img.height, img.rgb.data());
      ++uploads_["maps"];
    }
  }
  return c.tex;
}

const Texture& Ui::cached_map(const std::string& key, const float* v, long long version, int w, int h, bool signed_map,
                              Colormap cm, float scale) {
  Cached& c = cache_[key];
  if (c.gen != version || c.cmap != static_cast<int>(cm) || c.scale != scale || !c.tex.valid()) {
    c.gen = version;
    c.cmap = static_cast<int>(cm);
    c.scale = scale;
    ++uploads_["maps"];
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

// Renders a relevance (C,H,W in the input space) over the input image with the heatmap shader. The result is
// cached per slot and drawn again only when the data, the size or the view settings change.
const Texture& Ui::heat_view(int slot, const Tensor& relevance, long long version, int size, int mode_override) {
  const int m = static_cast<int>(view_.mode);
  const int shader_mode = mode_override >= 0 ? mode_override : m == 0 || m == 1 ? 0 : m == 2 ? 1 : m;
  const int out_h = size * relevance.dim(1) / std::max(1, relevance.dim(2));
  HeatSlot& hs = heat_slots_[slot];
  const bool same_data = hs.src == relevance.data() && hs.gen == version && hs.picture == base_gen_ && hs.heat.valid();
  if (!same_data) {
    const std::vector<float> h = channel_sum(relevance);
    hs.heat.upload_r32f(relevance.dim(2), relevance.dim(1), h.data());
    ++uploads_["heat" + std::to_string(slot)];
    hs.picture = base_gen_;
    hs.vmax = symmetric_scale(h, view_.percentile);
    hs.percentile = view_.percentile;
    hs.src = relevance.data();
    hs.gen = version;
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

std::string Ui::explained_class() const {
  const ExplanationView* ex = s_->explanation.get();
  auto net = s_->network();
  if (!ex || !net) return "";
  const Target& tg = settings_.target;
  if (tg.kind == Target::Kind::Contrast) return net->label(tg.a) + " rather than " + net->label(tg.b);
  return net->label(ex->target_class);
}

float Ui::colour_bar_height() const {
  return ImGui::GetTextLineHeight() * 0.6f + ImGui::GetTextLineHeightWithSpacing() + ImGui::GetStyle().ItemSpacing.y;
}

void Ui::colour_bar(int slot, float width, const std::string& cls, const std::string& name, bool mark_hover) {
  const auto it = heat_slots_.find(slot);
  if (it == heat_slots_.end() || width < 8) return;
  const HeatSlot& hs = it->second;
  char tipbuf[640];
  std::snprintf(tipbuf, sizeof tipbuf,
                "Relevance per pixel, in units of the class score (logit), summed over the colour channels: the right "
                "end speaks for %s, the left end against it, the middle colour is no relevance. Full colour at "
                "+-%.3g: the %.1f th percentile of |relevance| (the 'scale' slider), at least 1 %% of the strongest "
                "pixel's; stronger pixels are clipped to it.",
                cls.c_str(), hs.vmax, hs.percentile);
  const bool marked = mark_hover && hover_x_ >= 0;
  scale_bar(name, width, hs.vmax, view_.cmap, cls, marked ? &hover_value_ : nullptr, tipbuf);
}

void Ui::value_bar(const std::string& name, float width, float vmax, Colormap cmap, const std::string& what) {
  scale_bar(name, width, vmax, cmap, explained_class(), nullptr,
            what + ": the right end speaks for " + explained_class() + ", the left end against it; full colour at +-" +
                [&] { char b[32]; std::snprintf(b, sizeof b, "%.3g", vmax); return std::string(b); }() + ".");
}

void Ui::scale_bar(const std::string& name, float width, float vmax, Colormap cmap, const std::string& cls,
                   const float* marker, const std::string& tooltip) {
  if (width < 8) return;
  const float bar_h = std::floor(ImGui::GetTextLineHeight() * 0.6f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::Image(lut(cmap).imgui_id(), ImVec2(width, bar_h));
  mark(name);
  const bool bar_hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddLine(ImVec2(p.x + width / 2, p.y - 1), ImVec2(p.x + width / 2, p.y + bar_h + 1), IM_COL32(40, 40, 40, 255));
  if (marker && vmax > 0) {  // a value (the hovered pixel's) on the scale
    const float t = 0.5f + 0.5f * std::clamp(*marker / vmax, -1.0f, 1.0f);
    const float x = p.x + t * width;
    dl->AddTriangleFilled(ImVec2(x - 5, p.y - 6), ImVec2(x + 5, p.y - 6), ImVec2(x, p.y + 1), IM_COL32(255, 255, 255, 255));
    dl->AddTriangle(ImVec2(x - 5, p.y - 6), ImVec2(x + 5, p.y - 6), ImVec2(x, p.y + 1), IM_COL32(0, 0, 0, 255));
  }
  // the numbers and what the two ends mean
  char lo[32], hi[32];
  std::snprintf(lo, sizeof lo, "%.3g", -vmax);
  std::snprintf(hi, sizeof hi, "+%.3g", vmax);
  std::string left = std::string(lo) + "  against " + cls, right = "for " + cls + "  " + hi;
  if (ImGui::CalcTextSize((left + right).c_str()).x + 8 > width) {  // narrow: the numbers only (the words in the tooltip)
    left = lo;
    right = hi;
  }
  // (the left label is the line's item; the others are drawn at screen positions, which stay right inside groups)
  const float rw = ImGui::CalcTextSize(right.c_str()).x;
  ImGui::TextDisabled("%s", left.c_str());
  const bool label_hovered = ImGui::IsItemHovered();
  const ImVec2 line = ImGui::GetItemRectMin();
  const float lw = ImGui::GetItemRectSize().x;
  const ImU32 col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  const float zw = ImGui::CalcTextSize("0").x, gap = ImGui::CalcTextSize("  ").x;
  if (lw + gap <= width / 2 - zw / 2 && width - rw - gap >= width / 2 + zw / 2)  // the 0 at the middle, if it is free
    dl->AddText(ImVec2(p.x + width / 2 - zw / 2, line.y), col, "0");
  dl->AddText(ImVec2(std::max(p.x + lw + 8, p.x + width - rw), line.y), col, right.c_str());
  if (bar_hovered || label_hovered) show_tip(name, tooltip);
}

float Ui::input_extra_height(float w) const {
  const float f = ImGui::GetFrameHeightWithSpacing();
  return f * (w < 470 * scale_ ? 3.0f : 2.0f) + colour_bar_height() + f * 1.1f + ImGui::GetStyle().WindowPadding.y * 2 + 4;
}

bool Ui::sample_fits(const std::string& name) const {
  auto net = s_->network();
  if (!net) return true;
  const std::string g = name.substr(0, name.find('/'));
  if (g == "fashion") return net->config().channels == 1 && net->num_classes() == 10;
  if (g == "imagenet") return net->num_classes() == 1000;
  return true;
}

std::string Ui::picture_note() const {
  auto net = s_->network();
  const Image& img = s_->image();
  if (!net || img.empty()) return "";
  for (const auto& sm : samples_)
    if (sm.name == s_->image_name() && !sample_fits(sm.name))
      return "This sample was made for another model: expect a guess, not an answer.";
  const ModelConfig& c = net->config();
  bool colour = false;
  for (std::size_t i = 0; i + 2 < img.rgb.size() && !colour; i += 3 * 7)
    colour = std::abs(img.rgb[i] - img.rgb[i + 1]) > 24 || std::abs(img.rgb[i + 1] - img.rgb[i + 2]) > 24;
  std::string n;
  if (c.channels == 1 && colour) n += "greyed";
  if (s_->pic().inverted) n += std::string(n.empty() ? "" : ", ") + "inverted (light on dark, as the model was trained)";
  const int iw = img.shown_width(), ih = img.shown_height();
  const double ar = static_cast<double>(iw) / ih, mr = static_cast<double>(c.width) / c.height;
  if (iw > 4 * c.width || ih > 4 * c.height || ar > 1.5 * mr || ar < mr / 1.5)
    n += std::string(n.empty() ? "" : ", ") + "shrunk from " + std::to_string(iw) + "x" + std::to_string(ih) +
         " to " + std::to_string(c.width) + "x" + std::to_string(c.height);
  if (s_->pic().background >= 0)
    n += std::string(n.empty() ? "" : ", ") +
         (c.dark_background ? "given the model's dark background where it is transparent" : "put on white where it is transparent");
  if (n.empty() || c.channels != 1) return n.empty() ? "" : "This picture was " + n + " for the model.";
  return "This model knows small greyscale clothing pictures; this one was " + n + ", so expect a guess.";
}

void Ui::gallery_popup() {
  if (!ImGui::BeginPopup("gallery")) return;
  const float cell = 72 * scale_;
  std::string group;
  int col = 0;
  // the samples that fit the loaded model first; the others follow, said to be for another model
  std::vector<const Sample*> order;
  for (const auto& sm : samples_)
    if (sample_fits(sm.name)) order.push_back(&sm);
  for (const auto& sm : samples_)
    if (!sample_fits(sm.name)) order.push_back(&sm);
  for (const Sample* smp : order) {
    const Sample& sm = *smp;
    const std::string g = sm.name.substr(0, sm.name.find('/'));
    if (g != group) {
      group = g;
      col = 0;
      const char* what = g == "fashion" ? "Fashion-MNIST test images (for the default model)" : "photographs (for the ImageNet VGG16)";
      if (sample_fits(sm.name)) ImGui::TextDisabled("%s", what);
      else ImGui::TextColored(ImVec4(1.0f, 0.75f, 0.4f, 1.0f), "%s - not for the loaded model", what);
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
      post([this, n = sm.name] { load_sample(n); });
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
  ImGui::BeginChild("input", ImVec2(w, h), true, ImGuiWindowFlags_NavFlattened);
  if (small_button("Samples")) ImGui::OpenPopup("gallery");
  tip("samples", "Pick a test picture: Fashion-MNIST clothing for the default model, photographs for an ImageNet "
                 "VGG16. Left/right arrow keys step through them.");
  gallery_popup();
  if (open_image_cb_) {
    ImGui::SameLine();
    if (small_button("Open...")) open_image_cb_();
    tip("open-image", "Open a picture of your own (PNG, JPEG, ...; or drop it on the page). It stays on your "
                      "computer: nothing is uploaded.");
  }
  ImGui::SameLine();
  ImGui::Text("%s", s_->image_name().c_str());
  flow(check_width("guess first"));
  bool guess = predict_.on;
  if (ImGui::Checkbox("guess first", &guess)) set_predict(guess);
  tip("predict", "Predict, then reveal: hide the explanation, paint where you think the evidence for the class is, and "
                 "see how much of it you found.");
  flow(check_width("what if"));
  bool what = whatif_.on;
  if (ImGui::Checkbox("what if", &what)) {
    whatif_ = WhatIfState();
    whatif_.on = what;
    if (what) set_predict(false);
  }
  tip("whatif", "What if: paint over the picture (blur, grey, black or the data set's mean) and watch the prediction and "
                "the heatmap change.");
  if (const std::string note = picture_note(); !note.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.0f, 0.75f, 0.4f, 1.0f), "(!)");
    tip("picture-note", "%s", note.c_str());
  }
  help_text("input",
            "The picture as the network sees it, with the explanation on top. Relevance says how much each pixel "
            "pushed the network towards the class it explains: red pixels spoke for it, blue ones against it, "
            "white or clear ones hardly mattered. The bar under the picture gives the numbers (in units of the class score); "
            "the 'scale' slider sets where the colours reach full strength.");
  const ExplanationView* ex = s_->explanation.get();
  const bool narrow = w < 470 * scale_;  // the controls take three rows
  const float ctrl_h = ImGui::GetFrameHeightWithSpacing() * (narrow ? 3.2f : 2.2f) + colour_bar_height();
  float side = std::min(ImGui::GetContentRegionAvail().x, h - ctrl_h - ImGui::GetFrameHeightWithSpacing() * 1.3f);
  side = std::max(side, 32.0f);
  if (ex && image_tex_.valid()) {
    const Tensor& r = ex->input_relevance;
    // the picture keeps its aspect ratio (models with non-square inputs)
    auto pixel_tooltip = [&]() {
      if (!ImGui::IsItemHovered()) return;
      const ImVec2 mp = ImGui::GetMousePos(), mn = ImGui::GetItemRectMin(), mx = ImGui::GetItemRectMax();
      const int x = static_cast<int>(std::floor((mp.x - mn.x) / (mx.x - mn.x) * r.dim(2)));
      const int y = static_cast<int>(std::floor((mp.y - mn.y) / (mx.y - mn.y) * r.dim(1)));
      if (x >= 0 && y >= 0 && x < r.dim(2) && y < r.dim(1)) {
        float v = 0;
        for (int c = 0; c < r.dim(0); ++c) v += r[(static_cast<std::size_t>(c) * r.dim(1) + y) * r.dim(2) + x];
        ImGui::SetTooltip("pixel (%d, %d): relevance %+.4g\n%s %s (in logit units)", x, y, v,
                          v > 0 ? "for" : v < 0 ? "against" : "neither for nor against", explained_class().c_str());
        hover_x_ = x;
        hover_y_ = y;
        hover_value_ = v;
      }
    };
    const bool side_by_side = view_.mode == ViewMode::SideBySide && !predict_.on && !whatif_.on;
    // (predict and what if keep room under the picture for their controls)
    const float extra = !predict_.on && !whatif_.on ? 0.0f
                        : ImGui::GetFrameHeightWithSpacing() + ImGui::GetTextLineHeightWithSpacing() * (predict_.revealed ? 4.0f : 2.0f);
    float shown_w = 0;
    if (side_by_side) {
      const float half = std::floor((ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2);
      const ImVec2 sz = fit(r.dim(2), r.dim(1), half, side);
      const Texture& a = heat_view(0, r, version(Session::Result::Explanation), static_cast<int>(sz.x), 2);  // the image
      ImGui::Image(a.imgui_id(), sz);
      mark("heatmap:image");
      pixel_tooltip();
      ImGui::SameLine();
      const Texture& c = heat_view(1, r, version(Session::Result::Explanation), static_cast<int>(sz.x), 1);  // the heatmap
      ImGui::Image(c.imgui_id(), sz);
      mark("heatmap");
      pixel_tooltip();
      shown_w = sz.x;
    } else {
      const ImVec2 sz = fit(r.dim(2), r.dim(1), ImGui::GetContentRegionAvail().x, side - extra);
      const ImVec2 p0 = ImGui::GetCursorScreenPos();
      if (!predicting()) {  // (predict, then reveal: the picture alone until the guess is revealed)
        const Texture& t = heat_view(0, r, version(Session::Result::Explanation), static_cast<int>(sz.x));
        ImGui::Image(t.imgui_id(), sz);
        mark("heatmap");
        pixel_tooltip();
      }
      if (predict_.on) {
        ImGui::SetCursorScreenPos(p0);
        predict_canvas(r, sz);  // the strokes of the guess, or its outline once revealed
      } else if (whatif_.on) {
        whatif_canvas(p0, sz);
      }
      shown_w = sz.x;
    }
    if (!predicting()) colour_bar(side_by_side ? 1 : 0, shown_w, explained_class(), "colourbar", true);
    if (predict_.on) predict_controls();
    else if (whatif_.on) whatif_controls();
  } else {
    ImGui::Dummy(ImVec2(side, side));
    const ImVec2 mn = ImGui::GetItemRectMin();
    ImGui::GetWindowDrawList()->AddText(ImVec2(mn.x + 10, mn.y + side / 2), IM_COL32(200, 200, 200, 255),
                                        s_->busy ? "computing..." : "open an image");
  }
  // controls
  static const char* modes[] = {"overlay", "side by side", "heatmap", "positive", "negative"};
  // narrow: three rows (view mode | colours; opacity | scale; grey, the original, invert), each control half the width
  const float half = std::floor((ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2);
  ImGui::SetNextItemWidth(narrow ? half : w * 0.28f);
  const bool mode_open = ImGui::BeginCombo("##mode", modes[std::clamp(static_cast<int>(view_.mode), 0, 4)]);
  mark("mode");
  if (!mode_open)
    tip("mode", "How the relevance is drawn: over the picture (overlay), beside it, alone (heatmap), or only the "
                "evidence for the class (positive) or only the evidence against it (negative). Key: M.");
  if (mode_open) {
    for (int i = 0; i < 5; ++i) {
      if (ImGui::Selectable(modes[i], i == static_cast<int>(view_.mode))) view_.mode = static_cast<ViewMode>(i);
      mark(std::string("mode:") + view_mode_name(static_cast<ViewMode>(i)));
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(narrow ? half : w * 0.25f);
  int cm = static_cast<int>(view_.cmap);
  const auto& names = colormap_names();
  const bool cmap_open = ImGui::BeginCombo("##cmap", names[static_cast<std::size_t>(cm)].c_str());
  mark("cmap");
  if (!cmap_open)
    tip("cmap", "The colours of the heatmap: the middle colour is no relevance, one end for the class and the other "
                "against it (the bar under the picture says which). 'cividis' stays readable with colour blindness. "
                "Key: C.");
  if (cmap_open) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string label = names[i] + (names[i] == "cividis" ? " (colour-blind safe)" : "");
      if (ImGui::Selectable(label.c_str(), static_cast<int>(i) == cm)) view_.cmap = static_cast<Colormap>(i);
      mark("cmap:" + names[i]);
    }
    ImGui::EndCombo();
  }
  auto grey = [&] {
    ImGui::Checkbox("grey", &view_.gray);
    tip("grey", "Draw the picture under the heatmap in grey, so that only the heatmap is in colour.");
  };
  if (!narrow) {
    flow(check_width("grey"));
    grey();
  }
  ImGui::SetNextItemWidth(narrow ? half : w * 0.28f);
  ImGui::SliderFloat("##alpha", &view_.alpha, 0.0f, 1.0f, "opacity %.2f");
  tip("opacity", "How much the heatmap covers the picture in the overlay: 0 shows only the picture, 1 only the "
                 "heatmap. Ctrl+click to type a value.");
  flow(narrow ? half : w * 0.28f);
  ImGui::SetNextItemWidth(narrow ? half : w * 0.28f);
  ImGui::SliderFloat("##pct", &view_.percentile, 90.0f, 100.0f, "scale: %.1f pct");
  tip("scale", "Where the colours reach full strength: at %.1f, the %.1f %% strongest pixels are drawn at full colour "
               "(clipped) so that one hot pixel does not leave the rest of the heatmap pale; 100 scales to the "
               "strongest pixel. The colour bar shows the value.",
      view_.percentile, 100.0f - view_.percentile);
  if (narrow) grey();
  // the image as the user gave it
  const Image& orig = s_->image();
  if (!orig.empty() && orig.width <= 4096 && orig.height <= 4096) {
    if (original_gen_ != base_gen_) {
      std::vector<uint8_t> shown = orig.rgb;  // transparent parts on white, as a page shows them
      for (std::size_t i = 0; i < orig.alpha.size(); ++i)
        for (int c = 0; c < 3; ++c) shown[i * 3 + c] = static_cast<uint8_t>((orig.rgb[i * 3 + c] * orig.alpha[i] + 255 * (255 - orig.alpha[i]) + 127) / 255);
      original_tex_.upload_rgb8(orig.width, orig.height, shown.data(), false);
      original_gen_ = base_gen_;
    }
    const float th = ImGui::GetFrameHeight();
    flow(th * orig.width / std::max(1, orig.height));
    ImGui::Image(original_tex_.imgui_id(), ImVec2(th * orig.width / std::max(1, orig.height), th));
    mark("original");
    if (ImGui::IsItemHovered()) {
      tip_name_ = "original";
      tip_text_ = "as you gave it";
      ImGui::BeginTooltip();
      ImGui::Text("as you gave it: %d x %d pixels%s", orig.shown_width(), orig.shown_height(),
                  s_->pic().inverted ? "\n(inverted for this model, which expects light on dark)" : "");
      const float big = 220 * scale_;
      ImGui::Image(original_tex_.imgui_id(), ImVec2(big * std::min(1.0f, static_cast<float>(orig.width) / orig.height),
                                                    big * std::min(1.0f, static_cast<float>(orig.height) / orig.width)));
      ImGui::EndTooltip();
    }
  }
  if (auto net = s_->network(); net && net->config().dark_background) {
    const float inv_w = narrow ? std::max(60 * scale_, ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x -
                                                          ImGui::GetItemRectMax().x - ImGui::GetStyle().ItemSpacing.x)
                               : w * 0.3f;
    flow(inv_w);
    int inv = static_cast<int>(s_->invert);
    static const char* invs[] = {"invert: auto", "invert: on", "invert: off"};
    ImGui::SetNextItemWidth(inv_w);
    if (ImGui::Combo("##invert", &inv, invs, 3)) post([this, inv] { e_->set_invert(static_cast<InvertMode>(inv)); });
    tip("invert", "This model was trained on light clothing on a black background. 'auto' inverts a picture with a "
                  "light background so that it looks like the training pictures (%s); 'on' and 'off' decide it "
                  "yourself.",
        s_->pic().inverted ? "this one was inverted" : "this one was not");
  }
  ImGui::EndChild();
}

void Ui::predictions_panel(float w, float h) {
  ImGui::BeginChild("predictions", ImVec2(w, h), true, ImGuiWindowFlags_NavFlattened);
  ImGui::Text("Predictions");
  ImGui::SameLine();
  // the check box follows the target when it changes (a link, a lesson's step): ticked for a contrast, unticked when
  // a contrast gives way to another target; ticked by hand, it waits for the two clicks
  const bool is_contrast = settings_.target.kind == Target::Kind::Contrast;
  if (is_contrast != contrast_seen_) {
    contrast_mode_ = is_contrast;
    contrast_a_ = -1;
    contrast_seen_ = is_contrast;
  }
  if (ImGui::Checkbox("contrast", &contrast_mode_)) {
    contrast_a_ = -1;
    // unticking goes back to explaining the first class of the contrast on its own
    const Target& t = settings_.target;
    if (!contrast_mode_ && t.kind == Target::Kind::Contrast) post([this, a = t.a] { send_target(Target::cls(a)); });
  }
  tip("contrast", "Explain 'class A rather than class B': tick, then click A, then B. The heatmap then shows what "
                  "makes the picture more A than B.");
  help_text("predictions",
            "The five classes the network finds most likely, with their probabilities. Click one to see what in the "
            "picture speaks for that class. With 'contrast', click two classes to see what makes the first more "
            "likely than the second.");
  auto net = s_->network();
  if (s_->logits && net) {
    const Tensor& l = *s_->logits;
    const ClassRanking& rank = class_ranking(l);
    const auto& p = rank.probs;
    const auto& order = rank.order;
    const ExplanationView* ex = s_->explanation.get();
    const Target& tg = settings_.target;
    for (int i = 0; i < std::min<int>(5, static_cast<int>(order.size())); ++i) {
      const int c = order[static_cast<std::size_t>(i)];
      const bool is_target = ex && ex->target_class == c;
      const bool is_b = tg.kind == Target::Kind::Contrast && tg.b == c;
      ImGui::PushID(c);
      const ImVec2 pos = ImGui::GetCursorScreenPos();
      const float bw = ImGui::GetContentRegionAvail().x;
      const float bh = touch_ ? ImGui::GetFrameHeight() : ImGui::GetTextLineHeight() + 4;  // a finger's size on touch screens
      const bool clicked = ImGui::InvisibleButton("cls", ImVec2(bw, bh));
      tip(("pred:" + std::to_string(i)).c_str(),
          contrast_mode_ ? (contrast_a_ < 0 ? "Click the first class of the contrast (A in 'A rather than B')."
                                            : "Click the class to contrast with (B in 'A rather than B').")
                         : "Click to explain this class: what in the picture speaks for it. Key T goes back to the top class.");
      if (clicked) {
        if (contrast_mode_) {
          if (contrast_a_ < 0) {
            contrast_a_ = c;
          } else if (c != contrast_a_) {
            post([this, a = contrast_a_, c] { send_target(Target::contrast(a, c)); });
            contrast_a_ = -1;
          }
        } else {
          post([this, c] { send_target(Target::cls(c)); });
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
      dl->AddText(ImVec2(pos.x + 6, pos.y + (bh - ImGui::GetTextLineHeight()) / 2), IM_COL32(255, 255, 255, 255), buf);
      ImGui::PopID();
    }
    if (ex) {
      if (tg.kind == Target::Kind::Contrast)
        ImGui::TextDisabled("explaining %s rather than %s", net->label(tg.a).c_str(), net->label(tg.b).c_str());
      else
        ImGui::TextDisabled("explaining %s%s", net->label(ex->target_class).c_str(),
                            tg.kind == Target::Kind::Top1 ? " (the top class)" : "");
    } else if (contrast_mode_ && contrast_a_ >= 0) {
      ImGui::TextDisabled("now click the class to contrast with");
    }
  }
  ImGui::EndChild();
}

const Ui::ClassRanking& Ui::class_ranking(const Tensor& logits) {
  if (class_rank_.src != logits.data() || class_rank_.gen != version(Session::Result::Forward)) {
    class_rank_.src = logits.data();
    class_rank_.gen = version(Session::Result::Forward);
    class_rank_.probs = softmax(logits);
    class_rank_.order = rank_classes(logits);
  }
  return class_rank_;
}

const Ui::LayerRanking& Ui::layer_ranking(const Tensor& relevance) {
  if (layer_rank_.src != relevance.data() || layer_rank_.gen != version(Session::Result::Explanation)) {
    layer_rank_.src = relevance.data();
    layer_rank_.gen = version(Session::Result::Explanation);
    layer_rank_.neuron = neuron_relevance(relevance);
    layer_rank_.order = rank_neurons(layer_rank_.neuron, false);
    layer_rank_.max_abs = 0;
    for (std::size_t i = 0; i < relevance.size(); ++i) layer_rank_.max_abs = std::max(layer_rank_.max_abs, std::fabs(relevance[i]));
  }
  return layer_rank_;
}

}  // namespace lrp::app
