#include "explain/rule.h"

#include <cmath>
#include <sstream>

#include "engine/error.h"

namespace lrp {

const char* rule_name(RuleKind k) {
  switch (k) {
    case RuleKind::Zero: return "lrp0";
    case RuleKind::Epsilon: return "epsilon";
    case RuleKind::Gamma: return "gamma";
    case RuleKind::AlphaBeta: return "alphabeta";
    case RuleKind::ZPlus: return "zplus";
    case RuleKind::ZBox: return "zbox";
    case RuleKind::Flat: return "flat";
    case RuleKind::WSquare: return "wsquare";
  }
  return "?";
}

RuleKind parse_rule_name(const std::string& n) {
  if (n == "lrp0" || n == "zero" || n == "0") return RuleKind::Zero;
  if (n == "epsilon" || n == "eps") return RuleKind::Epsilon;
  if (n == "gamma") return RuleKind::Gamma;
  if (n == "alphabeta" || n == "alpha-beta") return RuleKind::AlphaBeta;
  if (n == "zplus" || n == "z+") return RuleKind::ZPlus;
  if (n == "zbox" || n == "zb" || n == "box") return RuleKind::ZBox;
  if (n == "flat") return RuleKind::Flat;
  if (n == "wsquare" || n == "w2" || n == "w^2") return RuleKind::WSquare;
  throw Error("unknown rule '" + n + "' (lrp0, epsilon, gamma, alphabeta, zplus, zbox, flat, wsquare)");
}

Rule Rule::zero() {
  Rule r;
  r.kind = RuleKind::Zero;
  r.epsilon = 0.0f;
  return r;
}
Rule Rule::eps(float e) {
  Rule r;
  r.kind = RuleKind::Epsilon;
  r.epsilon = e;
  return r;
}
Rule Rule::eps_rms(float k) {
  Rule r;
  r.kind = RuleKind::Epsilon;
  r.epsilon = 1e-9f;
  r.epsilon_rms = k;
  return r;
}
Rule Rule::gamma_rule(float g, bool classic) {
  Rule r;
  r.kind = RuleKind::Gamma;
  r.gamma = g;
  r.gamma_classic = classic;
  return r;
}
Rule Rule::alpha_beta(float a, float b) {
  Rule r;
  r.kind = RuleKind::AlphaBeta;
  r.alpha = a;
  r.beta = b;
  return r;
}
Rule Rule::zplus() {
  Rule r;
  r.kind = RuleKind::ZPlus;
  return r;
}
Rule Rule::zbox() {
  Rule r;
  r.kind = RuleKind::ZBox;
  return r;
}
Rule Rule::flat() {
  Rule r;
  r.kind = RuleKind::Flat;
  return r;
}
Rule Rule::wsquare() {
  Rule r;
  r.kind = RuleKind::WSquare;
  return r;
}

Rule Rule::defaults(RuleKind kind) {
  switch (kind) {
    case RuleKind::Zero: return zero();
    case RuleKind::Epsilon: return eps(1e-6f);
    case RuleKind::Gamma: return gamma_rule(0.25f);
    case RuleKind::AlphaBeta: return alpha_beta(2, 1);
    case RuleKind::ZPlus: return zplus();
    case RuleKind::ZBox: return zbox();
    case RuleKind::Flat: return flat();
    case RuleKind::WSquare: return wsquare();
  }
  return zero();
}

void Rule::validate() const {
  require(std::isfinite(epsilon) && epsilon >= 0.0f, std::string(rule_name(kind)) + ": epsilon must be >= 0");
  require(std::isfinite(epsilon_rms) && epsilon_rms >= 0.0f, "epsilon: the RMS factor must be >= 0");
  if (kind == RuleKind::Gamma) require(std::isfinite(gamma) && gamma >= 0.0f, "gamma must be >= 0, got " + std::to_string(gamma));
  if (kind == RuleKind::AlphaBeta) {
    require(std::isfinite(alpha) && std::isfinite(beta) && alpha >= 0.0f && beta >= 0.0f,
            "alphabeta: alpha and beta must be >= 0");
    require(std::fabs(alpha - beta - 1.0f) < 1e-6f,
            "alphabeta: alpha - beta must equal 1 (got alpha " + std::to_string(alpha) + ", beta " +
                std::to_string(beta) + ")");
  }
  if (kind == RuleKind::ZBox) {
    require(low.size() == high.size(), "zbox: low and high need the same number of channels");
    for (std::size_t i = 0; i < low.size(); ++i)
      require(std::isfinite(low[i]) && std::isfinite(high[i]) && low[i] <= high[i], "zbox: needs low <= high");
  }
}

std::string Rule::describe() const {
  std::ostringstream s;
  s << rule_name(kind);
  switch (kind) {
    case RuleKind::Epsilon:
      if (epsilon_rms > 0) s << "(" << epsilon_rms << "*rms)";
      else s << "(" << epsilon << ")";
      break;
    case RuleKind::Gamma: s << "(" << gamma << (gamma_classic ? ", classic" : "") << ")"; break;
    case RuleKind::AlphaBeta: s << "(" << alpha << "," << beta << ")"; break;
    default: break;
  }
  if (!bias) s << " nobias";
  return s.str();
}

}  // namespace lrp
