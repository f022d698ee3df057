#include "explain/neuron_graph.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/explanation.h"
#include "explain/lrp_operator.h"
#include "explain/propagate_job.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

std::vector<int> default_graph_layers(const Network& net) {
  std::vector<int> out;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::Conv) {
      // the last conv of its block: the next weighted or pool layer is a max-pool
      int j = i + 1;
      while (j < net.size() && net.layer(j).kind == LayerKind::ReLU) ++j;
      if (j < net.size() && net.layer(j).kind == LayerKind::MaxPool) out.push_back(i);
    }
    if (l.kind == LayerKind::Linear && i != net.size() - 1) out.push_back(i);
  }
  return out;
}

// The graph layers (sorted, with the output layer), checked.
static void graph_layers(const Explanation& ex, const GraphOptions& opt, NeuronGraph& g) {
  const Network& net = ex.op().network();
  g.layers = opt.layers.empty() ? default_graph_layers(net) : opt.layers;
  std::sort(g.layers.begin(), g.layers.end());
  g.layers.erase(std::unique(g.layers.begin(), g.layers.end()), g.layers.end());
  const int top = net.size() - 1;
  if (g.layers.empty() || g.layers.back() != top) g.layers.push_back(top);
  for (int l : g.layers) {
    require(l >= 0 && l <= top, "graph: bad layer");
    const LayerKind k = net.layer(l).kind;
    require(k == LayerKind::Conv || k == LayerKind::Linear || k == LayerKind::MaxPool,
            "graph: layer " + net.layer(l).name + " has no neurons (use conv, pool or fc layers)");
  }
  g.column_nodes.assign(g.layers.size(), {});
}

// Nodes: the selected neurons of every graph layer (and the output class); ks[c] >= 0 replaces the selection by
// the top ks[c] (the optimiser's choice).
static void select_nodes(const Explanation& ex, const GraphOptions& opt, const std::vector<int>& ks, NeuronGraph& g) {
  const Network& net = ex.op().network();
  const ForwardPass& fwd = ex.forward();
  const int top = net.size() - 1;
  for (std::size_t c = 0; c < g.layers.size(); ++c) {
    const int l = g.layers[c];
    const auto rel = neuron_relevance(ex.relevance(l));
    const auto act = neuron_mean(fwd.output(activation_layer(net, l)));
    std::vector<int> chosen;
    double total = 0;
    for (double v : rel) total += v;
    if (l == top) {
      chosen = {ex.target_class()};
    } else {
      Selection sel = opt.selection;
      if (ks[c] >= 0) {
        sel.mode = SelectMode::TopK;
        sel.k = opt.k_cap > 0 ? std::min(ks[c], opt.k_cap) : ks[c];
      }
      chosen = select_neurons(rel, sel);
    }
    for (int idx : chosen) {
      GraphNode n;
      n.layer = l;
      n.index = idx;
      n.column = static_cast<int>(c);
      n.id = net.layer(l).name + ":" + std::to_string(idx);
      n.relevance = rel[static_cast<std::size_t>(idx)];
      n.activation = act[static_cast<std::size_t>(idx)];
      n.share = l == top ? 1.0 : total != 0 ? n.relevance / total : 0.0;
      g.column_nodes[c].push_back(static_cast<int>(g.nodes.size()));
      g.nodes.push_back(n);
    }
  }
}

// The critical path: max-sum over the layered graph, from the output down.
static void critical_path(NeuronGraph& g) {
  std::vector<double> best(g.nodes.size(), -std::numeric_limits<double>::infinity());
  std::vector<int> prev(g.nodes.size(), -1);
  for (int n : g.column_nodes.back()) best[static_cast<std::size_t>(n)] = 0.0;
  for (std::size_t c = g.layers.size() - 1; c >= 1; --c) {
    for (const GraphEdge& e : g.edges) {
      if (g.nodes[static_cast<std::size_t>(e.from)].column != static_cast<int>(c)) continue;
      const double v = best[static_cast<std::size_t>(e.from)] + e.relevance;
      if (v > best[static_cast<std::size_t>(e.to)]) {
        best[static_cast<std::size_t>(e.to)] = v;
        prev[static_cast<std::size_t>(e.to)] = e.from;
      }
    }
    if (c == 1) break;
  }
  int end = -1;
  for (int n : g.column_nodes.front())
    if (end < 0 || best[static_cast<std::size_t>(n)] > best[static_cast<std::size_t>(end)]) end = n;
  if (g.layers.size() == 1) end = g.column_nodes.front().empty() ? -1 : g.column_nodes.front().front();
  std::vector<int> up;
  for (int n = end; n >= 0; n = prev[static_cast<std::size_t>(n)]) up.push_back(n);
  g.path.assign(up.rbegin(), up.rend());
  g.path_relevance = end >= 0 ? best[static_cast<std::size_t>(end)] : 0.0;
}

GraphBuilder::GraphBuilder(const Explanation& ex, const GraphOptions& opt) : ex_(ex), opt_(opt) {
  graph_layers(ex_, opt_, g_);
  ks_.assign(g_.layers.size(), -1);
  // without the optimiser there is nothing to wait for: the nodes are chosen now
  if (!opt_.k_from_optimizer) optimised_ = g_.layers.size();
}

GraphBuilder::~GraphBuilder() = default;

double GraphBuilder::progress() const {
  if (done_) return 1.0;
  // the optimiser (when asked) and the edges count as one half each
  const double cols = static_cast<double>(std::max<std::size_t>(1, g_.layers.size() - 1));
  double opt = 1.0;
  if (opt_.k_from_optimizer)
    opt = std::min(1.0, (static_cast<double>(optimised_) + (optimizer_ ? optimizer_->progress() : 0.0)) / cols);
  const double edges = selected_ ? std::min(1.0, (static_cast<double>(batches_done_) + (job_ ? job_->progress() : 0.0)) /
                                                     static_cast<double>(batches_total_))
                                 : 0.0;
  return opt_.k_from_optimizer ? 0.5 * opt + 0.5 * edges : edges;
}

// One batch: the upper column's nodes from b0_, each member keeping only its own neuron's relevance.
void GraphBuilder::start_batch() {
  const int upper = g_.layers[column_], lower = g_.layers[column_ - 1];
  const Tensor& ru = ex_.relevance(upper);
  const auto& ups = g_.column_nodes[column_];
  const int chunk = std::max(1, opt_.chunk);
  batch_ = static_cast<int>(std::min(ups.size() - b0_, static_cast<std::size_t>(chunk)));
  const std::size_t per = ru.size();
  std::vector<int> shape = ru.shape();
  shape.insert(shape.begin(), batch_);
  Tensor batch(shape);
  const int width = ru.rank() >= 1 ? ru.dim(0) : 1;
  const std::size_t pc = per / static_cast<std::size_t>(width);
  for (int j = 0; j < batch_; ++j) {
    const int ch = g_.nodes[static_cast<std::size_t>(ups[b0_ + static_cast<std::size_t>(j)])].index;
    std::copy(ru.data() + ch * pc, ru.data() + (ch + 1) * pc, batch.data() + j * per + ch * pc);
  }
  // only the lower column's channels are read
  PropagateOptions po;
  for (int d : g_.column_nodes[column_ - 1]) po.needed.push_back(g_.nodes[static_cast<std::size_t>(d)].index);
  job_ = std::make_unique<PropagateJob>(ex_.op_ptr().get(), upper, std::move(batch), lower, std::move(po), ex_.op_ptr());
}

Step GraphBuilder::step(double budget) {
  while (!done_) {
    // 1. the optimiser's k for each graph layer below the output, one job at a time
    if (opt_.k_from_optimizer && optimised_ + 1 < g_.layers.size()) {
      if (!optimizer_) optimizer_ = std::make_unique<OptimizerJob>(ex_, g_.layers[optimised_], opt_.optimizer);
      if (optimizer_->step(budget) == Step::More) return Step::More;
      ks_[optimised_] = optimizer_->result().chosen_k;
      optimizer_.reset();
      ++optimised_;
      if (std::isfinite(budget)) return Step::More;
      continue;
    }
    // 2. the nodes
    if (!selected_) {
      select_nodes(ex_, opt_, ks_, g_);
      selected_ = true;
      column_ = g_.layers.size() - 1;
      b0_ = 0;
      const int chunk = std::max(1, opt_.chunk);
      batches_total_ = 0;
      for (std::size_t c = 1; c < g_.layers.size(); ++c)
        batches_total_ += (g_.column_nodes[c].size() + static_cast<std::size_t>(chunk) - 1) / static_cast<std::size_t>(chunk);
      batches_total_ = std::max<std::size_t>(1, batches_total_);
      if (column_ == 0 || g_.column_nodes[column_].empty()) {
        finish();
        return Step::Done;
      }
      continue;
    }
    // 3. the edges, one batch of the upper column's nodes at a time
    if (!job_) start_batch();
    if (job_->step(budget) == Step::More) return Step::More;
    const Network& net = ex_.op().network();
    const int lower = g_.layers[column_ - 1];
    const auto& ups = g_.column_nodes[column_];
    Tensor& rd = job_->result();
    const std::size_t dn = rd.size() / static_cast<std::size_t>(batch_);
    const int dwidth = net.layer(lower).out_shape[0];
    const std::size_t dpc = dn / static_cast<std::size_t>(dwidth);
    for (int j = 0; j < batch_; ++j)
      for (int d : g_.column_nodes[column_ - 1]) {
        const int ch = g_.nodes[static_cast<std::size_t>(d)].index;
        double sum = 0;
        const float* p = rd.data() + j * dn + ch * dpc;
        for (std::size_t i = 0; i < dpc; ++i) sum += p[i];
        g_.edges.push_back({ups[b0_ + static_cast<std::size_t>(j)], d, sum});
      }
    job_.reset();
    ++batches_done_;
    b0_ += static_cast<std::size_t>(batch_);
    if (b0_ >= ups.size()) {
      b0_ = 0;
      if (--column_ == 0) {
        finish();
        return Step::Done;
      }
    }
    if (std::isfinite(budget)) return Step::More;
  }
  return Step::Done;
}

void GraphBuilder::finish() {
  critical_path(g_);
  done_ = true;
}

NeuronGraph build_graph(const Explanation& ex, const GraphOptions& opt) {
  GraphBuilder b(ex, opt);
  b.run();
  return std::move(b.graph());
}

Tensor path_heatmap(const Explanation& ex, const NeuronGraph& g) {
  std::vector<NeuronMask> masks;
  for (int n : g.path) masks.push_back({g.nodes[static_cast<std::size_t>(n)].layer, {g.nodes[static_cast<std::size_t>(n)].index}});
  return restricted_lrp(ex, masks, false);
}

std::string graph_json(const NeuronGraph& g, const Network& net) {
  nlohmann::ordered_json j;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (int l : g.layers) layers.push_back({{"name", net.layer(l).name}, {"nick", net.layer(l).nick}});
  j["layers"] = layers;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const auto& n : g.nodes)
    nodes.push_back({{"id", n.id}, {"layer", net.layer(n.layer).name}, {"index", n.index}, {"relevance", n.relevance},
                     {"activation", n.activation}, {"share", n.share}, {"label", node_label(n, net)}});
  j["nodes"] = nodes;
  nlohmann::ordered_json edges = nlohmann::ordered_json::array();
  for (const auto& e : g.edges)
    edges.push_back({{"from", g.nodes[static_cast<std::size_t>(e.from)].id}, {"to", g.nodes[static_cast<std::size_t>(e.to)].id},
                     {"relevance", e.relevance}});
  j["edges"] = edges;
  nlohmann::ordered_json path = nlohmann::ordered_json::array();
  for (int n : g.path) path.push_back(g.nodes[static_cast<std::size_t>(n)].id);
  j["path"] = path;
  j["path_relevance"] = g.path_relevance;
  return j.dump();
}

std::string node_label(const GraphNode& n, const Network& net) {
  if (n.layer == net.size() - 1) return net.label(n.index);
  return net.layer(n.layer).nick + ":" + std::to_string(n.index);
}

std::string path_words(const NeuronGraph& g, const Network& net, double logit, double path_input_sum) {
  if (g.path.size() < 2) return "";
  const GraphNode& top = g.nodes[static_cast<std::size_t>(g.path.front())];
  double lo = 1e300, hi = -1e300;
  std::string chain;
  for (std::size_t i = 1; i < g.path.size(); ++i) {
    const GraphNode& n = g.nodes[static_cast<std::size_t>(g.path[i])];
    lo = std::min(lo, n.share);
    hi = std::max(hi, n.share);
    chain += (chain.empty() ? "" : ", ") + node_label(n, net);
  }
  char buf[768];
  std::snprintf(buf, sizeof buf,
                "The strongest chain of evidence for %s runs through %s. Each of these neurons holds %.1f %% to %.1f %% "
                "of its layer's relevance; the chain's links add up to %.3g (%.1f %% of the logit %.3g). What flows "
                "through all of them at once is a small part of the evidence: %.2g of the logit reaches the picture "
                "along the chain (the path heatmap, drawn on its own scale).",
                net.label(top.index).c_str(), chain.c_str(), 100.0 * lo, 100.0 * hi, g.path_relevance,
                logit != 0 ? 100.0 * g.path_relevance / logit : 0.0, logit,
                logit != 0 ? path_input_sum / logit : 0.0);
  return buf;
}

}  // namespace lrp
