#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/explain_common.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "explain/heatmap.h"
#include "explain/summary.h"
#include "model/npy.h"

namespace lrp::cli {

int cmd_explain(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"out", "cmap", "npy-dir", "percentile", "alpha"});
  Args a(argv, values, {"overlay", "json"});
  Timer total;
  Opened s = open_workspace(a);
  HeatmapOptions ho;
  if (a.has("cmap")) ho.cmap = parse_colormap(a.get("cmap"));
  ho.percentile = static_cast<float>(a.get_double("percentile", 100.0));
  if (ho.percentile <= 0 || ho.percentile > 100) throw Error("--percentile must be in (0, 100]");
  ho.alpha = static_cast<float>(a.get_double("alpha", 0.7));
  ho.overlay = a.flag("overlay");
  Explanation ex(s.fwd, s.cache, s.composite, s.opt);
  ex.run();
  const Network& net = *s.net;
  const Tensor& rin = ex.input_relevance();
  if (a.has("out")) {
    auto h = channel_sum(rin);
    save_png(a.get("out"), render_heatmap(h, rin.dim(2), rin.dim(1), ho, &s.pre.view));
  }
  if (a.has("npy-dir")) {
    const std::string d = a.get("npy-dir");
    write_npy(d + "/relevance_input.npy", rin);
    write_npy(d + "/input.npy", s.pre.tensor);
    for (int i = 0; i < net.size(); ++i) {
      const Layer& l = net.layer(i);
      if (l.kind == LayerKind::ReLU || l.kind == LayerKind::Flatten) continue;
      write_npy(d + "/relevance_" + l.name + ".npy", ex.relevance(i));
      write_npy(d + "/activation_" + l.name + ".npy", s.fwd->output(i));
    }
  }
  const Tensor& logits = s.fwd->logits();
  auto probs = softmax(logits);
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["model"] = net.config().name;
    j["image"] = a.get("image");
    j["method"] = method_of(s.composite);
    j["composite"] = s.composite.name;
    j["maxpool"] = pool_mode_name(s.composite.maxpool(net));
    j["target"] = ex.target_class();
    if (s.opt.target.kind == Target::Kind::Contrast) j["contrast"] = {s.opt.target.a, s.opt.target.b};
    j["target_label"] = net.label(ex.target_class());
    j["target_logit"] = ex.target_logit();
    const std::vector<int> order = rank_classes(logits);
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(5, order.size()); ++i)
      top.push_back({{"index", order[i]}, {"label", net.label(order[i])}, {"prob", probs[static_cast<std::size_t>(order[i])]},
                     {"logit", logits[static_cast<std::size_t>(order[i])]}});
    j["top"] = top;
    j["input_sum"] = ex.input_sum();
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (int i = net.size() - 1; i >= 0; --i) {
      const Layer& l = net.layer(i);
      if (l.kind == LayerKind::ReLU || l.kind == LayerKind::Flatten) continue;
      layers.push_back({{"name", l.name}, {"nick", l.nick}, {"sum", ex.layer_sums()[static_cast<std::size_t>(i)]},
                        {"rule", s.composite.rule(i).describe()},
                        {"ms", ex.layer_ms()[static_cast<std::size_t>(i)]}});
    }
    j["layers"] = layers;
    const ExplanationSummary sum = summarize(ex, net);
    nlohmann::ordered_json regions = nlohmann::ordered_json::array();
    for (const RegionShare& r : sum.regions) regions.push_back({{"name", r.name}, {"positive", r.positive}, {"negative", r.negative}});
    nlohmann::ordered_json neurons = nlohmann::ordered_json::array();
    for (const auto& [c, share] : sum.neurons) neurons.push_back({{"channel", c}, {"share", share}});
    j["summary"] = {{"text", sum.text()},
                    {"positive", sum.positive},
                    {"negative", sum.negative},
                    {"regions", regions},
                    {"top10_share", sum.top10_share},
                    {"half_area", sum.half_area},
                    {"neuron_layer", sum.neuron_layer < 0 ? std::string() : net.layer(sum.neuron_layer).name},
                    {"neurons", neurons},
                    {"conservation", sum.conservation}};
    j["timings"] = {{"forward_ms", s.fwd->total_ms()}, {"explain_ms", ex.total_ms()}, {"total_ms", total.ms()}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("model: %s, image %s%s\n", net.config().name.c_str(), a.get("image").c_str(),
              s.pre.inverted ? " (inverted)" : "");
  std::printf("prediction: %s (%.1f %%)\n", net.label(static_cast<int>(std::max_element(logits.data(), logits.data() + logits.size()) - logits.data())).c_str(),
              100.0 * *std::max_element(probs.begin(), probs.end()));
  std::printf("explaining: %s, target %s (%s), logit %.4f\n", method_of(s.composite).c_str(),
              s.opt.target.describe().c_str(), net.label(ex.target_class()).c_str(), ex.target_logit());
  std::printf("composite: %s\n", s.composite.describe(net).c_str());
  std::printf("relevance per layer (conservation; the target logit is %.4f):\n", ex.target_logit());
  for (int i = net.size() - 1; i >= 0; --i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::ReLU || l.kind == LayerKind::Flatten) continue;
    std::printf("  %-14s %-8s sum %12.5f   %7.2f ms\n", l.name.c_str(), l.nick.c_str(), ex.layer_sums()[static_cast<std::size_t>(i)],
                ex.layer_ms()[static_cast<std::size_t>(i)]);
  }
  std::printf("  %-14s %-8s sum %12.5f\n", "input", "", ex.input_sum());
  std::printf("forward %.1f ms, explanation %.1f ms\n", s.fwd->total_ms(), ex.total_ms());
  std::printf("summary: %s\n", summarize(ex, net).text().c_str());
  if (a.has("out")) std::printf("wrote %s\n", a.get("out").c_str());
  return 0;
}

}  // namespace lrp::cli
