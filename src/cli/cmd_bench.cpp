#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/error.h"
#include "engine/gemm_kernel.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"
#include "engine/timer.h"
#include "model/forward.h"
#include "explain/conditional.h"
#include "explain/deconv.h"
#include "explain/explanation.h"
#include "explain/neuron_graph.h"
#include "explain/selection.h"
#include "explain/weight_cache.h"
#include "explain/workspace.h"
#include "model/random_weights.h"

namespace lrp::cli {

static double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int cmd_bench(const Argv& argv) {
  Args a(argv, {"model", "runs", "threads", "seed", "presets", "memory"}, {"json", "quiet", "explain"});
  apply_threads(a);
  const int runs = parse_int("runs", a.get("runs", "5"), 1, 1000);
  // all: every packing of modified weights kept, Winograd in LRP (the CLI's way); bounded: the big-model policy of
  // the app (forward packings of modified weights made again for each explanation, no Winograd in LRP)
  const std::string memory = a.get("memory", "all");
  if (memory != "all" && memory != "bounded") throw Error("--memory must be all or bounded, not '" + memory + "'");
  std::shared_ptr<Network> net;
  std::string model_name;
  Timer load;
  if (a.has("model")) {
    net = load_model(a);
    model_name = a.get("model");
  } else {
    VggSpec spec = VggSpec::vgg16();
    auto tensors = random_vgg_tensors(spec, static_cast<uint64_t>(a.get_int64("seed", 1)), &default_pool());
    net = Network::from_tensors(spec, ModelConfig::imagenet(), tensors, {}, kernel_policy());
    model_name = "random vgg16 (224x224)";
  }
  const double load_ms = load.ms();
  std::string lrp_kernels = "-";
  std::vector<std::pair<std::string, std::vector<double>>> explain_layer_ms;  // per preset, per layer (medians)  // what the explanations' packings use (set when they are timed)
  Tensor input = random_input(net->input_shape(), 7);
  const int n = net->size();
  std::vector<std::vector<double>> per_layer(static_cast<std::size_t>(n));
  std::vector<double> totals;
  // one warm-up run
  {
    ForwardOptions o;
    o.keep = false;
    ForwardPass fp(net, input, o);
    fp.run();
  }
  for (int r = 0; r < runs; ++r) {
    ForwardOptions o;
    o.keep = false;
    Timer t;
    ForwardPass fp(net, input, o);
    fp.run();
    totals.push_back(t.ms());
    for (int i = 0; i < n; ++i) per_layer[static_cast<std::size_t>(i)].push_back(fp.layer_ms()[static_cast<std::size_t>(i)]);
  }
  const double total = median(totals);
  // LRP: every preset (or --presets a,b), median of the runs; the forward pass is shared (kept activations)
  std::vector<std::pair<std::string, double>> explain_ms, first_explain_ms;
  double conditional_ms = 0, graph_ms = 0, deconv_ms = 0, guided_ms = 0;
  if (a.flag("explain")) {
    std::vector<std::string> presets = Composite::preset_names();
    if (a.has("presets")) {
      presets.clear();
      std::string p = a.get("presets"), cur;
      for (char ch : p + ",") {
        if (ch == ',') {
          if (!cur.empty()) presets.push_back(cur);
          cur.clear();
        } else {
          cur += ch;
        }
      }
    }
    auto fwd = std::make_shared<ForwardPass>(net, input);
    fwd->run();
    Workspace ws;
    ws.set_model(net, memory == "all");
    const std::shared_ptr<WeightCache> cache = ws.cache;
    lrp_kernels = cache->kernel_policy().describe();
    for (const auto& name : presets) {
      Composite c = Composite::preset(name, *net);
      {  // the first explanation packs the modified weights (what a user waits for the first time)
        Timer tm;
        Explanation warm(fwd, cache, c, ExplainOptions{});
        warm.run();
        first_explain_ms.emplace_back(name, tm.ms());
      }
      std::vector<double> t;
      std::vector<std::vector<double>> layers(static_cast<std::size_t>(n));
      for (int r = 0; r < runs; ++r) {
        Timer tm;
        Explanation ex(fwd, cache, c, ExplainOptions{});
        ex.run();
        t.push_back(tm.ms());
        for (int i = 0; i < n; ++i) layers[static_cast<std::size_t>(i)].push_back(ex.layer_ms()[static_cast<std::size_t>(i)]);
      }
      explain_ms.emplace_back(name, median(t));
      std::vector<double> per(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) per[static_cast<std::size_t>(i)] = median(layers[static_cast<std::size_t>(i)]);
      explain_layer_ms.emplace_back(name, per);
    }
    // the paper's analyses on the default composite: one conditional heatmap (the most relevant channel of the last
    // conv), the default graph (k = 5, all edges), one deconvnet and one guided-backpropagation reconstruction (the
    // app's neuron detail shows all three)
    Composite c = Composite::preset("epsilon-gamma-box", *net);
    Explanation ex(fwd, cache, c, ExplainOptions{});
    ex.run();
    int last_conv = 0;
    for (int i = 0; i < net->size(); ++i)
      if (net->layer(i).kind == LayerKind::Conv) last_conv = i;
    const int top_channel = rank_neurons(neuron_relevance(ex.relevance(last_conv)), false).front();
    std::vector<double> tc, tg, td, tb;
    for (int r = 0; r < runs; ++r) {
      Timer t1;
      Tensor cond = restricted_lrp(ex, {NeuronMask{last_conv, {top_channel}}}, false);
      tc.push_back(t1.ms());
      Timer t2;
      NeuronGraph g = build_graph(ex, GraphOptions{});
      tg.push_back(t2.ms());
      Timer t3;
      DeconvResult d = deconv(fwd, cache, last_conv, top_channel, DeconvOptions{});
      td.push_back(t3.ms());
      Timer t4;
      DeconvOptions guided;
      guided.guided = true;
      DeconvResult gb = deconv(fwd, cache, last_conv, top_channel, guided);
      tb.push_back(t4.ms());
    }
    conditional_ms = median(tc);
    graph_ms = median(tg);
    deconv_ms = median(td);
    guided_ms = median(tb);
  }
  const double gflop = 2.0 * static_cast<double>(net->total_macs()) / 1e9;
#ifdef __EMSCRIPTEN__
  const char* target = "wasm";
#else
  const char* target = "native";
#endif
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["target"] = target;
    j["isa"] = simd::isa_name();
    j["gemm_kernel"] = kernels::micro_kernel_name();
    const KernelPolicy& kp = net->kernel_policy();
    j["winograd"] = kp.winograd;
    j["winograd_max_tile"] = kp.winograd ? kp.max_tile : 0;
    j["forward_kernels"] = kp.describe();
    j["lrp_kernels"] = lrp_kernels;
    j["threads"] = default_pool().size();
    j["model"] = model_name;
    j["runs"] = runs;
    j["memory"] = memory;
    j["forward_ms"] = total;
    j["gflops"] = gflop / (total / 1000.0);
    j["peak_mb"] = peak_memory_mb();
    if (!explain_ms.empty()) {
      nlohmann::ordered_json e;
      for (auto& [n, ms] : explain_ms) e[n] = ms;
      j["explain_ms"] = e;
      nlohmann::ordered_json el;
      for (auto& [name, per] : explain_layer_ms) {
        nlohmann::ordered_json o;
        for (int i = 0; i < n; ++i)
          if (per[static_cast<std::size_t>(i)] >= 0.05) o[net->layer(i).name] = per[static_cast<std::size_t>(i)];
        el[name] = o;
      }
      j["explain_layer_ms"] = el;
      nlohmann::ordered_json f;
      for (auto& [n, ms] : first_explain_ms) f[n] = ms;
      j["first_explain_ms"] = f;
      j["conditional_ms"] = conditional_ms;
      j["graph_ms"] = graph_ms;
      j["deconv_ms"] = deconv_ms;
      j["guided_ms"] = guided_ms;
    }
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (int i = 0; i < n; ++i) {
      const Layer& l = net->layer(i);
      const double ms = median(per_layer[static_cast<std::size_t>(i)]);
      layers.push_back({{"name", l.name}, {"nick", l.nick}, {"ms", ms},
                        {"gflops", l.macs ? 2.0 * l.macs / 1e9 / (ms / 1000.0) : 0.0}});
    }
    j["layers"] = layers;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("lrpscope bench: %s, %s, %s, %d thread(s), median of %d runs (model set-up %.0f ms)\n",
              model_name.c_str(), target, (std::string(simd::isa_name()) + ", GEMM " + kernels::micro_kernel_name() + " kernels" +
              ", forward: " + net->kernel_policy().describe() + ", LRP: " + lrp_kernels).c_str(),
              default_pool().size(), runs, load_ms);
  std::printf("%-14s %-9s %10s %10s\n", "layer", "", "ms", "GFLOP/s");
  for (int i = 0; i < n; ++i) {
    const Layer& l = net->layer(i);
    const double ms = median(per_layer[static_cast<std::size_t>(i)]);
    if (l.macs)
      std::printf("%-14s %-9s %10.2f %10.1f\n", l.name.c_str(), l.nick.c_str(), ms, 2.0 * l.macs / 1e9 / (ms / 1000.0));
    else if (ms >= 0.05)
      std::printf("%-14s %-9s %10.2f\n", l.name.c_str(), l.nick.c_str(), ms);
  }
  std::printf("forward total: %.1f ms (%.1f GFLOP, %.1f GFLOP/s), peak memory %.0f MB\n", total, gflop,
              gflop / (total / 1000.0), peak_memory_mb());
  for (std::size_t i = 0; i < explain_ms.size(); ++i)
    std::printf("LRP %-26s %8.1f ms   forward + LRP %8.1f ms   (the first: %.1f ms)\n", explain_ms[i].first.c_str(),
                explain_ms[i].second, total + explain_ms[i].second, first_explain_ms[i].second);
  if (!explain_ms.empty())
    std::printf("epsilon-gamma-box analyses: one conditional heatmap %.1f ms, default graph (k = 5) %.1f ms, "
                "deconvnet %.1f ms, guided backpropagation %.1f ms\n", conditional_ms, graph_ms, deconv_ms, guided_ms);
  return 0;
}

}  // namespace lrp::cli
