// Charts the panels draw with ImGui: a line chart (curves over steps) and a bar chart (relevance per layer).
#pragma once

#include <imgui.h>

#include <cmath>
#include <string>
#include <vector>

namespace lrp::app {

struct Series {
  const char* name;
  std::vector<double> y;
  ImU32 color;
};

struct Chart {
  std::vector<double> x;      // the x value of every point (k, patches replaced, ...)
  bool log_x = false;         // a log-scaled x axis (the optimiser's k: 1..16 dense, then x1.25 steps)
  int mark = -1;              // a vertical marker at this point
  double hline = NAN;         // a dashed horizontal line at this value (a tolerance)
  double ymin = NAN, ymax = NAN;  // a fixed y range (correlations: -1..1); else from the data (and 0)
  const char* xlabel = "";
  const char* ylabel = "";
};

struct Bar {
  std::string label;  // under the bar
  double value;
  std::string tip;    // shown when the bar is hovered (the value is added)
};

// A line chart with axes: ticks and numbers on both, the axis titles, a legend, and the values under the cursor.
// Returns the point under the cursor (-1: none).
int line_chart(const char* id, const std::vector<Series>& series, const Chart& c, ImVec2 size, float scale);

// A bar chart with axes: bars up (positive, red) or down (negative, blue) from zero, numbers on the y axis, every
// bar's label under it (two rows, labels that would touch are left out; hover says which), a dashed reference line
// with its name. Returns the bar under the cursor (-1: none).
int bar_chart(const char* id, const std::vector<Bar>& bars, double ref, const char* ref_label, const char* ylabel,
               ImVec2 size, float scale);

}  // namespace lrp::app
