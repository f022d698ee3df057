// A rule's recipe: what the LRP operator computes for one conv or linear layer, as data (zennit's BasicHook, with
// its input, parameter and output modifiers, as a small declarative plan instead of closures).
//
//   products   z_p = rho_p(W) in_p(a) (+ rho_p(b))         forward products on the engine's kernels
//   factors    F_f = mask_f(z) / stab(sum_k c_k s_k)      s_k: the layer's own output z, its bias (b, b+, b-), or a
//                                                         product; or F_f = sum_g c_g F_g, a mix of earlier factors
//   terms      R_in += coeff_t * m_t(a) (.) rho_t(W)^T (F_t (.) R_out)
//
// Once the forward pass is fixed every rule is linear in R, so the terms map any batch of relevances at once.
// Rules whose inputs are non-negative (after a ReLU) may have a cheaper alternative recipe with the same result,
// chosen by that property of the layer (tests compare it with the general one).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/weight_mod.h"

namespace lrp {

struct Rule;

// What a product reads, or what a term multiplies by: the layer input a, its parts, constants, or the sign map.
enum class Input {
  A,       // a
  APos,    // max(a, 0)
  ANeg,    // min(a, 0)
  Ones,    // 1 (as a multiplier: no multiplication)
  Low,     // the zB lower bound, per input channel
  High,    // the zB upper bound
  SignMu,  // +1 where a >= mu, -1 below
};
constexpr int kInputs = static_cast<int>(Input::SignMu) + 1;
const char* input_name(Input i);

struct Product {
  Input input = Input::A;
  WeightMod weight = WeightMod::Identity;
  float gamma = 0.0f;
  bool bias = false;  // adds rho(b)
};

struct Summand {
  enum class Source { Z, Bias, BiasPos, BiasNeg, Product } source = Source::Z;
  float coeff = 1.0f;
  int product = -1;  // Source::Product
};

enum class Mask { None, ZPositive, ZNegative };

struct Factor {
  std::vector<Summand> denominator;           // empty: `combine` instead
  float eps = 0.0f, eps_rms = 0.0f;           // stab(d) = d + (eps + eps_rms RMS(d)) sign(d); both 0: 0/0 := 0
  Mask mask = Mask::None;                     // where the layer's output z is > 0 / < 0
  std::vector<std::pair<int, float>> combine;  // (earlier factor, coefficient)
};

struct Term {
  WeightMod weight = WeightMod::Identity;
  float gamma = 0.0f;
  int factor = -1;            // -1: none (the gradient)
  Input mult = Input::A;      // Ones: none
  float coeff = 1.0f;
};

struct Recipe {
  std::vector<Product> products;
  std::vector<Factor> factors;
  std::vector<Term> terms;
  std::string form = "general";  // or the name of the alternative ("non-negative inputs")
};

// The recipe of a rule for a layer; nonnegative_input: every input of the layer is >= 0 (after a ReLU);
// zero_below: the relevance the layer receives is zero wherever its output z <= 0 (its ReLU and the rules above
// see to it: then zennit's gamma needs one backward product instead of two). general forces the general form (tests).
Recipe rule_recipe(const Rule& r, bool nonnegative_input, bool general = false, bool zero_below = false);
// Whether every term multiplies by the layer's input (a, a+ or a-): the relevance it passes down is then zero
// where that input is.
bool multiplies_by_input(const Recipe& c);
// The plain gradient through a weighted layer (the gradient family).
Recipe gradient_recipe();
// Multiply-adds, in units of the layer's forward pass: one per product (build) and per term (apply).
inline long long recipe_build_macs(const Recipe& r, long long layer_macs) {
  return static_cast<long long>(r.products.size()) * layer_macs;
}
inline long long recipe_apply_macs(const Recipe& r, long long layer_macs) {
  return static_cast<long long>(r.terms.size()) * layer_macs;
}
std::string describe(const Recipe& r);  // one line per product, factor and term (docs, tests, debugging)

}  // namespace lrp
