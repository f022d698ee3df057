#include "app/app_state.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/shortest_text.h"
#include "explain/composite.h"
#include "explain/heatmap.h"

namespace lrp::app {

const char* view_mode_name(ViewMode m) {
  switch (m) {
    case ViewMode::Overlay: return "overlay";
    case ViewMode::SideBySide: return "side";
    case ViewMode::Heatmap: return "heatmap";
    case ViewMode::Positive: return "positive";
    case ViewMode::Negative: return "negative";
  }
  return "overlay";
}

const char* graph_nodes_name(int nodes) {
  static const char* names[] = {"circles", "maps", "heatmaps", "references"};
  return names[nodes >= 0 && nodes < kGraphNodeKinds ? nodes : 1];
}

bool parse_view_mode(const std::string& s, ViewMode* out) {
  for (int i = 0; i < 5; ++i)
    if (s == view_mode_name(static_cast<ViewMode>(i))) {
      *out = static_cast<ViewMode>(i);
      return true;
    }
  return false;
}

const char* tab_name(Tab t) {
  switch (t) {
    case Tab::Graph: return "Graph";
    case Tab::Neuron: return "Neuron";
    case Tab::Layers: return "Layers";
    case Tab::Rules: return "Rules";
    case Tab::Optimizer: return "Optimiser";
    case Tab::Evaluation: return "Evaluation";
    case Tab::Concepts: return "Concepts";
  }
  return "Graph";
}

std::string tab_key(Tab t) {
  std::string s = tab_name(t);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool parse_tab(const std::string& s, Tab* out) {
  for (int i = 0; i < kTabCount; ++i) {
    const Tab t = static_cast<Tab>(i);
    if (s == tab_name(t) || s == tab_key(t) || (t == Tab::Optimizer && s == "optimizer")) {
      *out = t;
      return true;
    }
  }
  return false;
}

std::string url_encode(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':' || c == '/') {
      o += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      o += buf;
    }
  }
  return o;
}

std::string url_decode(const std::string& s) {
  std::string o;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      o += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      o += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      o += s[i];
    }
  }
  return o;
}

bool parse_int_strict(const std::string& s, long long* out) {
  if (s.empty() || s.size() > 18) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  *out = v;
  return true;
}

bool parse_float_strict(const std::string& s, double* out) {
  if (s.empty() || s.size() > 40 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno != 0 || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string AppState::to_query() const {
  const AppState d;
  std::vector<std::pair<std::string, std::string>> q;
  if (!model.empty()) q.push_back({"model", model});
  if (!image.empty()) q.push_back({"image", image});
  if (!atlas.empty()) q.push_back({"atlas", atlas});
  if (invert != d.invert) q.push_back({"invert", invert});
  if (!rules.empty()) q.push_back({"rules", rules});
  else if (composite != d.composite) q.push_back({"composite", composite});
  if (target.kind != Target::Kind::Top1) q.push_back({"target", target.text()});
  if (!graph_layers.empty()) {
    std::string ls;
    for (const auto& l : graph_layers) ls += (ls.empty() ? "" : ",") + l;
    q.push_back({"layers", ls});
  }
  if (k_auto) q.push_back({"k", "auto"});
  else if (k != d.k) q.push_back({"k", std::to_string(k)});
  if (k_auto && cap > 0) q.push_back({"cap", std::to_string(cap)});
  if (tolerance != d.tolerance) q.push_back({"tolerance", shortest_text(tolerance)});
  if (!neuron.empty()) q.push_back({"neuron", neuron});
  if (view.mode != d.view.mode) q.push_back({"mode", view_mode_name(view.mode)});
  if (view.cmap != d.view.cmap) q.push_back({"cmap", colormap_name(view.cmap)});
  if (view.alpha != d.view.alpha) q.push_back({"alpha", shortest_text(view.alpha)});
  if (view.percentile != d.view.percentile) q.push_back({"scale", shortest_text(view.percentile)});
  if (view.gray != d.view.gray) q.push_back({"gray", view.gray ? "1" : "0"});
  if (view.nodes != d.view.nodes) q.push_back({"nodes", graph_nodes_name(view.nodes)});
  if (panel != d.panel) q.push_back({"panel", tab_key(panel)});
  if (embed) q.push_back({"embed", "1"});
  if (predict) q.push_back({"predict", "1"});
  if (!lesson.empty()) {
    q.push_back({"lesson", lesson});
    if (step > 1) q.push_back({"step", std::to_string(step)});
  }
  std::string out;
  for (const auto& [k, v] : q) out += (out.empty() ? "?" : "&") + k + "=" + url_encode(v);
  return out;
}

AppState AppState::from_query(const std::string& query, std::vector<std::string>* errors) {
  AppState s;
  std::vector<std::string> errs;
  std::string q = query;
  if (!q.empty() && q[0] == '?') q = q.substr(1);
  std::size_t pos = 0;
  while (pos <= q.size()) {
    std::size_t amp = q.find('&', pos);
    if (amp == std::string::npos) amp = q.size();
    const std::string part = q.substr(pos, amp - pos);
    pos = amp + 1;
    if (part.empty()) continue;
    const auto eq = part.find('=');
    const std::string key = url_decode(part.substr(0, eq));
    const std::string v = eq == std::string::npos ? std::string() : url_decode(part.substr(eq + 1));
    auto bad = [&](const std::string& why) { errs.push_back(key + "='" + v + "': " + why); };
    long long n = 0;
    double x = 0;
    if (key == "model") {
      s.model = v;
    } else if (key == "image") {
      s.image = v;
    } else if (key == "atlas") {
      s.atlas = v;
    } else if (key == "predict") {
      if (v == "1" || v == "0") s.predict = v == "1";
      else bad("must be 0 or 1");
    } else if (key == "lesson") {
      s.lesson = v;
    } else if (key == "step") {
      if (parse_int_strict(v, &n) && n >= 1 && n <= 100000) s.step = static_cast<int>(n);
      else bad("must be a step number (1 for the first)");
    } else if (key == "invert") {
      if (v == "auto" || v == "on" || v == "off") s.invert = v;
      else bad("must be auto, on or off");
    } else if (key == "composite") {
      const auto& names = Composite::preset_names();
      if (std::find(names.begin(), names.end(), v) != names.end()) {
        s.composite = v;
      } else {
        std::string all;
        for (const auto& p : names) all += (all.empty() ? "" : ", ") + p;
        bad("not a preset (" + all + ")");
      }
    } else if (key == "rules") {
      if (v.empty()) bad("empty");
      else s.rules = v;  // checked against the network when applied
    } else if (key == "target") {
      try {
        s.target = Target::parse(v);
      } catch (const Error& e) {
        bad(e.what());
      }
    } else if (key == "layers") {
      std::size_t p = 0;
      std::vector<std::string> ls;
      while (p <= v.size()) {
        std::size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        if (c > p) ls.push_back(v.substr(p, c - p));
        p = c + 1;
      }
      if (ls.empty()) bad("names no layer");
      else s.graph_layers = ls;
    } else if (key == "k") {
      if (v == "auto") s.k_auto = true;
      else if (parse_int_strict(v, &n) && n >= 1 && n <= kMaxK) s.k = static_cast<int>(n);
      else bad("must be 'auto' or an integer from 1 to " + std::to_string(kMaxK));
    } else if (key == "cap") {
      if (parse_int_strict(v, &n) && n >= 0 && n <= kMaxK) s.cap = static_cast<int>(n);
      else bad("must be an integer from 0 (no cap) to " + std::to_string(kMaxK));
    } else if (key == "tolerance") {
      if (parse_float_strict(v, &x) && x >= 0 && x <= 200) s.tolerance = x;
      else bad("must be a number from 0 to 200 (SMAPE)");
    } else if (key == "neuron") {
      const auto colon = v.rfind(':');
      if (colon != std::string::npos && colon > 0 && parse_int_strict(v.substr(colon + 1), &n) && n >= 0) s.neuron = v;
      else bad("must be layer:index, e.g. features.28:25");
    } else if (key == "mode") {
      if (!parse_view_mode(v, &s.view.mode)) bad("must be overlay, side, heatmap, positive or negative");
    } else if (key == "cmap") {
      const auto& names = colormap_names();
      if (std::find(names.begin(), names.end(), v) != names.end()) {
        s.view.cmap = parse_colormap(v);
      } else {
        std::string all;
        for (const auto& p : names) all += (all.empty() ? "" : ", ") + p;
        bad("not a colour map (" + all + ")");
      }
    } else if (key == "alpha") {
      if (parse_float_strict(v, &x) && x >= 0 && x <= 1) s.view.alpha = static_cast<float>(x);
      else bad("must be a number from 0 to 1");
    } else if (key == "scale") {
      if (parse_float_strict(v, &x) && x >= kMinPercentile && x <= 100) s.view.percentile = static_cast<float>(x);
      else bad("must be a percentile from 90 to 100");
    } else if (key == "nodes") {
      int k = -1;
      for (int i = 0; i < kGraphNodeKinds; ++i)
        if (v == graph_nodes_name(i)) k = i;
      if (k >= 0) s.view.nodes = k;
      else bad("must be circles, maps, heatmaps or references");
    } else if (key == "gray") {
      if (v == "1" || v == "0") s.view.gray = v == "1";
      else bad("must be 0 or 1");
    } else if (key == "panel") {
      if (!parse_tab(v, &s.panel)) bad("must be graph, neuron, layers, rules, optimiser, evaluation or concepts");
    } else if (key == "embed") {
      s.embed = v != "0" && v != "false";
    } else if (key == "single" || key == "coi" || key == "engine") {
      // read by the page itself
    } else {
      errs.push_back("unknown parameter '" + key + "'");
    }
  }
  if (!s.rules.empty()) {  // edited rules name their base preset first
    const std::string base = s.rules.substr(0, s.rules.find('~'));
    const auto& names = Composite::preset_names();
    if (std::find(names.begin(), names.end(), base) != names.end()) s.composite = base;
  }
  if (errors) errors->insert(errors->end(), errs.begin(), errs.end());
  return s;
}

std::string AppState::to_json() const {
  nlohmann::ordered_json j;
  j["model"] = model;
  j["image"] = image;
  j["atlas"] = atlas;
  j["invert"] = invert;
  j["composite"] = composite;
  j["rules"] = rules;
  j["target"] = target.text();
  j["graph_layers"] = graph_layers;
  j["k"] = k;
  j["k_auto"] = k_auto;
  j["cap"] = cap;
  j["tolerance"] = tolerance;
  j["neuron"] = neuron;
  j["mode"] = view_mode_name(view.mode);
  j["cmap"] = colormap_name(view.cmap);
  j["alpha"] = view.alpha;
  j["scale"] = view.percentile;
  j["gray"] = view.gray;
  j["nodes"] = graph_nodes_name(view.nodes);
  j["panel"] = tab_key(panel);
  j["embed"] = embed;
  j["predict"] = predict;
  j["lesson"] = lesson;
  j["step"] = step;
  return j.dump();
}

bool AppState::operator==(const AppState& o) const { return to_json() == o.to_json(); }

bool AppState::image_is_address(const std::string& s) {
  if (s.find("://") != std::string::npos || s.rfind("/", 0) == 0 || s.rfind(".", 0) == 0) return true;
  const auto dot = s.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = s.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "gif" || ext == "bmp" || ext == "webp";
}

}  // namespace lrp::app
