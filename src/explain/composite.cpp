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

static Rule parse_rule(const json& j, const std::string& where, Rule base) {
  if (!j.is_object()) throw Error("rules file: the rule for " + where + " must be an object like {\"rule\": \"epsilon\"}");
  static const std::set<std::string> keys = {"rule", "epsilon", "rms", "gamma", "classic", "alpha", "beta",
                                             "low", "high", "bias", "stabilizer"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!keys.count(it.key())) throw Error("rules file: unknown key '" + it.key() + "' in the rule for " + where);
  Rule r = base;
  // every value is checked for its type and range by name, before it becomes a float
  auto number = [&](const char* key) {
    const json& v = j.at(key);
    if (!v.is_number()) throw Error(std::string("'") + key + "' must be a number, got " + v.dump());
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e6)
      throw Error(std::string("'") + key + "' must be a number between -1e6 and 1e6, got " + v.dump());
    return static_cast<float>(d);
  };
  auto boolean = [&](const char* key) {
    const json& v = j.at(key);
    if (!v.is_boolean()) throw Error(std::string("'") + key + "' must be true or false, got " + v.dump());
    return v.get<bool>();
  };
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
    if (j.contains("epsilon")) r.epsilon = number("epsilon");
    if (j.contains("stabilizer")) r.epsilon = number("stabilizer");
    if (j.contains("rms")) r.epsilon_rms = number("rms");
    if (j.contains("gamma")) r.gamma = number("gamma");
    if (j.contains("classic")) r.gamma_classic = boolean("classic");
    if (j.contains("alpha")) r.alpha = number("alpha");
    if (j.contains("beta")) r.beta = number("beta");
    if (j.contains("low")) r.low = numbers("low");
    if (j.contains("high")) r.high = numbers("high");
    if (j.contains("bias")) r.bias = boolean("bias");
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

namespace {

// The shortest text that reads back as the same float (1e-06, not 9.99999997e-07).
bool same_rule(const Rule& a, const Rule& b) {
  return a.kind == b.kind && a.epsilon == b.epsilon && a.epsilon_rms == b.epsilon_rms && a.gamma == b.gamma &&
         a.gamma_classic == b.gamma_classic && a.alpha == b.alpha && a.beta == b.beta && a.low == b.low &&
         a.high == b.high && a.bias == b.bias;
}

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
    if (!net.layer(i).has_weights() || same_rule(rule(i), b.rule(i))) continue;
    const Rule& r = rule(i);
    out += "~" + net.layer(i).name + ":" + rule_name(r.kind) + ",e" + shortest_text(r.epsilon);
    if (r.kind == RuleKind::Epsilon) out += ",r" + shortest_text(r.epsilon_rms);
    if (r.kind == RuleKind::Gamma) out += ",g" + shortest_text(r.gamma) + ",c" + (r.gamma_classic ? "1" : "0");
    if (r.kind == RuleKind::AlphaBeta) out += ",a" + shortest_text(r.alpha) + ",n" + shortest_text(r.beta);
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
      switch (kv[0]) {
        case 'e': r.epsilon = parse_num(v, where); break;
        case 'r': r.epsilon_rms = parse_num(v, where); break;
        case 'g': r.gamma = parse_num(v, where); break;
        case 'c': r.gamma_classic = v == "1"; break;
        case 'a': r.alpha = parse_num(v, where); break;
        case 'n': r.beta = parse_num(v, where); break;
        case 'x': r.bias = v == "1"; break;
        case 'l':
        case 'h': {
          std::vector<float> b;
          for (const auto& t : split(v, '/')) b.push_back(parse_num(t, where));
          (kv[0] == 'l' ? r.low : r.high) = b;
          break;
        }
        default: throw Error("rules " + where + ": unknown parameter '" + kv + "'");
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
