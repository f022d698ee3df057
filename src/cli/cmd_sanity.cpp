// lrpscope sanity: the cascading model randomisation check of Adebayo et al. 2018 (explain/sanity.h).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/explain_common.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "explain/sanity.h"
#include "model/npy.h"

namespace lrp::cli {

int cmd_sanity(const Argv& argv) {
  auto values = explain_value_options();
  values.insert({"seed", "npy-dir"});
  Args a(argv, values, {"json"});
  Opened s = open_workspace(a);
  SanityOptions so;
  const long long seed = a.get_int64("seed", 1);
  if (seed < 0) throw Error("--seed must be 0 or more, not " + std::to_string(seed));
  so.seed = static_cast<uint64_t>(seed);
  so.pool = s.opt.pool;
  Timer t;
  SanityJob job(s.net, s.pre.tensor, s.composite, s.opt.target, so);
  job.run();
  const SanityResult& r = job.result();
  if (a.has("npy-dir")) {  // each step's heatmap: 00-original.npy, 01-fc8.npy, ...
    const std::string d = a.get("npy-dir");
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
      Tensor h({r.height, r.width});
      std::copy(r.steps[i].heatmap.begin(), r.steps[i].heatmap.end(), h.data());
      char name[64];
      std::snprintf(name, sizeof name, "/%02zu-%s.npy", i, r.steps[i].layer.empty() ? "original" : r.steps[i].layer.c_str());
      write_npy(d + name, h);
    }
  }
  const Network& net = *s.net;
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["target"] = r.target;
    j["composite"] = s.composite.name;
    j["seed"] = so.seed;
    j["steps"] = nlohmann::json::array();
    for (const SanityStep& st : r.steps) {
      nlohmann::ordered_json x;
      x["randomised"] = st.layer;
      x["spearman"] = st.spearman;
      x["spearman_abs"] = st.spearman_abs;
      x["ssim"] = st.ssim;
      x["predicted"] = st.predicted;
      x["target_logit"] = st.target_logit;
      j["steps"].push_back(x);
    }
    j["ms"] = t.ms();
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("sanity check (cascading randomisation, seed %llu) of %s for class %d (%s):\n",
              static_cast<unsigned long long>(so.seed), s.composite.name.c_str(), r.target, net.label(r.target).c_str());
  std::printf("  %-24s %9s %14s %7s   %s\n", "re-initialised down to", "Spearman", "Spearman |.|", "SSIM", "prediction");
  for (const SanityStep& st : r.steps)
    std::printf("  %-24s %9.4f %14.4f %7.4f   %d (%s)\n", st.layer.empty() ? "(the trained model)" : st.layer.c_str(),
                st.spearman, st.spearman_abs, st.ssim, st.predicted, net.label(st.predicted).c_str());
  std::printf("a faithful explanation changes as the model is destroyed: the scores should fall far below 1 (%.0f ms)\n", t.ms());
  return 0;
}

}  // namespace lrp::cli
