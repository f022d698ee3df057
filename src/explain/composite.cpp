#include "explain/composite.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "model/network.h"

namespace lrp {

using nlohmann::json;

const char* pool_mode_name(PoolMode m) { return m == PoolMode::WinnerTakeAll ? "wta" : "avg"; }

PoolMode parse_pool_mode(const std::string& s) {
  if (s == "wta" || s == "max" || s == "winner-take-all") return PoolMode::WinnerTakeAll;
  if (s == "avg" || s == "average" || s == "proportional") return PoolMode::Proportional;
  throw Error("unknown max-pool mode '" + s + "' (wta or avg)");
}

const std::vector<std::string>& Composite::preset_names() {
  static const std::vector<std::string> names = {"epsilon-gamma-box", "montavon", "epsilon-plus-flat",
                                                 "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat", "lrp0",
                                                 "epsilon"};
  return names;
}

static int first_weighted(const Network& net) {
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights()) return i;
  return -1;
}

Composite Composite::preset(const std::string& name, const Network& net) {
  Composite c;
  c.name = name;
  c.rules.assign(static_cast<std::size_t>(net.size()), Rule::zero());
  const int first = first_weighted(net);
  int block = 0;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::MaxPool) ++block;
    if (!l.has_weights()) continue;
    const bool conv = l.kind == LayerKind::Conv;
    Rule& r = c.rules[static_cast<std::size_t>(i)];
    if (name == "epsilon-gamma-box") {
      r = i == first ? Rule::zbox() : conv ? Rule::gamma_rule(0.25f) : Rule::eps(1e-6f);
    } else if (name == "montavon") {
      r = i == first ? Rule::zbox() : !conv ? Rule::zero() : block < 3 ? Rule::gamma_rule(0.25f, true) : Rule::eps_rms(0.25f);
      c.pool = PoolMode::Proportional;
    } else if (name == "epsilon-plus-flat") {
      r = i == first ? Rule::flat() : conv ? Rule::zplus() : Rule::eps(1e-6f);
    } else if (name == "epsilon-alpha2-beta1") {
      r = conv ? Rule::alpha_beta(2, 1) : Rule::eps(1e-6f);
    } else if (name == "epsilon-alpha2-beta1-flat") {
      r = i == first ? Rule::flat() : conv ? Rule::alpha_beta(2, 1) : Rule::eps(1e-6f);
    } else if (name == "lrp0") {
      r = Rule::zero();
    } else if (name == "epsilon") {
      r = Rule::eps_rms(0.25f);
    } else {
      std::string all;
      for (auto& n : preset_names()) all += (all.empty() ? "" : ", ") + n;
      throw Error("unknown composite '" + name + "' (presets: " + all + ")");
    }
  }
  return c;
}

static Rule parse_rule(const json& j, const std::string& where, Rule base) {
  if (!j.is_object()) throw Error("rules file: the rule for " + where + " must be an object like {\"rule\": \"epsilon\"}");
  static const std::set<std::string> keys = {"rule", "epsilon", "rms", "gamma", "classic", "alpha", "beta",
                                             "low", "high", "bias", "stabilizer"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!keys.count(it.key())) throw Error("rules file: unknown key '" + it.key() + "' in the rule for " + where);
  Rule r = base;
  try {
    if (j.contains("rule")) {
      r = Rule::defaults(parse_rule_name(j.at("rule").get<std::string>()));
    }
    if (j.contains("epsilon")) r.epsilon = j.at("epsilon").get<float>();
    if (j.contains("stabilizer")) r.epsilon = j.at("stabilizer").get<float>();
    if (j.contains("rms")) r.epsilon_rms = j.at("rms").get<float>();
    if (j.contains("gamma")) r.gamma = j.at("gamma").get<float>();
    if (j.contains("classic")) r.gamma_classic = j.at("classic").get<bool>();
    if (j.contains("alpha")) r.alpha = j.at("alpha").get<float>();
    if (j.contains("beta")) r.beta = j.at("beta").get<float>();
    if (j.contains("low")) r.low = j.at("low").get<std::vector<float>>();
    if (j.contains("high")) r.high = j.at("high").get<std::vector<float>>();
    if (j.contains("bias")) r.bias = j.at("bias").get<bool>();
  } catch (const Error& e) {
    throw Error("rules file, " + where + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error("rules file, " + where + ": a value has the wrong type (" + e.what() + ")");
  }
  try {
    r.validate();
  } catch (const Error& e) {
    throw Error("rules file, " + where + ": " + e.what());
  }
  return r;
}

Composite Composite::from_json(const std::string& text, const Network& net) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw Error(std::string("rules file is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw Error("rules file must be a JSON object");
  static const std::set<std::string> keys = {"base", "maxpool", "default", "layers", "name"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!keys.count(it.key())) throw Error("rules file: unknown key '" + it.key() + "' (base, maxpool, default, layers, name)");
  Composite c;
  try {
    c = preset(j.value("base", std::string("epsilon-gamma-box")), net);
  } catch (const Error& e) {
    throw Error(std::string("rules file: ") + e.what());
  } catch (const std::exception&) {
    throw Error("rules file: 'base' must be a preset name");
  }
  c.name = j.value("name", std::string("custom"));
  if (j.contains("maxpool")) {
    if (!j["maxpool"].is_string()) throw Error("rules file: 'maxpool' must be \"wta\" or \"avg\"");
    c.pool = parse_pool_mode(j["maxpool"].get<std::string>());
  }
  if (j.contains("default")) {
    for (int i = 0; i < net.size(); ++i)
      if (net.layer(i).has_weights())
        c.rules[static_cast<std::size_t>(i)] = parse_rule(j["default"], "default", c.rules[static_cast<std::size_t>(i)]);
  }
  if (j.contains("layers")) {
    if (!j["layers"].is_object()) throw Error("rules file: 'layers' must map layer names to rules");
    for (auto it = j["layers"].begin(); it != j["layers"].end(); ++it) {
      const int i = net.find(it.key());
      if (i < 0 || !net.layer(i).has_weights()) {
        std::string names;
        for (auto& l : net.layers())
          if (l.has_weights()) names += (names.empty() ? "" : ", ") + l.name;
        throw Error("rules file: unknown layer '" + it.key() + "' (layers with weights: " + names + ")");
      }
      c.rules[static_cast<std::size_t>(i)] = parse_rule(it.value(), "layer " + it.key(), c.rules[static_cast<std::size_t>(i)]);
    }
  }
  c.validate(net);
  return c;
}

std::string Composite::to_json(const Network& net) const {
  json j;
  j["name"] = name;
  j["maxpool"] = pool_mode_name(pool);
  json layers = json::object();
  for (int i = 0; i < net.size(); ++i) {
    if (!net.layer(i).has_weights()) continue;
    const Rule& r = rule(i);
    json o = {{"rule", rule_name(r.kind)}};
    if (r.kind == RuleKind::Epsilon) {
      o["epsilon"] = r.epsilon;
      if (r.epsilon_rms > 0) o["rms"] = r.epsilon_rms;
    } else if (r.kind != RuleKind::Zero) {
      o["stabilizer"] = r.epsilon;
    }
    if (r.kind == RuleKind::Gamma) {
      o["gamma"] = r.gamma;
      o["classic"] = r.gamma_classic;
    }
    if (r.kind == RuleKind::AlphaBeta) {
      o["alpha"] = r.alpha;
      o["beta"] = r.beta;
    }
    if (r.kind == RuleKind::ZBox && !r.low.empty()) {
      o["low"] = r.low;
      o["high"] = r.high;
    }
    if (!r.bias) o["bias"] = false;
    layers[net.layer(i).name] = o;
  }
  j["layers"] = layers;
  return j.dump();
}

void Composite::validate(const Network& net) const {
  require(static_cast<int>(rules.size()) == net.size(), "composite does not match the network");
  for (int i = 0; i < net.size(); ++i) {
    if (!net.layer(i).has_weights()) continue;
    const Rule& r = rule(i);
    try {
      r.validate();
    } catch (const Error& e) {
      throw Error("layer " + net.layer(i).name + ": " + e.what());
    }
    if (r.kind == RuleKind::ZBox && !r.low.empty())
      require(static_cast<int>(r.low.size()) == net.layer(i).in_shape[0],
              "layer " + net.layer(i).name + ": zbox bounds need one value per input channel");
  }
}

std::string Composite::describe(const Network& net) const {
  std::ostringstream s;
  s << name << " (max-pool: " << pool_mode_name(pool) << ")";
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights()) s << "\n  " << net.layer(i).name << " (" << net.layer(i).nick << "): " << rule(i).describe();
  return s.str();
}

}  // namespace lrp
