// Rule: lookups by name and the functions that read the table (rule_table.cpp).
#include "explain/rule.h"

#include <cmath>
#include <sstream>

#include "engine/error.h"
#include "engine/shortest_text.h"

namespace lrp {

const char* rule_name(RuleKind k) { return rule_def(k).name; }

bool rule_has(RuleKind k, Param p) {
  if (p == Param::Bias) return rule_def(k).bias && (rule_def(k).layers & kWeighted) != 0;
  for (Param q : rule_def(k).params)
    if (q == p) return true;
  return false;
}

RuleKind parse_rule_name(const std::string& n) {
  std::string all;
  for (const RuleDef& d : rule_defs()) {
    if (n == d.name) return d.kind;
    for (const char* a : d.aliases)
      if (n == a) return d.kind;
    all += (all.empty() ? "" : ", ") + std::string(d.name);
  }
  throw Error("unknown rule '" + n + "' (" + all + ")");
}

Rule Rule::defaults(RuleKind kind) { return rule_def(kind).defaults; }

Rule Rule::eps(float e) {
  Rule r = defaults(RuleKind::Epsilon);
  r.epsilon = e;
  return r;
}
Rule Rule::eps_rms(float k) {
  Rule r = defaults(RuleKind::Epsilon);
  r.epsilon = 1e-9f;
  r.epsilon_rms = k;
  return r;
}
Rule Rule::gamma_rule(float g, bool classic) {
  Rule r = defaults(RuleKind::Gamma);
  r.gamma = g;
  r.gamma_classic = classic;
  return r;
}
Rule Rule::alpha_beta(float a, float b) {
  Rule r = defaults(RuleKind::AlphaBeta);
  r.alpha = a;
  r.beta = b;
  return r;
}
Rule Rule::sign(float m) {
  Rule r = defaults(RuleKind::Sign);
  r.mu = m;
  return r;
}

float Rule::get(Param p) const {
  switch (p) {
    case Param::Epsilon:
    case Param::Stabiliser: return epsilon;
    case Param::Rms: return epsilon_rms;
    case Param::Gamma: return gamma;
    case Param::Classic: return gamma_classic ? 1.0f : 0.0f;
    case Param::Alpha: return alpha;
    case Param::Beta: return beta;
    case Param::Mu: return mu;
    case Param::BetaSmooth: return beta_smooth;
    case Param::Bias: return bias ? 1.0f : 0.0f;
  }
  return 0.0f;
}

void Rule::set(Param p, float v) {
  switch (p) {
    case Param::Epsilon:
    case Param::Stabiliser: epsilon = v; break;
    case Param::Rms: epsilon_rms = v; break;
    case Param::Gamma: gamma = v; break;
    case Param::Classic: gamma_classic = v != 0.0f; break;
    case Param::Alpha: alpha = v; break;
    case Param::Beta: beta = v; break;
    case Param::Mu: mu = v; break;
    case Param::BetaSmooth: beta_smooth = v; break;
    case Param::Bias: bias = v != 0.0f; break;
  }
}

bool Rule::operator==(const Rule& o) const {
  if (kind != o.kind) return false;
  if (kind == RuleKind::ZBox && (low != o.low || high != o.high)) return false;
  for (Param p : rule_def(kind).params)
    if (get(p) != o.get(p)) return false;
  return !rule_has(kind, Param::Bias) || bias == o.bias;
}

void Rule::validate() const {
  const RuleDef& d = rule_def(kind);
  for (Param p : d.params) {
    const ParamDef& pd = param_def(p);
    const float v = get(p);
    require(std::isfinite(v) && v >= pd.min && v <= pd.max,
            std::string(d.name) + ": " + pd.key + " must be " +
                (pd.min == 0 && pd.max >= 1e6f ? std::string(">= 0")
                                               : "between " + shortest_text(pd.min) + " and " + shortest_text(pd.max)) +
                ", got " + shortest_text(v));
  }
  if (d.check) d.check(*this);
}

std::string Rule::describe() const {
  const RuleDef& d = rule_def(kind);
  std::ostringstream s;
  s << d.name;
  std::string args;
  for (Param p : d.params) {
    const ParamDef& pd = param_def(p);
    const float v = get(p);
    if (p == Param::Stabiliser && v == 1e-6f) continue;
    if (p == Param::Rms && v == 0.0f) continue;
    if (pd.boolean) {
      if (v != 0.0f) args += std::string(args.empty() ? "" : ", ") + pd.key;
      continue;
    }
    args += std::string(args.empty() ? "" : ", ") + pd.key + "=" + shortest_text(v);
  }
  if (!args.empty()) s << "(" << args << ")";
  if (!bias && rule_has(kind, Param::Bias)) s << " nobias";
  return s.str();
}

}  // namespace lrp
