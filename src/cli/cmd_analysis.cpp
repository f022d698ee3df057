#include <algorithm>
// The seed paper's analyses as commands: conditional, optimize, graph, deconv, flip.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/explain_common.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "explain/conditional.h"
#include "explain/deconv.h"
#include "explain/heatmap.h"
#include "explain/graph_layout.h"
#include "explain/neuron_graph.h"
#include "explain/optimizer.h"
#include "explain/pixel_flipping.h"
#include "model/atomic_file.h"
#include "model/npy.h"

namespace lrp::cli {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, sep))
    if (!t.empty()) out.push_back(t);
  return out;
}

HeatmapOptions heatmap_options(const Args& a) {
  HeatmapOptions ho;
  if (a.has("cmap")) ho.cmap = parse_colormap(a.get("cmap"));
  ho.overlay = a.flag("overlay");
  return ho;
}

void save_heatmap(const std::string& path, const Tensor& r, const Opened& s, const HeatmapOptions& ho) {
  save_png(path, render_heatmap(channel_sum(r), r.dim(2), r.dim(1), ho, &s.pre.view));
}

// A layer that has neurons (conv, pool, fc) by name, with a clear error otherwise.
int neuron_layer(const Network& net, const std::string& name) {
  const int i = net.require_layer(name);
  const LayerKind k = net.layer(i).kind;
  if (k != LayerKind::Conv && k != LayerKind::Linear && k != LayerKind::MaxPool)
    throw Error("layer '" + name + "' has no neurons to select (use a conv, pool or fc layer such as features.28)");
  if (i == net.size() - 1)
    throw Error("layer '" + name + "' is the output layer: its neurons are the classes (choose them with --target); "
                "use a hidden layer such as features.28 or classifier.3");
  return i;
}

// The optimiser's SMAPE tolerance, checked the same way wherever it is accepted.
double tolerance_option(const Args& a) {
  const double t = a.get_double("tolerance", 20.0);
  if (t < 0 || t > 200) throw Error("--tolerance must be a SMAPE between 0 and 200, got " + a.get("tolerance"));
  return t;
}

// Distinct channel indices of a layer ("1,1" names one neuron twice: an error, not twice its relevance).
std::vector<int> channel_list(const Network& net, int layer, const std::string& text) {
  std::vector<int> channels;
  for (const auto& c : split(text, ',')) {
    const int v = parse_int("channels", c, 0, net.layer(layer).out_shape[0] - 1);
    if (std::find(channels.begin(), channels.end(), v) != channels.end())
      throw Error("--channels names channel " + std::to_string(v) + " twice");
    channels.push_back(v);
  }
  if (channels.empty()) throw Error("--channels needs at least one index");
  return channels;
}

std::shared_ptr<Explanation> full_explanation(Opened& s) {
  auto ex = s.explanation(s.composite, s.opt);
  ex->run();
  return ex;
}

}  // namespace

int cmd_conditional(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"layer", "channels", "npy-dir", "out", "cmap"});
  Args a(argv, values, {"json", "overlay", "renormalise"});
  Opened s = open_workspace(a);
  const Network& net = *s.net;
  const int layer = neuron_layer(net, a.require("layer"));
  const std::vector<int> channels = channel_list(net, layer, a.require("channels"));
  Timer t;
  auto ex = full_explanation(s);
  const double full_ms = t.ms();
  t.reset();
  Tensor r = restricted_lrp(*ex, {NeuronMask{layer, channels}}, a.flag("renormalise"));
  const double cond_ms = t.ms();
  if (a.has("npy-dir")) write_npy(a.get("npy-dir") + "/relevance_input.npy", r);
  if (a.has("out")) save_heatmap(a.get("out"), r, s, heatmap_options(a));
  const NeuronShare ns = neuron_share(ex->relevance(layer), channels);
  const double share = ns.relevance, total = ns.layer;
  double rsum = 0;
  for (std::size_t i = 0; i < r.size(); ++i) rsum += r[i];
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["layer"] = net.layer(layer).name;
    j["channels"] = channels;
    j["target"] = ex->target_class();
    j["target_logit"] = ex->target_logit();
    j["neuron_relevance"] = share;
    j["layer_relevance"] = total;
    j["input_sum"] = rsum;
    j["timings"] = {{"explain_ms", full_ms}, {"conditional_ms", cond_ms}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("conditional relevance of %s channels %s (target %s, %s)\n", net.layer(layer).name.c_str(),
              a.get("channels").c_str(), net.label(ex->target_class()).c_str(), s.composite.name.c_str());
  std::printf("their relevance at the layer: %.5f of %.5f; reaching the input: %.5f (%.1f ms)\n", share, total, rsum, cond_ms);
  return 0;
}

int cmd_optimize(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"layer", "tolerance", "score", "ks"});
  Args a(argv, values, {"json", "signed"});
  Opened s = open_workspace(a);
  const Network& net = *s.net;
  auto ex = full_explanation(s);
  OptimizerOptions oo;
  oo.tolerance = tolerance_option(a);
  const std::string score = a.get("score", "smape");
  if (score == "smape") oo.score = Score::SMAPE;
  else if (score == "mse") oo.score = Score::MSE;
  else throw Error("--score must be smape or mse");
  oo.absolute = !a.flag("signed");
  std::vector<int> layers;
  const std::string which = a.get("layer", "all");
  if (which == "all") layers = optimizable_layers(*ex);
  else
    for (const auto& n : split(which, ',')) layers.push_back(neuron_layer(net, n));
  if (a.has("ks"))
    for (const auto& k : split(a.get("ks"), ',')) oo.ks.push_back(parse_int("ks", k, 1, 1 << 20));
  nlohmann::ordered_json out;
  out["target"] = ex->target_class();
  out["composite"] = s.composite.name;
  out["score"] = score;
  out["tolerance"] = oo.tolerance;
  out["ranking"] = oo.absolute ? "absolute" : "signed";
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (int l : layers) {
    Timer t;
    LayerCurve c = optimize_layer(*ex, l, oo);
    arr.push_back({{"layer", net.layer(l).name},
                   {"nick", net.layer(l).nick},
                   {"width", c.width},
                   {"k", c.k},
                   {"backward", {{"mse", c.backward_mse}, {"smape", c.backward_smape}}},
                   {"forward", {{"mse", c.forward_mse}, {"smape", c.forward_smape}, {"logit", c.forward_logit}}},
                   {"chosen_k", c.chosen_k},
                   {"ms", t.ms()}});
    if (!a.flag("json"))
      std::printf("%-14s %-8s width %4d: chosen k = %4d (backward %s %.4g, forward %s %.4g at that k)\n",
                  net.layer(l).name.c_str(), net.layer(l).nick.c_str(), c.width, c.chosen_k, score.c_str(),
                  [&] { for (std::size_t i = 0; i < c.k.size(); ++i) if (c.k[i] == c.chosen_k) return score == "smape" ? c.backward_smape[i] : c.backward_mse[i]; return 0.0; }(),
                  score.c_str(),
                  [&] { for (std::size_t i = 0; i < c.k.size(); ++i) if (c.k[i] == c.chosen_k) return score == "smape" ? c.forward_smape[i] : c.forward_mse[i]; return 0.0; }());
  }
  out["layers"] = arr;
  if (a.flag("json")) std::printf("%s\n", out.dump().c_str());
  return 0;
}

int cmd_graph(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"layers", "k", "cap", "out-path-heatmap", "out-svg", "cmap", "select", "threshold", "fraction", "tolerance"});
  Args a(argv, values, {"json", "overlay", "absolute"});
  Opened s = open_workspace(a);
  const Network& net = *s.net;
  Timer t;
  auto ex = full_explanation(s);
  const double ex_ms = t.ms();
  GraphOptions go;
  if (a.has("layers"))
    for (const auto& n : split(a.get("layers"), ',')) go.layers.push_back(neuron_layer(net, n));
  const std::string k = a.get("k", "5");
  const double tolerance = tolerance_option(a);  // checked even when k is given (it is then unused)
  if (k == "auto") {
    go.k_from_optimizer = true;
    go.optimizer.tolerance = tolerance;
  } else {
    go.selection.k = parse_int("k", k, 1, 1 << 20);
  }
  if (a.has("cap")) {
    if (!go.k_from_optimizer) throw Error("--cap limits the optimiser's k per layer: use it with --k auto");
    go.k_cap = parse_int("cap", a.get("cap"), 1, 1 << 20);
  }
  const std::string sel = a.get("select", "topk");
  if (sel == "threshold") {
    go.selection.mode = SelectMode::Threshold;
    go.selection.threshold = static_cast<float>(a.get_double("threshold", 0.5));
  } else if (sel == "cumulative") {
    go.selection.mode = SelectMode::Cumulative;
    go.selection.fraction = static_cast<float>(a.get_double("fraction", 0.9));
  } else if (sel != "topk") {
    throw Error("--select must be topk, threshold or cumulative");
  }
  go.selection.absolute = a.flag("absolute");
  t.reset();
  NeuronGraph g = build_graph(*ex, go);
  const double graph_ms = t.ms();
  const Tensor ph = path_heatmap(*ex, g);
  double path_sum = 0;
  for (std::size_t i = 0; i < ph.size(); ++i) path_sum += ph.data()[i];
  const std::string words = path_words(g, net, ex->target_logit(), path_sum);
  if (a.has("out-path-heatmap")) {
    HeatmapOptions ho = heatmap_options(a);
    save_heatmap(a.get("out-path-heatmap"), ph, s, ho);
  }
  if (a.has("out-svg")) {
    SvgOptions so;
    so.title = "Neuron graph for " + net.label(ex->target_class()) + " (" + s.composite.name + ")";
    AtomicFile f(a.get("out-svg"), false);
    f.out() << graph_svg(g, net, so);
    f.commit();
  }
  if (a.flag("json")) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(graph_json(g, net));
    j["path_input_sum"] = path_sum;
    j["path_words"] = words;
    j["target"] = ex->target_class();
    j["selection"] = go.k_from_optimizer ? std::string("k from the optimiser") : go.selection.describe();
    j["timings"] = {{"explain_ms", ex_ms}, {"graph_ms", graph_ms}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("neuron graph for %s (%s), %zu nodes, %zu edges, %.1f ms\n", net.label(ex->target_class()).c_str(),
              s.composite.name.c_str(), g.nodes.size(), g.edges.size(), graph_ms);
  std::printf("critical path (relevance %.5f):", g.path_relevance);
  for (int n : g.path) std::printf(" %s", g.nodes[static_cast<std::size_t>(n)].id.c_str());
  std::printf("\n%s\n", words.c_str());
  return 0;
}

int cmd_deconv(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"layer", "channel", "mode", "out", "npy", "crop", "cmap"});
  Args a(argv, values, {"guided", "json"});
  Opened s = open_workspace(a);
  const Network& net = *s.net;
  const int layer = net.require_layer(a.require("layer"));
  DeconvOptions o;
  const std::string mode = a.get("mode", "max");
  if (mode != "max" && mode != "all") throw Error("--mode must be max or all");
  o.max_only = mode == "max";
  o.guided = a.flag("guided");
  const int channels = net.layer(layer).out_shape[0];
  const int channel = parse_int("channel", a.require("channel"), 0, channels - 1);
  Timer t;
  DeconvResult d = deconv(s.fwd, s.cache, layer, channel, o);
  const double ms = t.ms();
  if (a.has("npy")) write_npy(a.get("npy"), d.reconstruction);
  if (a.has("out")) {
    HeatmapOptions ho;
    ho.cmap = a.has("cmap") ? parse_colormap(a.get("cmap")) : Colormap::Gray;
    save_heatmap(a.get("out"), d.reconstruction, s, ho);
  }
  if (a.has("crop")) save_png(a.get("crop"), crop_image(s.pre.view, d.field.y0, d.field.x0, d.field.y1, d.field.x1));
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["layer"] = net.layer(layer).name;
    j["channel"] = channel;
    j["mode"] = mode;
    j["method"] = o.guided ? "guided-backprop" : "deconvnet";
    j["position"] = {d.y, d.x};
    j["max_activation"] = d.max_activation;
    j["mean_activation"] = d.mean_activation;
    j["receptive_field"] = {{"y0", d.field.y0}, {"x0", d.field.x0}, {"y1", d.field.y1}, {"x1", d.field.x1}};
    j["ms"] = ms;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s of %s channel %d (%s): strongest at (%d, %d), activation %.4f (mean %.4f), receptive field "
              "[%d,%d)x[%d,%d), %.1f ms\n",
              o.guided ? "guided backprop" : "deconvnet", net.layer(layer).name.c_str(), channel, mode.c_str(), d.y, d.x,
              d.max_activation, d.mean_activation, d.field.y0, d.field.y1, d.field.x0, d.field.x1, ms);
  return 0;
}

int cmd_flip(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"patch", "steps", "seed", "runs", "fraction", "replace"});
  Args a(argv, values, {"json"});
  Opened s = open_workspace(a);
  const Network& net = *s.net;
  auto ex = full_explanation(s);
  FlipOptions fo;
  fo.patch = a.has("patch") ? parse_int("patch", a.get("patch"), 1, 4096) : 0;
  fo.steps = parse_int("steps", a.get("steps", "16"), 1, 10000);
  fo.seed = static_cast<uint64_t>(a.get_int64("seed", 0));
  fo.random_runs = parse_int("runs", a.get("runs", "5"), 1, 1000);
  fo.fraction = a.get_double("fraction", 1.0);
  const std::string rep = a.get("replace", net.config().dark_background ? "background" : "mean");
  if (rep == "mean") fo.replace = FlipReplace::Mean;
  else if (rep == "background") fo.replace = FlipReplace::Background;
  else if (rep == "zero") fo.replace = FlipReplace::Zero;
  else throw Error("--replace must be mean, background or zero");
  Timer t;
  FlipResult r = pixel_flipping(s.net, s.pre.tensor, channel_sum(ex->input_relevance()), ex->target_class(), fo);
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["target"] = ex->target_class();
    j["composite"] = s.composite.name;
    j["patch"] = r.patch;
    j["patches"] = r.patches;
    j["replace"] = rep;
    j["flipped"] = r.flipped;
    j["lrp"] = r.lrp;
    j["random"] = r.random;
    j["aopc_lrp"] = r.aopc_lrp;
    j["aopc_random"] = r.aopc_random;
    j["ms"] = t.ms();
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("pixel flipping (%s, patches %dx%d, replaced by %s): AOPC LRP %.4f, random %.4f\n", s.composite.name.c_str(),
              r.patch, r.patch, rep.c_str(), r.aopc_lrp, r.aopc_random);
  for (std::size_t i = 0; i < r.lrp.size(); ++i)
    std::printf("  %5d patches   LRP order %9.4f   random %9.4f\n", r.flipped[i], r.lrp[i], r.random[i]);
  return 0;
}

}  // namespace lrp::cli
