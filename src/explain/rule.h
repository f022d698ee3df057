// LRP rules. A rule says how to modify the weights/bias and inputs for the forward z of a layer and how the
// relevance maps back; lrp_plan.cpp turns it into a few forward and transposed products on the engine's kernels.
// Definitions follow zennit (stabiliser epsilon * sign(z) with sign(0) = +1) and docs/background.md.
#pragma once

#include <string>
#include <vector>

namespace lrp {

enum class RuleKind {
  Zero,       // LRP-0: R_j = a_j w_jk / z_k R_k (0/0 := 0)
  Epsilon,    // LRP-eps: z + eps*sign(z); eps absolute, or relative: eps = k * RMS(z)
  Gamma,      // LRP-gamma: w + gamma w+ (zennit's generalised form, or the classic tutorial form)
  AlphaBeta,  // alpha * positive part - beta * negative part, alpha - beta = 1
  ZPlus,      // w+ on positive inputs (+ w- on negative inputs), = alpha1beta0
  ZBox,       // zB for bounded inputs l <= x <= h
  Flat,       // all inputs of the receptive field share equally
  WSquare,    // w^2
};

const char* rule_name(RuleKind k);
RuleKind parse_rule_name(const std::string& name);  // throws Error for unknown names

struct Rule {
  RuleKind kind = RuleKind::Epsilon;
  float epsilon = 1e-6f;        // Epsilon: the absolute epsilon; other rules: the stabiliser
  float epsilon_rms = 0.0f;     // Epsilon: if > 0, eps = epsilon_rms * RMS(z) of the layer (plus `epsilon`)
  float gamma = 0.25f;          // Gamma
  bool gamma_classic = false;   // Gamma: one term w + gamma w+ everywhere (Montavon's tutorial) instead of zennit's
  float alpha = 2.0f, beta = 1.0f;  // AlphaBeta
  std::vector<float> low, high;     // ZBox bounds per input channel (empty: the model's normalised 0 and 1)
  bool bias = true;             // bias absorbs relevance (true) or is ignored (false)

  static Rule zero();
  static Rule eps(float e);
  static Rule eps_rms(float k);
  static Rule gamma_rule(float g, bool classic = false);
  static Rule alpha_beta(float a, float b);
  static Rule zplus();
  static Rule zbox();
  static Rule flat();
  static Rule wsquare();
  // The rule's usual parameters: epsilon 1e-6, gamma 0.25 (zennit's form), alpha 2 beta 1, ...
  static Rule defaults(RuleKind kind);

  // Throws Error naming the problem: alpha - beta != 1, negative gamma, negative epsilon, low > high, ...
  void validate() const;
  std::string describe() const;  // e.g. "gamma(0.25)", "epsilon(0.25*rms)"
};

}  // namespace lrp
