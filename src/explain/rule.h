// LRP rules as data. A Rule is a kind and its parameters; one table (rule_table.cpp) says for every kind its
// name and aliases, its zennit counterpart, a sentence for people, which parameters it takes with their defaults and
// ranges, and its recipe: the forward products, factors and terms the LRP operator evaluates (recipe.h). Names,
// parsing, defaults, validation, the description, the JSON and link keys and the app's rule widgets all read the table.
// Definitions follow zennit (stabiliser epsilon * sign(z) with sign(0) = +1) and docs/background.md.
#pragma once

#include <string>
#include <vector>

namespace lrp {

struct Recipe;

enum class RuleKind {
  Zero,       // LRP-0: R_j = a_j w_jk / z_k R_k (0/0 := 0)
  Epsilon,    // LRP-eps: z + eps*sign(z); eps absolute, or relative: eps = k * RMS(z)
  Gamma,      // LRP-gamma: w + gamma w+ (zennit's generalised form, or the classic tutorial form)
  AlphaBeta,  // alpha * positive part - beta * negative part
  ZPlus,      // w+ on positive inputs (+ w- on negative inputs), = alpha1beta0
  ZBox,       // zB for bounded inputs l <= x <= h
  Flat,       // all inputs of the receptive field share equally
  WSquare,    // w^2
  Sign,       // SIGN / SIGN-mu (Gumpfer et al. 2023): LRP-0/eps with the input replaced by sign(x - mu) in the result
  // rules of every layer kind (zennit's layer maps):
  Gradient,        // the plain gradient: rho(W)^T R for weighted layers, the ReLU's mask, a max-pool's switches
  Pass,            // ReLU: relevance passes unchanged (every LRP composite)
  GuidedBackprop,  // ReLU: the gradient, then only its positive part (Springenberg et al. 2015)
  DeconvNet,       // ReLU: only the positive part of the incoming signal, whatever the forward pass did (Zeiler 2014)
  BetaSmooth,      // ReLU: the gradient of softplus_beta, sigmoid(beta x) (Dombrowski et al. 2019)
  Proportional,    // pooling: shared in proportion to the inputs of the window (average pooling's LRP; zennit's Norm)
};
constexpr int kRuleKinds = static_cast<int>(RuleKind::Proportional) + 1;

// The layer kinds a rule applies to (RuleDef::layers).
enum LayerMask : unsigned { kWeighted = 1, kRelu = 2, kMaxPool = 4, kAvgPool = 8 };

// A rule's parameters. Each names a field of Rule; the table gives its keys, range and default.
enum class Param { Epsilon, Stabiliser, Rms, Gamma, Classic, Alpha, Beta, Mu, BetaSmooth, Bias };
constexpr int kParams = static_cast<int>(Param::Bias) + 1;

struct Rule {
  RuleKind kind = RuleKind::Epsilon;
  float epsilon = 1e-6f;        // Epsilon and Sign: the absolute epsilon; other rules: the stabiliser
  float epsilon_rms = 0.0f;     // Epsilon: if > 0, eps = epsilon_rms * RMS(z) of the layer (plus `epsilon`)
  float gamma = 0.25f;          // Gamma
  bool gamma_classic = false;   // Gamma: one term w + gamma w+ everywhere (Montavon's tutorial) instead of zennit's
  float alpha = 2.0f, beta = 1.0f;  // AlphaBeta
  float mu = 0.0f;              // Sign: the threshold, in the layer input's units (0: SIGN)
  float beta_smooth = 10.0f;    // BetaSmooth
  std::vector<float> low, high;     // ZBox bounds per input channel (empty: the model's normalised 0 and 1)
  bool bias = true;             // bias absorbs relevance (true) or is ignored (false)

  static Rule zero() { return defaults(RuleKind::Zero); }
  static Rule eps(float e);
  static Rule eps_rms(float k);
  static Rule gamma_rule(float g, bool classic = false);
  static Rule alpha_beta(float a, float b);
  static Rule zplus() { return defaults(RuleKind::ZPlus); }
  static Rule zbox() { return defaults(RuleKind::ZBox); }
  static Rule flat() { return defaults(RuleKind::Flat); }
  static Rule wsquare() { return defaults(RuleKind::WSquare); }
  static Rule sign(float mu = 0.0f);
  // The rule's usual parameters (the table's defaults): epsilon 1e-6, gamma 0.25 (zennit's form), alpha 2 beta 1, ...
  static Rule defaults(RuleKind kind);

  // Throws Error naming the problem: alpha - beta != 1, negative gamma, negative epsilon, low > high, ...
  void validate() const;
  std::string describe() const;  // e.g. "gamma(0.25)", "epsilon(0.25*rms)", "sign(mu=0.5)"
  bool operator==(const Rule& o) const;
  bool operator!=(const Rule& o) const { return !(*this == o); }

  // Parameter access by the table's field.
  float get(Param p) const;
  void set(Param p, float v);  // booleans: v != 0
};

// A parameter of the table: its JSON key, its letter in links, a label and range for widgets, a sentence.
struct ParamDef {
  Param id;
  const char* key;      // JSON key ("epsilon", "stabilizer", "rms", ...)
  char letter;          // link key ('e', 'r', ...)
  const char* label;    // widget label
  const char* format;   // widget number format
  bool boolean;
  float min, max;       // valid range (inclusive); widgets drag within [ui_min, ui_max]
  float ui_min, ui_max, ui_step;
  const char* help;     // one sentence
};
const ParamDef& param_def(Param p);
const std::vector<ParamDef>& param_defs();

// One rule of the table.
struct RuleDef {
  RuleKind kind;
  const char* name;                  // canonical name, used in JSON, links, the CLI and the app
  std::vector<const char*> aliases;  // other accepted spellings
  const char* zennit;                // the zennit class it corresponds to ("" if none)
  const char* summary;               // one sentence for people
  std::vector<Param> params;         // what the rule reads besides the bias switch, in display order
  Rule defaults;
  // Extra checks beyond each parameter's range (alpha - beta = 1); null when none. Throws Error.
  void (*check)(const Rule&) = nullptr;
  // Keeps linked parameters consistent after the app edits `changed` (alpha - beta = 1); null when none.
  void (*edited)(Rule&, Param changed) = nullptr;
  // The recipe (recipe.h): general, or the cheaper form for non-negative inputs unless `general`. Weighted layers.
  Recipe (*recipe)(const Rule&, bool nonnegative_input, bool general) = nullptr;
  unsigned layers = kWeighted;  // LayerMask: where the rule applies
  bool bias = true;             // the bias switch means something (rules of weighted layers but the gradient)
};
const std::vector<RuleDef>& rule_defs();  // in RuleKind order
const RuleDef& rule_def(RuleKind k);
const char* rule_name(RuleKind k);
RuleKind parse_rule_name(const std::string& name);  // throws Error for unknown names, listing the known ones
bool rule_has(RuleKind k, Param p);                  // Bias: RuleDef::bias
// Whether a rule applies to a layer of this kind (mask: LayerMask of the layer; 0 for a flatten layer).
inline bool rule_applies(RuleKind k, unsigned layer_mask) { return (rule_def(k).layers & layer_mask) != 0; }

}  // namespace lrp
