// The table of LRP rules: every rule's names, parameters, defaults and recipe. Adding a rule is one entry in
// kRuleDefs and its recipe function here (and a Param entry if it takes a new parameter).
#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/shortest_text.h"
#include "explain/recipe.h"
#include "explain/rule.h"

namespace lrp {

namespace {

constexpr float kBig = 1e6f;

const std::vector<ParamDef> kParamDefs = {
    {Param::Epsilon, "epsilon", 'e', "eps", "eps %.2e", false, 0, kBig, 0, 100, 1e-4f,
     "Added to every denominator with its sign: larger values absorb weak and contradictory contributions, so the "
     "map gets sparser and less noisy."},
    {Param::Stabiliser, "stabilizer", 'e', "stabiliser", "stab %.1e", false, 0, kBig, 0, 1, 1e-7f,
     "A tiny number added to denominators so that nothing is divided by zero; it does not change the result otherwise."},
    {Param::Rms, "rms", 'r', "k x RMS", "k %.3f", false, 0, kBig, 0, 10, 0.01f,
     "Above 0, epsilon grows with the layer: k times the root mean square of its outputs (Montavon's tutorial uses "
     "0.25)."},
    {Param::Gamma, "gamma", 'g', "gamma", "gamma %.3f", false, 0, kBig, 0, 100, 0.01f,
     "How much extra weight positive contributions get: 0 is LRP-0, larger values favour the evidence for the class."},
    {Param::Classic, "classic", 'c', "classic", "", true, 0, 1, 0, 1, 1,
     "One term w + gamma w+ for every output (Montavon's tutorial) instead of zennit's split by the sign of each "
     "output."},
    {Param::Alpha, "alpha", 'a', "alpha", "alpha %.2f", false, 0, kBig, 1, 10, 0.05f,
     "Weight of the positive contributions; alpha - beta must be 1 so that relevance is conserved."},
    {Param::Beta, "beta", 'n', "beta", "beta %.2f", false, 0, kBig, 0, 9, 0.05f,
     "Weight of the negative contributions, which are subtracted."},
    {Param::Mu, "mu", 'm', "mu", "mu %.3f", false, -kBig, kBig, -5, 5, 0.01f,
     "Inputs at or above mu count as +1 and those below as -1 (SIGN-mu, in the layer input's units); 0 gives SIGN."},
    {Param::BetaSmooth, "beta_smooth", 's', "beta", "beta %.2f", false, 0, 1000, 0.1f, 100, 0.1f,
     "How sharp the smooth ReLU is: its gradient is sigmoid(beta x); large values approach the ReLU's own gradient."},
    {Param::Bias, "bias", 'x', "bias", "", true, 0, 1, 0, 1, 1,
     "Whether the bias takes its share of relevance (on) or is left out of the denominators (off)."},
};

// ---- recipes (recipe.h) ----

using Source = Summand::Source;
Summand from_z(float c = 1.0f) { return {Source::Z, c, -1}; }
Summand from_bias(float c) { return {Source::Bias, c, -1}; }
Summand from_bias_pos(float c) { return {Source::BiasPos, c, -1}; }
Summand from_bias_neg(float c) { return {Source::BiasNeg, c, -1}; }
Summand from_product(int p, float c = 1.0f) { return {Source::Product, c, p}; }
int add(Recipe& c, Input in, WeightMod w, float gamma, bool bias) {
  c.products.push_back({in, w, gamma, bias});
  return static_cast<int>(c.products.size()) - 1;
}
int add(Recipe& c, Factor f) {
  c.factors.push_back(std::move(f));
  return static_cast<int>(c.factors.size()) - 1;
}
Factor inverse(std::vector<Summand> d, float eps, Mask mask = Mask::None) {
  Factor f;
  f.denominator = std::move(d);
  f.eps = eps;
  f.mask = mask;
  return f;
}
Factor mix(std::vector<std::pair<int, float>> parts) {
  Factor f;
  f.combine = std::move(parts);
  return f;
}
// The layer's own output z, without its bias when the rule leaves the bias out.
std::vector<Summand> own_z(const Rule& r) {
  if (r.bias) return {from_z()};
  return {from_z(), from_bias(-1.0f)};
}

// LRP-0 / epsilon: F = 1 / stab(z);  R_in = a (.) W^T (F R)
Recipe epsilon_recipe(const Rule& r, bool, bool) {
  Recipe c;
  Factor f = inverse(own_z(r), r.kind == RuleKind::Zero ? 0.0f : r.epsilon);
  f.eps_rms = r.kind == RuleKind::Epsilon ? r.epsilon_rms : 0.0f;
  add(c, f);
  c.terms.push_back({WeightMod::Identity, 0, 0, Input::A, 1});
  return c;
}

// SIGN / SIGN-mu: as epsilon, with sign(a - mu) in place of a in the result.
Recipe sign_recipe(const Rule& r, bool, bool) {
  Recipe c;
  add(c, inverse(own_z(r), r.epsilon));
  c.terms.push_back({WeightMod::Identity, 0, 0, Input::SignMu, 1});
  return c;
}

// Gamma. zennit's generalised form: outputs z > 0 are explained by the contributions that push up
// (rho+ = W + gamma W+ on a+, W + gamma W- on a-), outputs z < 0 by those that push down.
Recipe gamma_recipe(const Rule& r, bool nonneg, bool general) {
  const float g = r.gamma, st = r.epsilon;
  Recipe c;
  if (r.gamma_classic) {  // Montavon's tutorial: one term W + gamma W+ everywhere
    const int p = add(c, Input::A, WeightMod::GammaPositive, g, r.bias);
    add(c, inverse({from_product(p)}, st));
    c.terms.push_back({WeightMod::GammaPositive, g, 0, Input::A, 1});
    return c;
  }
  if (nonneg && !general) {
    // With a >= 0 and P = W+ a (one product instead of two):
    //   z+ = z + gamma (P + b+),  z- = z + gamma (W a - P + b-)
    //   R_in = a (.) [ W^T ((F+ + (1 + gamma) F-) R) + gamma W+^T ((F+ - F-) R) ]
    // so the transposed products use W and W+, packings the other rules and deconvnet share.
    c.form = "non-negative inputs";
    const float bb = r.bias ? 1.0f : 0.0f;
    const int p = add(c, Input::A, WeightMod::Positive, 0, false);
    const int fp = add(c, inverse({from_z(), from_bias(-(1 - bb)), from_product(p, g), from_bias_pos(g * bb)}, st,
                                  Mask::ZPositive));
    const int fn = add(c, inverse({from_z(1 + g), from_bias(-(1 - bb) - g), from_product(p, -g), from_bias_neg(g * bb)},
                                  st, Mask::ZNegative));
    const int fa = add(c, mix({{fp, 1.0f}, {fn, 1.0f + g}}));
    const int fb = add(c, mix({{fp, 1.0f}, {fn, -1.0f}}));
    c.terms.push_back({WeightMod::Identity, 0, fa, Input::A, 1});
    c.terms.push_back({WeightMod::Positive, 0, fb, Input::A, g});
    return c;
  }
  const int p0 = add(c, Input::APos, WeightMod::GammaPositive, g, r.bias);
  const int p1 = add(c, Input::ANeg, WeightMod::GammaNegative, g, false);
  const int p2 = add(c, Input::APos, WeightMod::GammaNegative, g, r.bias);
  const int p3 = add(c, Input::ANeg, WeightMod::GammaPositive, g, false);
  const int fp = add(c, inverse({from_product(p0), from_product(p1)}, st, Mask::ZPositive));
  const int fn = add(c, inverse({from_product(p2), from_product(p3)}, st, Mask::ZNegative));
  c.terms.push_back({WeightMod::GammaPositive, g, fp, Input::APos, 1});
  c.terms.push_back({WeightMod::GammaNegative, g, fn, Input::APos, 1});
  c.terms.push_back({WeightMod::GammaNegative, g, fp, Input::ANeg, 1});
  c.terms.push_back({WeightMod::GammaPositive, g, fn, Input::ANeg, 1});
  return c;
}

// Alpha-beta (and z+ = alpha 1 beta 0): alpha (positive contributions) - beta (negative contributions).
Recipe alpha_beta_recipe(const Rule& r, bool nonneg, bool general) {
  const bool ab = r.kind == RuleKind::AlphaBeta;
  const float alpha = ab ? r.alpha : 1.0f, beta = ab ? r.beta : 0.0f, st = r.epsilon;
  Recipe c;
  if (nonneg && beta != 0.0f && !general) {
    // With a >= 0 and P = W+ a: z- = W a - P (one product, not two), and
    //   R_in = a (.) [ W+^T ((alpha F+ + beta F-) R) - beta W^T (F- R) ]
    c.form = "non-negative inputs";
    const float bb = r.bias ? 1.0f : 0.0f;
    const int p = add(c, Input::A, WeightMod::Positive, 0, false);
    const int fp = add(c, inverse({from_product(p), from_bias_pos(bb)}, st));
    const int fn = add(c, inverse({from_z(), from_bias(-1), from_product(p, -1), from_bias_neg(bb)}, st));
    const int f = add(c, mix({{fp, alpha}, {fn, beta}}));
    c.terms.push_back({WeightMod::Positive, 0, f, Input::A, 1});
    c.terms.push_back({WeightMod::Identity, 0, fn, Input::A, -beta});
    return c;
  }
  const int pp = add(c, Input::APos, WeightMod::Positive, 0, r.bias);
  const int ppn = add(c, Input::ANeg, WeightMod::Negative, 0, false);
  const int fp = add(c, inverse({from_product(pp), from_product(ppn)}, st));
  c.terms.push_back({WeightMod::Positive, 0, fp, Input::APos, alpha});
  c.terms.push_back({WeightMod::Negative, 0, fp, Input::ANeg, alpha});
  if (beta != 0.0f) {
    const int pn = add(c, Input::APos, WeightMod::Negative, 0, r.bias);
    const int pnn = add(c, Input::ANeg, WeightMod::Positive, 0, false);
    const int fn = add(c, inverse({from_product(pn), from_product(pnn)}, st));
    c.terms.push_back({WeightMod::Negative, 0, fn, Input::APos, -beta});
    c.terms.push_back({WeightMod::Positive, 0, fn, Input::ANeg, -beta});
  }
  return c;
}

// zB: z = W a - W+ l - W- h (the bias cancels: b - b+ - b- = 0);  R_in = a (.) W^T s - l (.) W+^T s - h (.) W-^T s
Recipe zbox_recipe(const Rule& r, bool, bool) {
  Recipe c;
  const float bb = r.bias ? 1.0f : 0.0f;
  const int pl = add(c, Input::Low, WeightMod::Positive, 0, r.bias);
  const int ph = add(c, Input::High, WeightMod::Negative, 0, r.bias);
  add(c, inverse({from_z(), from_bias(-(1 - bb)), from_product(pl, -1), from_product(ph, -1)}, r.epsilon));
  c.terms.push_back({WeightMod::Identity, 0, 0, Input::A, 1});
  c.terms.push_back({WeightMod::Positive, 0, 0, Input::Low, -1});
  c.terms.push_back({WeightMod::Negative, 0, 0, Input::High, -1});
  return c;
}

// The gradient through a weighted layer: W^T R, not multiplied by the input.
Recipe gradient_rule_recipe(const Rule&, bool, bool) { return gradient_recipe(); }

// Flat (rho = 1) and w^2: z = rho(W) 1;  R_in = rho(W)^T (R / z), not multiplied by the input.
Recipe flat_recipe(const Rule& r, bool, bool) {
  const WeightMod mod = r.kind == RuleKind::Flat ? WeightMod::Ones : WeightMod::Square;
  Recipe c;
  const int p = add(c, Input::Ones, mod, 0, r.bias);
  add(c, inverse({from_product(p)}, r.epsilon));
  c.terms.push_back({mod, 0, 0, Input::Ones, 1});
  return c;
}

Rule base(RuleKind k) {
  Rule r;
  r.kind = k;
  return r;
}

Rule with_eps(RuleKind k, float e) {
  Rule r = base(k);
  r.epsilon = e;
  return r;
}

void check_alpha_beta(const Rule& r) {
  require(std::fabs(r.alpha - r.beta - 1.0f) < 1e-6f, "alphabeta: alpha - beta must equal 1 (got alpha " +
                                                          shortest_text(r.alpha) + ", beta " + shortest_text(r.beta) + ")");
}

void edited_alpha_beta(Rule& r, Param changed) {
  if (changed == Param::Alpha) r.beta = std::max(0.0f, r.alpha - 1.0f);
  if (changed == Param::Beta) r.alpha = r.beta + 1.0f;
}

void check_zbox(const Rule& r) {
  require(r.low.size() == r.high.size(), "zbox: low and high need the same number of channels");
  for (std::size_t i = 0; i < r.low.size(); ++i)
    require(std::isfinite(r.low[i]) && std::isfinite(r.high[i]) && r.low[i] <= r.high[i], "zbox: needs low <= high");
}

Rule alpha_beta_defaults() {
  Rule r = base(RuleKind::AlphaBeta);
  r.alpha = 2;
  r.beta = 1;
  return r;
}

const std::vector<RuleDef> kRuleDefs = {
    {RuleKind::Zero, "lrp0", {"zero", "0"}, "Epsilon(epsilon=0)",
     "Each input gets the share of an output it contributed: exact for linear layers, noisy in deep ones.",
     {}, with_eps(RuleKind::Zero, 0.0f), nullptr, nullptr, epsilon_recipe},
    {RuleKind::Epsilon, "epsilon", {"eps"}, "Epsilon",
     "LRP-0 with epsilon added to each denominator: weak, contradictory contributions are absorbed.",
     {Param::Epsilon, Param::Rms}, with_eps(RuleKind::Epsilon, 1e-6f), nullptr, nullptr, epsilon_recipe},
    {RuleKind::Gamma, "gamma", {}, "Gamma",
     "Positive contributions count 1 + gamma times: explanations become more stable and favour evidence for the class.",
     {Param::Gamma, Param::Classic, Param::Stabiliser}, base(RuleKind::Gamma), nullptr, nullptr, gamma_recipe},
    {RuleKind::AlphaBeta, "alphabeta", {"alpha-beta"}, "AlphaBeta",
     "Positive and negative contributions are explained separately and weighted alpha and -beta.",
     {Param::Alpha, Param::Beta, Param::Stabiliser}, alpha_beta_defaults(), check_alpha_beta, edited_alpha_beta, alpha_beta_recipe},
    {RuleKind::ZPlus, "zplus", {"z+"}, "ZPlus",
     "Only positive contributions carry relevance (alpha 1, beta 0): every input relevance has the sign of the output.",
     {Param::Stabiliser}, base(RuleKind::ZPlus), nullptr, nullptr, alpha_beta_recipe},
    {RuleKind::ZBox, "zbox", {"zb", "box"}, "ZBox",
     "For the first layer: pixels are bounded by the image of black and white, and relevance respects the bounds.",
     {Param::Stabiliser}, base(RuleKind::ZBox), check_zbox, nullptr, zbox_recipe},
    {RuleKind::Flat, "flat", {}, "Flat",
     "Every input of an output's receptive field gets the same share, whatever its value or weight.",
     {Param::Stabiliser}, base(RuleKind::Flat), nullptr, nullptr, flat_recipe},
    {RuleKind::WSquare, "wsquare", {"w2", "w^2"}, "WSquare",
     "Inputs share in proportion to their squared weights, independent of the input values.",
     {Param::Stabiliser}, base(RuleKind::WSquare), nullptr, nullptr, flat_recipe},
    {RuleKind::Sign, "sign", {"sign-mu", "signmu"}, "",
     "For the first layer: LRP-epsilon whose result is multiplied by sign(x - mu) instead of x, so dark pixels that "
     "matter are not lost (SIGN, Gumpfer et al. 2023).",
     {Param::Epsilon, Param::Mu}, with_eps(RuleKind::Sign, 1e-6f), nullptr, nullptr, sign_recipe},
    {RuleKind::Gradient, "gradient", {"wta", "winner-take-all", "max"}, "(no rule: the gradient)",
     "The plain gradient: weights transposed, a ReLU's mask, a max-pool's winner takes all.",
     {}, base(RuleKind::Gradient), nullptr, nullptr, gradient_rule_recipe, kWeighted | kRelu | kMaxPool | kAvgPool,
     false},
    {RuleKind::Pass, "pass", {}, "Pass",
     "Relevance passes through the ReLU unchanged (every LRP composite).", {}, base(RuleKind::Pass), nullptr, nullptr,
     nullptr, kRelu},
    {RuleKind::GuidedBackprop, "guided", {"guided-backprop", "guided_backprop"}, "ReLUGuidedBackprop",
     "The ReLU's gradient, then only its positive part: the signal that would make the neuron fire more.", {},
     base(RuleKind::GuidedBackprop), nullptr, nullptr, nullptr, kRelu},
    {RuleKind::DeconvNet, "deconvnet", {"deconv"}, "ReLUDeconvNet",
     "Only the positive part of the signal coming down, whatever the neuron did in the forward pass.", {},
     base(RuleKind::DeconvNet), nullptr, nullptr, nullptr, kRelu},
    {RuleKind::BetaSmooth, "betasmooth", {"beta-smooth", "softplus"}, "ReLUBetaSmooth",
     "The gradient of a smooth ReLU (softplus): sigmoid(beta x) instead of the step.", {Param::BetaSmooth},
     base(RuleKind::BetaSmooth), nullptr, nullptr, nullptr, kRelu},
    {RuleKind::Proportional, "proportional", {"avg", "average", "norm"}, "Norm",
     "A pooling window's relevance is shared in proportion to its inputs (a max-pool is treated as average pooling).",
     {}, base(RuleKind::Proportional), nullptr, nullptr, nullptr, kMaxPool | kAvgPool},
};

}  // namespace

const std::vector<ParamDef>& param_defs() { return kParamDefs; }
const ParamDef& param_def(Param p) { return kParamDefs.at(static_cast<std::size_t>(p)); }
const std::vector<RuleDef>& rule_defs() { return kRuleDefs; }
const RuleDef& rule_def(RuleKind k) { return kRuleDefs.at(static_cast<std::size_t>(k)); }

}  // namespace lrp
