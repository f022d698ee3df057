// Export: heatmaps, the neuron graph and the reconstructions as PNG, the state as JSON.
#include <algorithm>
#include <cmath>
#include <fstream>

#include "app/ui.h"
#include "model/atomic_file.h"
#include "explain/neuron_graph.h"
#include "model/network.h"

namespace lrp::app {

namespace {

// A tiny rasteriser for the graph picture: anti-aliasing is not needed for a diagram this size.
struct Canvas {
  Image img;
  Canvas(int w, int h) {
    img.width = w;
    img.height = h;
    img.rgb.assign(static_cast<std::size_t>(w) * h * 3, 24);
  }
  void dot(int x, int y, const uint8_t c[3], float a = 1.0f) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    uint8_t* p = &img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3];
    for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(p[k] * (1 - a) + c[k] * a);
  }
  void disc(float cx, float cy, float r, const uint8_t c[3]) {
    for (int y = static_cast<int>(cy - r); y <= static_cast<int>(cy + r); ++y)
      for (int x = static_cast<int>(cx - r); x <= static_cast<int>(cx + r); ++x)
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) dot(x, y, c);
  }
  void line(float x0, float y0, float x1, float y1, float width, const uint8_t c[3], float a) {
    const float len = std::max(1.0f, std::hypot(x1 - x0, y1 - y0));
    for (float t = 0; t <= len; t += 0.5f) {
      const float x = x0 + (x1 - x0) * t / len, y = y0 + (y1 - y0) * t / len;
      for (int dy = static_cast<int>(-width / 2); dy <= static_cast<int>(width / 2); ++dy)
        for (int dx = static_cast<int>(-width / 2); dx <= static_cast<int>(width / 2); ++dx)
          dot(static_cast<int>(x) + dx, static_cast<int>(y) + dy, c, a);
    }
  }
};

Image graph_image(const NeuronGraph& g, int W, int H) {
  Canvas cv(W, H);
  const int ncol = static_cast<int>(g.layers.size());
  std::vector<std::pair<float, float>> pos(g.nodes.size());
  for (int c = 0; c < ncol; ++c) {
    const auto& col = g.column_nodes[static_cast<std::size_t>(c)];
    for (std::size_t i = 0; i < col.size(); ++i)
      pos[static_cast<std::size_t>(col[i])] = {40.0f + (W - 80.0f) * c / std::max(1, ncol - 1), 30.0f + (H - 60.0f) * (i + 0.5f) / col.size()};
  }
  double me = 1e-12, mr = 1e-12;
  for (const auto& e : g.edges) me = std::max(me, std::fabs(e.relevance));
  for (const auto& n : g.nodes)
    if (n.column + 1 < ncol) mr = std::max(mr, std::fabs(n.relevance));
  const uint8_t red[3] = {230, 60, 50}, blue[3] = {60, 110, 235}, yellow[3] = {255, 210, 40}, white[3] = {240, 240, 240};
  for (const auto& e : g.edges) {
    const float m = static_cast<float>(std::fabs(e.relevance) / me);
    if (m < 0.02f) continue;
    const auto& a = pos[static_cast<std::size_t>(e.from)];
    const auto& b = pos[static_cast<std::size_t>(e.to)];
    cv.line(a.first, a.second, b.first, b.second, 1 + 4 * m, e.relevance >= 0 ? red : blue, 0.25f + 0.6f * m);
  }
  for (std::size_t i = 0; i + 1 < g.path.size(); ++i) {
    const auto& a = pos[static_cast<std::size_t>(g.path[i])];
    const auto& b = pos[static_cast<std::size_t>(g.path[i + 1])];
    cv.line(a.first, a.second, b.first, b.second, 3, yellow, 0.9f);
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const bool out = n.column == ncol - 1;
    const float r = out ? 9.0f : 4.0f + 9.0f * static_cast<float>(std::sqrt(std::fabs(n.relevance) / mr));
    if (std::find(g.path.begin(), g.path.end(), static_cast<int>(i)) != g.path.end())
      cv.disc(pos[i].first, pos[i].second, r + 2.5f, yellow);
    cv.disc(pos[i].first, pos[i].second, r, out ? white : n.relevance >= 0 ? red : blue);
  }
  return cv.img;
}

}  // namespace

std::vector<std::string> Ui::export_files(const std::string& prefix) {
  std::vector<std::string> files;
  refresh();
  const auto hold = snap_;  // the snapshot read below stays alive while state_json() refreshes
  auto net = s_->network();
  const ExplanationView* ex = s_->explanation.get();
  try {
    if (ex) {
      HeatmapOptions ho;
      ho.cmap = view_.cmap;
      ho.percentile = view_.percentile;
      ho.overlay = view_.mode == ViewMode::Overlay;
      ho.alpha = view_.alpha;
      const Tensor& r = ex->input_relevance;
      save_png(prefix + "-heatmap.png", render_heatmap(channel_sum(r), r.dim(2), r.dim(1), ho, &s_->pic().view));
      files.push_back(prefix + "-heatmap.png");
    }
    if (const Tensor* ph = s_->path_heatmap()) {
      HeatmapOptions ho;
      ho.cmap = view_.cmap;
      save_png(prefix + "-path-heatmap.png", render_heatmap(channel_sum(*ph), ph->dim(2), ph->dim(1), ho));
      files.push_back(prefix + "-path-heatmap.png");
    }
    if (const NeuronGraph* g = s_->neuron_graph()) {
      save_png(prefix + "-graph.png", graph_image(*g, 900, 520));
      files.push_back(prefix + "-graph.png");
      if (net) {
        AtomicFile f(prefix + "-graph.json", false);
        f.out() << graph_json(*g, *net);
        f.commit();
        files.push_back(prefix + "-graph.json");
      }
    }
    if (const NeuronDetail* d = s_->neuron_detail(); d && d->has_deconv) {
      HeatmapOptions ho;
      ho.cmap = Colormap::Gray;
      for (auto [name, rec] : {std::make_pair("deconvnet", &d->deconv), std::make_pair("guided", &d->guided)}) {
        const Tensor& t = rec->reconstruction;
        save_png(prefix + "-" + name + ".png", render_heatmap(channel_sum(t), t.dim(2), t.dim(1), ho));
        files.push_back(prefix + "-" + name + ".png");
      }
    }
    AtomicFile f(prefix + "-state.json", false);
    f.out() << state_json();
    f.commit();
    files.push_back(prefix + "-state.json");
  } catch (const std::exception& e) {
    files.push_back(std::string("error: ") + e.what());
  }
  return files;
}

}  // namespace lrp::app
