#include "explain/composite.h"

#include <nlohmann/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "engine/shortest_text.h"
#include "model/json_bounded.h"
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

// A number from JSON or a link, checked for its type and against the parameter's range before it becomes a float.
static float param_value(const ParamDef& pd, double d, const std::string& shown) {
  if (!std::isfinite(d) || std::fabs(d) > 1e6)
    throw Error(std::string("'") + pd.key + "' must be a number between -1e6 and 1e6, got " + shown);
  return static_cast<float>(d);
}

// The parameter a JSON key names ("epsilon" and "stabilizer" are one field), or null.
static const ParamDef* param_by_key(const std::string& key) {
  for (const ParamDef& pd : param_defs())
    if (key == pd.key) return &pd;
  return nullptr;
}

static Rule parse_rule(const json& j, const std::string& where, Rule base) {
  if (!j.is_object()) throw Error("rules file: the rule for " + where + " must be an object like {\"rule\": \"epsilon\"}");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "rule" && it.key() != "low" && it.key() != "high" && !param_by_key(it.key())) {
      std::string keys = "rule, low, high";
      for (const ParamDef& pd : param_defs()) keys += std::string(", ") + pd.key;
      throw Error("rules file: unknown key '" + it.key() + "' in the rule for " + where + " (" + keys + ")");
    }
  Rule r = base;
  auto numbers = [&](const char* key) {
    const json& v = j.at(key);
    if (!v.is_array() || v.empty() || v.size() > 4)
      throw Error(std::string("'") + key + "' must be a list of one number per input channel, got " + v.dump());
    std::vector<float> out;
    for (const auto& x : v) {
      if (!x.is_number() || !std::isfinite(x.get<double>()) || std::fabs(x.get<double>()) > 1e6)
        throw Error(std::string("'") + key + "' must hold numbers, got " + v.dump());
      out.push_back(x.get<float>());
    }
    return out;
  };
  try {
    if (j.contains("rule")) {
      if (!j.at("rule").is_string()) throw Error("'rule' must be a rule name, got " + j.at("rule").dump());
      r = Rule::defaults(parse_rule_name(j.at("rule").get<std::string>()));
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      const ParamDef* pd = param_by_key(it.key());
      if (!pd) continue;
      const json& v = it.value();
      if (pd->boolean) {
        if (!v.is_boolean()) throw Error(std::string("'") + pd->key + "' must be true or false, got " + v.dump());
        r.set(pd->id, v.get<bool>() ? 1.0f : 0.0f);
      } else {
        if (!v.is_number()) throw Error(std::string("'") + pd->key + "' must be a number, got " + v.dump());
        r.set(pd->id, param_value(*pd, v.get<double>(), v.dump()));
      }
    }
    if (j.contains("low")) r.low = numbers("low");
    if (j.contains("high")) r.high = numbers("high");
  } catch (const Error& e) {
    throw Error("rules file, " + where + ": " + e.what());
  }
  try {
    r.validate();
  } catch (const Error& e) {
    throw Error("rules file, " + where + ": " + e.what());
  }
  return r;
}

Composite Composite::from_json(const std::string& text, const Network& net) {
  const json j = parse_json_bounded(text, "rules file", JsonLimits{1u << 20, 100'000, 8});
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
    for (Param q : rule_def(r.kind).params) {
      const ParamDef& pd = param_def(q);
      if (pd.boolean) o[pd.key] = r.get(q) != 0.0f;
      else o[pd.key] = r.get(q);
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

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t p = 0;
  for (;;) {
    const std::size_t c = s.find(sep, p);
    out.push_back(s.substr(p, c == std::string::npos ? std::string::npos : c - p));
    if (c == std::string::npos) return out;
    p = c + 1;
  }
}

float parse_num(const std::string& t, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || !std::isfinite(v) || std::fabs(v) > 1e6)
    throw Error("rules " + where + ": '" + t + "' is not a number");
  return static_cast<float>(v);
}

}  // namespace

std::string Composite::to_compact(const Network& net, const std::string& base) const {
  Composite b = preset(base, net);
  std::string out = base;
  if (pool != b.pool) out += std::string("~pool:") + pool_mode_name(pool);
  // "biases absorb no relevance" everywhere is one switch, not a change to every layer
  bool all_off = true, any_weighted = false;
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights()) {
      any_weighted = true;
      all_off = all_off && !rule(i).bias;
    }
  if (any_weighted && all_off) {
    out += "~bias:0";
    for (auto& r : b.rules) r.bias = false;
  }
  for (int i = 0; i < net.size(); ++i) {
    if (!net.layer(i).has_weights() || rule(i) == b.rule(i)) continue;
    const Rule& r = rule(i);
    out += "~" + net.layer(i).name + ":" + rule_name(r.kind);
    for (Param q : rule_def(r.kind).params) {
      const ParamDef& pd = param_def(q);
      out += std::string(",") + pd.letter + (pd.boolean ? (r.get(q) != 0.0f ? "1" : "0") : shortest_text(r.get(q)));
    }
    if (r.kind == RuleKind::ZBox && !r.low.empty()) {
      for (const auto* v : {&r.low, &r.high}) {
        out += v == &r.low ? ",l" : ",h";
        for (std::size_t k = 0; k < v->size(); ++k) out += (k ? "/" : "") + shortest_text((*v)[k]);
      }
    }
    out += std::string(",x") + (r.bias ? "1" : "0");
  }
  return out;
}

Composite Composite::from_compact(const std::string& text, const Network& net) {
  const auto parts = split(text, '~');
  Composite c = preset(parts[0], net);  // names the presets when the base is unknown
  bool changed = false;
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const std::string& part = parts[p];
    const auto colon = part.rfind(':');
    if (colon == std::string::npos || colon == 0) throw Error("rules: '" + part + "' is not layer:rule,...");
    const std::string layer = part.substr(0, colon);
    const auto fields = split(part.substr(colon + 1), ',');
    changed = true;
    if (layer == "pool") {
      c.pool = parse_pool_mode(fields[0]);
      continue;
    }
    if (layer == "bias") {
      if (fields[0] != "0" && fields[0] != "1") throw Error("rules: bias must be 0 or 1");
      for (auto& r : c.rules) r.bias = fields[0] == "1";
      continue;
    }
    const int i = net.find(layer);
    if (i < 0 || !net.layer(i).has_weights()) throw Error("rules: no layer with weights named '" + layer + "'");
    Rule r = Rule::defaults(parse_rule_name(fields[0]));
    const std::string where = "for " + layer;
    for (std::size_t f = 1; f < fields.size(); ++f) {
      const std::string& kv = fields[f];
      if (kv.size() < 2) throw Error("rules " + where + ": bad parameter '" + kv + "'");
      const std::string v = kv.substr(1);
      if (kv[0] == 'l' || kv[0] == 'h') {
        std::vector<float> b;
        for (const auto& t : split(v, '/')) b.push_back(parse_num(t, where));
        (kv[0] == 'l' ? r.low : r.high) = b;
        continue;
      }
      const ParamDef* pd = nullptr;
      for (const ParamDef& d : param_defs())
        if (d.letter == kv[0]) {
          pd = &d;
          break;
        }
      if (!pd) throw Error("rules " + where + ": unknown parameter '" + kv + "'");
      if (pd->boolean) {
        if (v != "0" && v != "1") throw Error("rules " + where + ": '" + kv + "' must end in 0 or 1");
        r.set(pd->id, v == "1" ? 1.0f : 0.0f);
      } else {
        r.set(pd->id, parse_num(v, where));
      }
    }
    try {
      r.validate();
    } catch (const Error& e) {
      throw Error("rules " + where + ": " + e.what());
    }
    c.rules[static_cast<std::size_t>(i)] = r;
  }
  if (changed) c.name = "custom";
  c.validate(net);
  return c;
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
