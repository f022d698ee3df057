#include "app/ui_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lrp::app {

// A line chart with axes: ticks and numbers on both, the axis titles, a legend, and the values under the cursor.
// Returns the point under the cursor (-1: none).
int line_chart(const char* id, const std::vector<Series>& series, const Chart& c, ImVec2 size, float scale) {
  ImGui::BeginChild(id, size, true, ImGuiWindowFlags_NoScrollbar);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 sz = ImGui::GetContentRegionAvail();
  const float lh = ImGui::GetTextLineHeight();
  const float left = 52 * scale;
  // the legend after the y axis' title, on as many rows as it needs
  const float legend_x0 = p0.x + left + ImGui::CalcTextSize(c.ylabel).x + 16;
  std::vector<ImVec2> legend_at;
  {
    float lx = legend_x0, ly = p0.y;
    for (const auto& sr : series) {
      const float w = ImGui::CalcTextSize(sr.name).x + 14;
      if (lx > legend_x0 && lx + w > p0.x + sz.x) lx = p0.x + left, ly += lh;
      legend_at.push_back(ImVec2(lx, ly));
      lx += w + 14;
    }
  }
  const float legend_rows = legend_at.empty() ? 1.0f : (legend_at.back().y - p0.y) / lh + 1;
  const float bottom = lh * 2 + 6, top = lh * (legend_rows + 0.9f), right = 10 * scale;
  double ymax = 1e-12, ymin = 0;
  std::size_t n = 0;
  for (const auto& sr : series)
    for (double v : sr.y) {
      ymax = std::max(ymax, v);
      ymin = std::min(ymin, v);
      n = std::max(n, sr.y.size());
    }
  if (std::isfinite(c.hline)) ymax = std::max(ymax, c.hline * 1.05);
  if (std::isfinite(c.ymin) && std::isfinite(c.ymax) && c.ymax > c.ymin) ymin = c.ymin, ymax = c.ymax;
  const ImVec2 a(p0.x + left, p0.y + top), b(p0.x + sz.x - right, p0.y + sz.y - bottom);
  const ImU32 axis = IM_COL32(150, 155, 165, 255), text = IM_COL32(180, 185, 195, 255), grid = IM_COL32(60, 64, 72, 255);
  auto xv = [&](std::size_t i) { return i < c.x.size() ? c.x[i] : static_cast<double>(i); };
  const double x0 = n ? xv(0) : 0, x1 = n ? xv(n - 1) : 1;
  auto X = [&](double v) {
    if (x1 <= x0) return (a.x + b.x) / 2;
    const double t = c.log_x && x0 > 0 ? (std::log(v) - std::log(x0)) / (std::log(x1) - std::log(x0)) : (v - x0) / (x1 - x0);
    return a.x + static_cast<float>(t) * (b.x - a.x);
  };
  auto Y = [&](double v) { return b.y - static_cast<float>((v - ymin) / (ymax - ymin)) * (b.y - a.y); };
  char buf[64];
  // y axis: 0, the middle and the top, with grid lines
  for (double v : {ymin, (ymin + ymax) / 2, ymax}) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    const float y = Y(v);
    dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), grid);
    dl->AddText(ImVec2(a.x - 6 - ImGui::CalcTextSize(buf).x, y - lh / 2), text, buf);
  }
  // x axis: ticks at powers of two on a log axis, else evenly spaced values; labels kept inside the chart
  std::vector<double> ticks;
  if (c.log_x && x0 > 0) {
    for (double t = 1; t <= x1 * 1.0001; t *= 2)
      if (t >= x0 * 0.9999) ticks.push_back(t);
    if (ticks.empty() || ticks.back() < x1 * 0.85) ticks.push_back(x1);
  } else if (n) {
    const std::size_t step = std::max<std::size_t>(1, (n + 7) / 8);
    for (std::size_t i = 0; i < n; i += step) ticks.push_back(xv(i));
    if (ticks.back() != x1) ticks.push_back(x1);
  }
  // labels that would touch are left out; the last one (the largest value) always shows, its neighbour gives way
  struct Label {
    float x, w;
    std::string t;
  };
  std::vector<Label> labels;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%g", ticks[i]);
    const float w = ImGui::CalcTextSize(buf).x, x = X(ticks[i]);
    dl->AddLine(ImVec2(x, b.y), ImVec2(x, b.y + 4), axis);
    const Label l{std::clamp(x - w / 2, a.x - w / 2, b.x - w), w, buf};
    const bool is_last = i + 1 == ticks.size();
    while (is_last && !labels.empty() && labels.back().x + labels.back().w + 8 > l.x) labels.pop_back();
    if (labels.empty() || labels.back().x + labels.back().w + 8 <= l.x) labels.push_back(l);
  }
  for (const auto& l : labels) dl->AddText(ImVec2(l.x, b.y + 4), text, l.t.c_str());
  dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, b.y), axis);
  dl->AddLine(ImVec2(a.x, a.y), ImVec2(a.x, b.y), axis);
  const ImVec2 xs = ImGui::CalcTextSize(c.xlabel);
  dl->AddText(ImVec2((a.x + b.x) / 2 - xs.x / 2, b.y + lh + 6), text, c.xlabel);
  dl->AddText(ImVec2(p0.x + 2, p0.y), text, c.ylabel);
  if (std::isfinite(c.hline)) {
    const float y = Y(c.hline);
    for (float x = a.x; x < b.x; x += 10) dl->AddLine(ImVec2(x, y), ImVec2(std::min(b.x, x + 5), y), IM_COL32(255, 210, 40, 200), 1.5f);
  }
  if (c.mark >= 0 && static_cast<std::size_t>(c.mark) < n) {
    const float x = X(xv(static_cast<std::size_t>(c.mark)));
    dl->AddLine(ImVec2(x, a.y), ImVec2(x, b.y), IM_COL32(255, 210, 40, 200), 2);
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& sr = series[k];
    for (std::size_t i = 1; i < sr.y.size(); ++i)
      dl->AddLine(ImVec2(X(xv(i - 1)), Y(sr.y[i - 1])), ImVec2(X(xv(i)), Y(sr.y[i])), sr.color, 2);
    const ImVec2 l = legend_at[k];
    dl->AddRectFilled(ImVec2(l.x, l.y + lh * 0.35f), ImVec2(l.x + 10, l.y + lh * 0.65f), sr.color);
    dl->AddText(ImVec2(l.x + 14, l.y), sr.color, sr.name);
  }
  // the values at the point nearest the cursor
  const ImVec2 mp = ImGui::GetMousePos();
  int hovered = -1;
  if (n && ImGui::IsWindowHovered() && mp.x >= a.x - 4 && mp.x <= b.x + 4 && mp.y >= a.y && mp.y <= b.y) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i)
      if (std::fabs(X(xv(i)) - mp.x) < std::fabs(X(xv(best)) - mp.x)) best = i;
    dl->AddLine(ImVec2(X(xv(best)), a.y), ImVec2(X(xv(best)), b.y), IM_COL32(255, 255, 255, 90));
    ImGui::BeginTooltip();
    ImGui::Text("%s %g", c.xlabel, xv(best));
    for (const auto& sr : series)
      if (best < sr.y.size()) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(sr.color), "%s: %.4g", sr.name, sr.y[best]);
    ImGui::EndTooltip();
    hovered = static_cast<int>(best);
  }
  ImGui::EndChild();
  return hovered;
}

// A bar chart with axes: bars up (positive, red) or down (negative, blue) from zero, numbers on the y axis, every
// bar's label under it (two rows, labels that would touch are left out; hover says which), a dashed reference line
// with its name. Returns the bar under the cursor (-1: none).
int bar_chart(const char* id, const std::vector<Bar>& bars, double ref, const char* ref_label, const char* ylabel,
               ImVec2 size, float scale) {
  ImGui::BeginChild(id, size, true, ImGuiWindowFlags_NoScrollbar);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), sz = ImGui::GetContentRegionAvail();
  const float lh = ImGui::GetTextLineHeight();
  const float left = 52 * scale, bottom = lh * 2 + 6, top = lh * 1.4f, right = 8 * scale;
  const ImVec2 a(p0.x + left, p0.y + top), b(p0.x + sz.x - right, p0.y + sz.y - bottom);
  double hi = std::isfinite(ref) ? std::max(0.0, ref) : 0.0, lo = std::isfinite(ref) ? std::min(0.0, ref) : 0.0;
  for (const auto& br : bars) hi = std::max(hi, br.value), lo = std::min(lo, br.value);
  if (hi - lo < 1e-12) hi = lo + 1;
  const double pad = (hi - lo) * 0.06;
  hi += hi > 0 ? pad : 0;
  lo -= lo < 0 ? pad : 0;
  auto Y = [&](double v) { return b.y - static_cast<float>((v - lo) / (hi - lo)) * (b.y - a.y); };
  const ImU32 axis = IM_COL32(150, 155, 165, 255), text = IM_COL32(180, 185, 195, 255), grid = IM_COL32(60, 64, 72, 255);
  char buf[64];
  std::vector<double> yt = {0.0};  // zero, and the largest and smallest bar
  double top_v = 0, bot_v = 0;
  for (const auto& br : bars) top_v = std::max(top_v, br.value), bot_v = std::min(bot_v, br.value);
  if (top_v > 0) yt.push_back(top_v);
  if (bot_v < 0) yt.push_back(bot_v);
  for (double v : yt) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    const float y = Y(v);
    dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), v == 0 ? axis : grid);
    dl->AddText(ImVec2(a.x - 6 - ImGui::CalcTextSize(buf).x, y - lh / 2), text, buf);
  }
  dl->AddLine(ImVec2(a.x, a.y), ImVec2(a.x, b.y), axis);
  dl->AddText(ImVec2(p0.x + 2, p0.y), text, ylabel);
  const float bw = (b.x - a.x) / std::max<std::size_t>(1, bars.size());
  const float zero = Y(0);
  float row_end[2] = {-1e9f, -1e9f};
  int hovered = -1;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const float x0 = a.x + bw * i + std::max(1.0f, bw * 0.12f), x1 = a.x + bw * (i + 1) - std::max(1.0f, bw * 0.12f);
    const float y = Y(bars[i].value);
    dl->AddRectFilled(ImVec2(x0, std::min(y, zero)), ImVec2(x1, std::max(y, zero)),
                      bars[i].value >= 0 ? IM_COL32(220, 80, 60, 255) : IM_COL32(70, 110, 230, 255));
    const float cx = (x0 + x1) / 2, w = ImGui::CalcTextSize(bars[i].label.c_str()).x;
    const float lx = std::clamp(cx - w / 2, p0.x, p0.x + sz.x - w);
    for (int r = 0; r < 2; ++r)
      if (lx > row_end[r] + 6) {
        dl->AddLine(ImVec2(cx, b.y), ImVec2(cx, b.y + 3 + r * lh), axis);
        dl->AddText(ImVec2(lx, b.y + 3 + r * lh), text, bars[i].label.c_str());
        row_end[r] = lx + w;
        break;
      }
    if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(ImVec2(a.x + bw * i, a.y), ImVec2(a.x + bw * (i + 1), p0.y + sz.y)))
      hovered = static_cast<int>(i);
  }
  if (std::isfinite(ref)) {
    const float y = Y(ref);
    for (float x = a.x; x < b.x; x += 10) dl->AddLine(ImVec2(x, y), ImVec2(std::min(b.x, x + 5), y), IM_COL32(255, 210, 40, 220), 1.5f);
    std::snprintf(buf, sizeof buf, "%s %.4g", ref_label, ref);
    const float tw = ImGui::CalcTextSize(buf).x;
    dl->AddText(ImVec2(b.x - tw, y - lh - 1), IM_COL32(255, 210, 40, 255), buf);
  }
  if (hovered >= 0) {
    const Bar& br = bars[static_cast<std::size_t>(hovered)];
    dl->AddRect(ImVec2(a.x + bw * hovered, a.y), ImVec2(a.x + bw * (hovered + 1), b.y), IM_COL32(255, 255, 255, 90));
    ImGui::BeginTooltip();
    ImGui::Text("%s", br.tip.c_str());
    ImGui::Text("sum of relevance %.5g", br.value);
    if (std::isfinite(ref) && ref != 0) ImGui::Text("%s %.5g (%.1f %%)", ref_label, ref, 100.0 * br.value / ref);
    ImGui::EndTooltip();
  }
  ImGui::EndChild();
  return hovered;
}

}  // namespace lrp::app
