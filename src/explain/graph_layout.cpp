#include "explain/graph_layout.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "model/network.h"

namespace lrp {

GraphLayout layout_graph(const NeuronGraph& g) {
  GraphLayout L;
  const std::size_t n = g.nodes.size(), ncol = g.column_nodes.size();
  L.x.assign(n, 0.5f);
  L.y.assign(n, 0.5f);
  L.size.assign(n, 1.0f);
  L.rows.assign(1, 0);
  double top_share = 1e-30, top_edge = 1e-30;
  for (const GraphNode& v : g.nodes)
    if (v.column + 1 < static_cast<int>(ncol)) top_share = std::max(top_share, std::fabs(v.share));
  for (const GraphEdge& e : g.edges) top_edge = std::max(top_edge, std::fabs(e.relevance));
  for (std::size_t c = 0; c < ncol; ++c) {
    const float x = ncol > 1 ? static_cast<float>(c) / static_cast<float>(ncol - 1) : 0.5f;
    L.column_x.push_back(x);
    std::vector<int> col = g.column_nodes[c];
    std::stable_sort(col.begin(), col.end(), [&](int a, int b) {
      return g.nodes[static_cast<std::size_t>(a)].relevance > g.nodes[static_cast<std::size_t>(b)].relevance;
    });
    L.rows[0] = std::max(L.rows[0], static_cast<int>(col.size()));
    for (std::size_t i = 0; i < col.size(); ++i) {
      const auto k = static_cast<std::size_t>(col[i]);
      L.x[k] = x;
      L.y[k] = (static_cast<float>(i) + 0.5f) / static_cast<float>(col.size());
      const bool output = c + 1 == ncol;
      L.size[k] = output ? 1.0f : static_cast<float>(std::sqrt(std::fabs(g.nodes[k].share) / top_share));
    }
  }
  for (const GraphEdge& e : g.edges) L.edge.push_back(static_cast<float>(std::fabs(e.relevance) / top_edge));
  return L;
}

namespace {

std::string xml(const std::string& s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\n' || ch == '\t') o += ch;
    }
  }
  return o;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

}  // namespace

std::string graph_svg(const NeuronGraph& g, const Network& net, const SvgOptions& opt) {
  const GraphLayout L = layout_graph(g);
  const float W = static_cast<float>(std::max(200, opt.width)), H = static_cast<float>(std::max(200, opt.height));
  const float title_h = opt.title.empty() ? 0.0f : 30.0f, head_h = 40.0f, legend_h = 56.0f;
  std::size_t longest = 0;  // the class column's labels stand to the right of its node
  for (int k : g.column_nodes.empty() ? std::vector<int>() : g.column_nodes.back())
    longest = std::max(longest, node_label(g.nodes[static_cast<std::size_t>(k)], net).size() + 12);
  const float left = 70, right = std::max(110.0f, 6.2f * static_cast<float>(longest) + 30), top = title_h + head_h + 16,
              bottom = H - legend_h - 12;
  const int rows = std::max(1, L.rows[0]);
  const float row_h = (bottom - top) / static_cast<float>(rows);
  const float rmax = std::clamp(row_h * 0.42f, 3.0f, 16.0f);
  auto X = [&](std::size_t i) { return left + L.x[i] * (W - left - right); };
  auto Y = [&](std::size_t i) { return top + L.y[i] * (bottom - top); };
  auto R = [&](std::size_t i) { return std::max(2.5f, rmax * (0.35f + 0.65f * L.size[i])); };
  std::string s = fmt(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n", W, H, W, H);
  if (!opt.title.empty()) s += fmt("<text x=\"12\" y=\"22\" font-size=\"16\" fill=\"#111\">%s</text>\n", xml(opt.title).c_str());
  // column headers: the layer's short name and its module name
  s += "<g class=\"columns\">\n";
  for (std::size_t c = 0; c < L.column_x.size() && c < g.layers.size(); ++c) {
    const Layer& l = net.layer(g.layers[c]);
    const float x = left + L.column_x[c] * (W - left - right);
    const bool out = c + 1 == g.layers.size();
    s += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222\">%s</text>"
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#777\">%s</text>\n",
             x, title_h + 18, xml(out ? std::string("class") : l.nick).c_str(), x, title_h + 32, xml(l.name).c_str());
  }
  s += "</g>\n";
  // the critical path as a band under everything else
  if (g.path.size() > 1) {
    s += "<polyline class=\"path\" fill=\"none\" stroke=\"#f5c400\" stroke-opacity=\"0.45\" stroke-width=\"";
    s += fmt("%.1f", rmax * 1.5f) + "\" stroke-linecap=\"round\" stroke-linejoin=\"round\" points=\"";
    for (int k : g.path) s += fmt("%.1f,%.1f ", X(static_cast<std::size_t>(k)), Y(static_cast<std::size_t>(k)));
    s += "\"/>\n";
  }
  s += "<g class=\"edges\">\n";
  for (std::size_t e = 0; e < g.edges.size(); ++e) {
    const float m = L.edge[e];
    if (m < opt.min_edge) continue;
    const GraphEdge& ed = g.edges[e];
    const auto a = static_cast<std::size_t>(ed.from), b = static_cast<std::size_t>(ed.to);
    s += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\"%.2f\" "
             "stroke-width=\"%.2f\"><title>%s -&gt; %s: %.4g</title></line>\n",
             X(a), Y(a), X(b), Y(b), ed.relevance >= 0 ? "#d7301f" : "#2b6fd6", 0.25 + 0.7 * m, 0.6 + 5.0 * m,
             xml(node_label(g.nodes[a], net)).c_str(), xml(node_label(g.nodes[b], net)).c_str(), ed.relevance);
  }
  s += "</g>\n<g class=\"nodes\" font-size=\"10\">\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& v = g.nodes[i];
    const bool out = v.column + 1 == static_cast<int>(g.layers.size());
    const bool on_path = std::find(g.path.begin(), g.path.end(), static_cast<int>(i)) != g.path.end();
    const std::string label = node_label(v, net);
    const std::string share = out ? fmt("logit %.3g", v.activation) : fmt("%.1f %%", 100.0 * v.share);
    s += fmt("<g class=\"node\" data-id=\"%s\" data-label=\"%s\"><title>%s (%s): relevance %.4g, %s</title>",
             xml(v.id).c_str(), xml(label).c_str(), xml(label).c_str(), xml(v.id).c_str(), v.relevance,
             out ? share.c_str() : (share + " of its layer's relevance").c_str());
    const char* fill = out ? "#eeeeee" : v.relevance >= 0 ? "#e8553f" : "#4f7fe0";
    s += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%.1f\"/>", X(i), Y(i),
             R(i), fill, on_path ? "#c99a00" : "#333333", on_path ? 2.5 : 0.8);
    if (row_h >= 11 || on_path || out)
      s += fmt("<text x=\"%.1f\" y=\"%.1f\" fill=\"#111\">%s  %s</text>", X(i) + R(i) + 3, Y(i) + 3.5f,
               xml(label).c_str(), xml(share).c_str());
    s += "</g>\n";
  }
  s += "</g>\n";
  // the legend
  const float ly = H - legend_h + 8;
  s += "<g class=\"legend\" font-size=\"11\" fill=\"#222\">\n";
  s += fmt("<line x1=\"12\" y1=\"%.1f\" x2=\"42\" y2=\"%.1f\" stroke=\"#d7301f\" stroke-width=\"4\"/>"
           "<text x=\"48\" y=\"%.1f\">supports (relevance flowing to the neuron below is positive)</text>\n",
           ly, ly, ly + 4);
  s += fmt("<line x1=\"12\" y1=\"%.1f\" x2=\"42\" y2=\"%.1f\" stroke=\"#2b6fd6\" stroke-width=\"4\"/>"
           "<text x=\"48\" y=\"%.1f\">opposes; a line's width is its share of the strongest link</text>\n",
           ly + 18, ly + 18, ly + 22);
  s += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f5c400\" stroke-opacity=\"0.45\" "
           "stroke-width=\"12\" stroke-linecap=\"round\"/><text x=\"%.1f\" y=\"%.1f\">the critical path (strongest "
           "chain)</text>\n", W * 0.55f, ly, W * 0.55f + 30, ly, W * 0.55f + 42, ly + 4);
  s += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#e8553f\"/><text x=\"%.1f\" y=\"%.1f\">a neuron: label "
           "layer:channel, its share of its layer's relevance (size)</text>\n", W * 0.55f + 15, ly + 18, W * 0.55f + 42, ly + 22);
  s += "</g>\n</svg>\n";
  return s;
}

}  // namespace lrp
