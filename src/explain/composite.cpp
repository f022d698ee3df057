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
  if (s == "wta" || s == "max" || s == "winner-take-all" || s == "gradient") return PoolMode::WinnerTakeAll;
  if (s == "avg" || s == "average" || s == "proportional") return PoolMode::Proportional;
  throw Error("unknown max-pool mode '" + s + "' (wta or avg)");
}

unsigned layer_mask(const Layer& l) {
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::Linear: return kWeighted;
    case LayerKind::ReLU: return kRelu;
    case LayerKind::MaxPool: return kMaxPool;
    case LayerKind::AvgPool: return kAvgPool;
    case LayerKind::Flatten: return 0;
  }
  return 0;
}

namespace {

const char* kind_word(unsigned mask) {
  switch (mask) {
    case kWeighted: return "a layer with weights";
    case kRelu: return "a ReLU";
    case kMaxPool: return "a max-pool";
    case kAvgPool: return "an average pool";
  }
  return "this layer";
}

std::string rules_for(unsigned mask) {
  std::string all;
  for (const RuleDef& d : rule_defs())
    if (d.layers & mask) all += (all.empty() ? "" : ", ") + std::string(d.name);
  return all;
}

int first_weighted(const Network& net) {
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights()) return i;
  return -1;
}

// Every LRP composite's layer map for the layers without weights (zennit's LAYER_MAP_BASE): ReLUs pass relevance,
// max-pools route it to the winner (the gradient), average pools share it in proportion (zennit's Norm).
Composite lrp_base(const Network& net) {
  Composite c;
  c.rules.resize(static_cast<std::size_t>(net.size()));
  for (int i = 0; i < net.size(); ++i) {
    Rule& r = c.rules[static_cast<std::size_t>(i)];
    switch (net.layer(i).kind) {
      case LayerKind::Conv:
      case LayerKind::Linear: r = Rule::zero(); break;
      case LayerKind::ReLU:
      case LayerKind::Flatten: r = Rule::defaults(RuleKind::Pass); break;
      case LayerKind::MaxPool: r = Rule::defaults(RuleKind::Gradient); break;
      case LayerKind::AvgPool: r = Rule::defaults(RuleKind::Proportional); break;
    }
  }
  return c;
}

// Sets the weighted layers' rules: f(is the first weighted layer, is a conv, block index (max-pools before it)).
template <class F>
void weighted(Composite& c, const Network& net, F f) {
  const int first = first_weighted(net);
  int block = 0;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::MaxPool) ++block;
    if (l.has_weights()) c.rules[static_cast<std::size_t>(i)] = f(i == first, l.kind == LayerKind::Conv, block);
  }
}

void every(Composite& c, const Network& net, LayerKind kind, const Rule& r) {
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).kind == kind) c.rules[static_cast<std::size_t>(i)] = r;
}

// The gradient family: the gradient everywhere (zennit's composites without an LRP rule), the ReLU's rule given.
Composite gradient_family(const Network& net, RuleKind relu) {
  Composite c = lrp_base(net);
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).kind != LayerKind::Flatten) c.rules[static_cast<std::size_t>(i)] = Rule::defaults(RuleKind::Gradient);
  every(c, net, LayerKind::ReLU, Rule::defaults(relu));
  c.seed = Seed::One;
  return c;
}

const std::vector<Composite::PresetDef> kPresets = {
    {"epsilon-gamma-box", "EpsilonGammaBox", "zB on the first layer, gamma 0.25 on the other convolutions, epsilon on the fully connected layers."},
    {"montavon", "", "Montavon et al. (2019): zB, classic gamma in blocks 1-3, epsilon 0.25 RMS in blocks 4-5, LRP-0 on top; max-pools as average pools."},
    {"epsilon-plus", "EpsilonPlus", "z+ on every convolution, epsilon on the fully connected layers."},
    {"epsilon-plus-flat", "EpsilonPlusFlat", "flat on the first layer, z+ on the other convolutions, epsilon on the fully connected layers."},
    {"epsilon-alpha2-beta1", "EpsilonAlpha2Beta1", "alpha 2 beta 1 on every convolution, epsilon on the fully connected layers."},
    {"epsilon-alpha2-beta1-flat", "EpsilonAlpha2Beta1Flat", "flat on the first layer, alpha 2 beta 1 on the other convolutions, epsilon on the fully connected layers."},
    {"epsilon-gamma-sign", "", "EpsilonGammaBox with SIGN on the first layer (Gumpfer et al. 2023): dark pixels can be relevant too."},
    {"excitation-backprop", "ExcitationBackprop", "Excitation backprop (Zhang et al. 2016): z+ everywhere, the ReLUs' and max-pools' gradient, from 1."},
    {"lrp0", "", "LRP-0 everywhere: the gradient times the input, for ReLU networks without biases."},
    {"epsilon", "", "epsilon 0.25 RMS of each layer everywhere."},
    {"gradient", "(no composite)", "The gradient of the target logit with respect to the input (a saliency map)."},
    {"gradient-x-input", "(no composite, times the input)", "The gradient times the input."},
    {"guided-backprop", "GuidedBackprop", "Guided backpropagation (Springenberg et al. 2015): only positive signals pass the ReLUs."},
    {"deconvnet", "DeconvNet", "The deconvnet (Zeiler and Fergus 2014): the ReLUs pass the positive part of the signal coming down."},
    {"beta-smooth", "BetaSmooth", "The gradient with every ReLU's step replaced by sigmoid(10 x) (Dombrowski et al. 2019)."},
};

}  // namespace

const std::vector<Composite::PresetDef>& Composite::presets() { return kPresets; }

const std::vector<std::string>& Composite::preset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const PresetDef& p : kPresets) v.push_back(p.name);
    return v;
  }();
  return names;
}

Composite Composite::preset(const std::string& name, const Network& net) {
  Composite c = lrp_base(net);
  const Rule eps = Rule::eps(1e-6f);
  if (name == "epsilon-gamma-box") {
    weighted(c, net, [&](bool first, bool conv, int) { return first ? Rule::zbox() : conv ? Rule::gamma_rule(0.25f) : eps; });
  } else if (name == "montavon") {
    weighted(c, net, [&](bool first, bool conv, int block) {
      return first ? Rule::zbox() : !conv ? Rule::zero() : block < 3 ? Rule::gamma_rule(0.25f, true) : Rule::eps_rms(0.25f);
    });
    c.set_maxpool(PoolMode::Proportional, net);
  } else if (name == "epsilon-plus") {
    weighted(c, net, [&](bool, bool conv, int) { return conv ? Rule::zplus() : eps; });
  } else if (name == "epsilon-plus-flat") {
    weighted(c, net, [&](bool first, bool conv, int) { return first ? Rule::flat() : conv ? Rule::zplus() : eps; });
  } else if (name == "epsilon-alpha2-beta1") {
    weighted(c, net, [&](bool, bool conv, int) { return conv ? Rule::alpha_beta(2, 1) : eps; });
  } else if (name == "epsilon-alpha2-beta1-flat") {
    weighted(c, net, [&](bool first, bool conv, int) { return first ? Rule::flat() : conv ? Rule::alpha_beta(2, 1) : eps; });
  } else if (name == "epsilon-gamma-sign") {
    weighted(c, net, [&](bool first, bool conv, int) { return first ? Rule::sign() : conv ? Rule::gamma_rule(0.25f) : eps; });
  } else if (name == "excitation-backprop") {
    // zennit: (Linear or Conv, ZPlus), (AvgPool, Norm); ReLUs and max-pools keep their gradient
    weighted(c, net, [&](bool, bool, int) { return Rule::zplus(); });
    every(c, net, LayerKind::ReLU, Rule::defaults(RuleKind::Gradient));
    c.seed = Seed::One;
  } else if (name == "lrp0") {
    weighted(c, net, [&](bool, bool, int) { return Rule::zero(); });
  } else if (name == "epsilon") {
    weighted(c, net, [&](bool, bool, int) { return Rule::eps_rms(0.25f); });
  } else if (name == "gradient") {
    c = gradient_family(net, RuleKind::Gradient);
  } else if (name == "gradient-x-input") {
    c = gradient_family(net, RuleKind::Gradient);
    c.times_input = true;
  } else if (name == "guided-backprop") {
    c = gradient_family(net, RuleKind::GuidedBackprop);
  } else if (name == "deconvnet") {
    c = gradient_family(net, RuleKind::DeconvNet);
  } else if (name == "beta-smooth") {
    c = gradient_family(net, RuleKind::BetaSmooth);
  } else {
    std::string all;
    for (auto& n : preset_names()) all += (all.empty() ? "" : ", ") + n;
    throw Error("unknown composite '" + name + "' (presets: " + all + ")");
  }
  c.name = name;
  return c;
}

PoolMode Composite::maxpool(const Network& net) const {
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).kind == LayerKind::MaxPool)
      return rule(i).kind == RuleKind::Proportional ? PoolMode::Proportional : PoolMode::WinnerTakeAll;
  return PoolMode::WinnerTakeAll;
}

void Composite::set_maxpool(PoolMode m, const Network& net) {
  every(*this, net, LayerKind::MaxPool, Rule::defaults(m == PoolMode::Proportional ? RuleKind::Proportional : RuleKind::Gradient));
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

// The layer a JSON key or link part names (torchvision name or nickname), with a rule.
static int layer_with_rules(const Network& net, const std::string& name, const std::string& where) {
  const int i = net.find(name);
  if (i < 0 || layer_mask(net.layer(i)) == 0) {
    std::string names;
    for (auto& l : net.layers())
      if (layer_mask(l)) names += (names.empty() ? "" : ", ") + l.name;
    throw Error(where + "unknown layer '" + name + "' (layers with rules: " + names + ")");
  }
  return i;
}

// A rule given for a layer must apply to its kind.
static void check_applies(const Rule& r, const Layer& l, const std::string& where) {
  const unsigned m = layer_mask(l);
  if (!rule_applies(r.kind, m))
    throw Error(where + "rule '" + rule_name(r.kind) + "' does not apply to " + kind_word(m) + " (" + rules_for(m) + ")");
}

Composite Composite::from_json(const std::string& text, const Network& net) {
  const json j = parse_json_bounded(text, "rules file", JsonLimits{1u << 20, 100'000, 8});
  if (!j.is_object()) throw Error("rules file must be a JSON object");
  static const std::set<std::string> keys = {"base", "maxpool", "default", "types", "first", "layers", "name", "seed",
                                             "times_input"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!keys.count(it.key()))
      throw Error("rules file: unknown key '" + it.key() +
                  "' (base, name, maxpool, seed, times_input, default, types, first, layers)");
  Composite c;
  try {
    if (j.contains("base") && !j["base"].is_string()) throw Error("'base' must be a preset name");
    c = preset(j.value("base", std::string("epsilon-gamma-box")), net);
  } catch (const Error& e) {
    throw Error(std::string("rules file: ") + e.what());
  }
  if (j.contains("name") && !j["name"].is_string()) throw Error("rules file: 'name' must be a string");
  c.name = j.value("name", std::string("custom"));
  if (j.contains("maxpool")) {
    if (!j["maxpool"].is_string()) throw Error("rules file: 'maxpool' must be \"wta\" or \"avg\"");
    c.set_maxpool(parse_pool_mode(j["maxpool"].get<std::string>()), net);
  }
  if (j.contains("seed")) {
    if (!j["seed"].is_string() || (j["seed"] != "logit" && j["seed"] != "one"))
      throw Error("rules file: 'seed' must be \"logit\" (LRP) or \"one\" (the gradient family)");
    c.seed = j["seed"] == "one" ? Seed::One : Seed::Logit;
  }
  if (j.contains("times_input")) {
    if (!j["times_input"].is_boolean()) throw Error("rules file: 'times_input' must be true or false");
    c.times_input = j["times_input"].get<bool>();
  }
  // a rule for layer i from a JSON object, checked against the layer's kind
  auto set = [&](int i, const json& o, const std::string& where) {
    Rule r = parse_rule(o, where, c.rules[static_cast<std::size_t>(i)]);
    check_applies(r, net.layer(i), "rules file, " + where + ": ");
    c.rules[static_cast<std::size_t>(i)] = r;
  };
  if (j.contains("default")) {
    for (int i = 0; i < net.size(); ++i)
      if (net.layer(i).has_weights()) set(i, j["default"], "default");
  }
  if (j.contains("types")) {
    if (!j["types"].is_object()) throw Error("rules file: 'types' must map layer types to rules");
    static const std::vector<std::pair<std::string, LayerKind>> types = {{"conv", LayerKind::Conv},
                                                                         {"linear", LayerKind::Linear},
                                                                         {"relu", LayerKind::ReLU},
                                                                         {"maxpool", LayerKind::MaxPool},
                                                                         {"avgpool", LayerKind::AvgPool}};
    for (auto it = j["types"].begin(); it != j["types"].end(); ++it) {
      bool known = false;
      for (const auto& [word, kind] : types) {
        if (it.key() != word) continue;
        known = true;
        for (int i = 0; i < net.size(); ++i)
          if (net.layer(i).kind == kind) set(i, it.value(), "type " + word);
      }
      if (!known) throw Error("rules file: unknown layer type '" + it.key() + "' (conv, linear, relu, maxpool, avgpool)");
    }
  }
  if (j.contains("first")) set(first_weighted(net), j["first"], "first layer");
  if (j.contains("layers")) {
    if (!j["layers"].is_object()) throw Error("rules file: 'layers' must map layer names to rules");
    for (auto it = j["layers"].begin(); it != j["layers"].end(); ++it)
      set(layer_with_rules(net, it.key(), "rules file: "), it.value(), "layer " + it.key());
  }
  c.validate(net);
  return c;
}

static json rule_json(const Rule& r) {
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
  if (!r.bias && rule_has(r.kind, Param::Bias)) o["bias"] = false;
  return o;
}

std::string Composite::to_json(const Network& net) const {
  json j;
  j["name"] = name;
  j["maxpool"] = pool_mode_name(maxpool(net));
  j["seed"] = seed == Seed::One ? "one" : "logit";
  j["times_input"] = times_input;
  json layers = json::object();
  for (int i = 0; i < net.size(); ++i)
    if (layer_mask(net.layer(i))) layers[net.layer(i).name] = rule_json(rule(i));
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
  // every max-pool's mode is one switch, not a change to every max-pool
  if (maxpool(net) != b.maxpool(net)) {
    Composite t = b;
    t.set_maxpool(maxpool(net), net);
    bool uniform = true;
    for (int i = 0; i < net.size(); ++i)
      if (net.layer(i).kind == LayerKind::MaxPool && rule(i) != t.rule(i)) uniform = false;
    if (uniform) {
      out += std::string("~pool:") + pool_mode_name(maxpool(net));
      b = t;
    }
  }
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
    if (!layer_mask(net.layer(i)) || rule(i) == b.rule(i)) continue;
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
    if (rule_has(r.kind, Param::Bias)) out += std::string(",x") + (r.bias ? "1" : "0");
  }
  if (seed != b.seed) out += std::string("~seed:") + (seed == Seed::One ? "one" : "logit");
  if (times_input != b.times_input) out += std::string("~input:") + (times_input ? "1" : "0");
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
      c.set_maxpool(parse_pool_mode(fields[0]), net);
      continue;
    }
    if (layer == "bias") {
      if (fields[0] != "0" && fields[0] != "1") throw Error("rules: bias must be 0 or 1");
      for (auto& r : c.rules) r.bias = fields[0] == "1";
      continue;
    }
    if (layer == "seed") {
      if (fields[0] != "one" && fields[0] != "logit") throw Error("rules: seed must be one or logit");
      c.seed = fields[0] == "one" ? Seed::One : Seed::Logit;
      continue;
    }
    if (layer == "input") {
      if (fields[0] != "0" && fields[0] != "1") throw Error("rules: input must be 0 or 1");
      c.times_input = fields[0] == "1";
      continue;
    }
    const int i = layer_with_rules(net, layer, "rules: ");
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
    check_applies(r, net.layer(i), "rules " + where + ": ");
    c.rules[static_cast<std::size_t>(i)] = r;
  }
  if (changed) c.name = "custom";
  c.validate(net);
  return c;
}

void Composite::validate(const Network& net) const {
  require(static_cast<int>(rules.size()) == net.size(), "composite does not match the network");
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (!layer_mask(l)) continue;
    const Rule& r = rule(i);
    const std::string where = "layer " + l.name + " (" + l.nick + "): ";
    try {
      r.validate();
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    check_applies(r, l, where);
    if (r.kind == RuleKind::ZBox && !r.low.empty())
      require(static_cast<int>(r.low.size()) == l.in_shape[0], where + "zbox bounds need one value per input channel");
  }
}

std::string Composite::describe(const Network& net) const {
  std::ostringstream s;
  s << name << " (max-pool: " << pool_mode_name(maxpool(net));
  if (seed == Seed::One) s << ", from 1";
  if (times_input) s << ", times the input";
  s << ")";
  const Composite base = lrp_base(net);
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.has_weights() || (layer_mask(l) && rule(i) != base.rule(i) && l.kind != LayerKind::MaxPool))
      s << "\n  " << l.name << " (" << l.nick << "): " << rule(i).describe();
  }
  return s.str();
}

}  // namespace lrp
