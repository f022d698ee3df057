// lrpscope rules: the table of LRP rules and composites, as text or JSON (what the docs' table is made from).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/shortest_text.h"
#include "explain/composite.h"
#include "explain/rule.h"

namespace lrp::cli {

int cmd_rules(const Argv& argv) {
  Args a(argv, {}, {"json"});
  nlohmann::json rules = nlohmann::json::array();
  for (const RuleDef& d : rule_defs()) {
    nlohmann::json params = nlohmann::json::array();
    for (Param q : d.params) {
      const ParamDef& pd = param_def(q);
      nlohmann::json p = {{"key", pd.key}, {"link", std::string(1, pd.letter)}, {"help", pd.help}};
      if (pd.boolean) {
        p["default"] = d.defaults.get(q) != 0.0f;
      } else {
        p["default"] = d.defaults.get(q);
        p["min"] = pd.min;
        p["max"] = pd.max;
      }
      params.push_back(p);
    }
    nlohmann::json aliases = nlohmann::json::array();
    for (const char* al : d.aliases) aliases.push_back(al);
    rules.push_back({{"name", d.name}, {"aliases", aliases}, {"zennit", d.zennit}, {"summary", d.summary},
                     {"parameters", params}});
  }
  if (a.flag("json")) {
    std::printf("%s\n", nlohmann::json{{"rules", rules}, {"composites", Composite::preset_names()}}.dump(1).c_str());
    return 0;
  }
  for (const auto& r : rules) {
    std::printf("%s", r["name"].get<std::string>().c_str());
    if (!r["zennit"].get<std::string>().empty()) std::printf("  (zennit %s)", r["zennit"].get<std::string>().c_str());
    std::printf("\n  %s\n", r["summary"].get<std::string>().c_str());
    for (const auto& p : r["parameters"]) {
      std::string def = p["default"].is_boolean() ? (p["default"].get<bool>() ? "true" : "false")
                                                  : shortest_text(p["default"].get<float>());
      std::printf("  %-10s default %-8s %s\n", p["key"].get<std::string>().c_str(), def.c_str(),
                  p["help"].get<std::string>().c_str());
    }
    std::printf("  %-10s default %-8s %s\n", "bias", "true", param_def(Param::Bias).help);
  }
  std::printf("composites:");
  for (const auto& n : Composite::preset_names()) std::printf(" %s", n.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace lrp::cli
