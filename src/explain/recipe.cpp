#include "explain/recipe.h"

#include <sstream>

#include "explain/rule.h"

namespace lrp {

const char* input_name(Input i) {
  switch (i) {
    case Input::A: return "a";
    case Input::APos: return "a+";
    case Input::ANeg: return "a-";
    case Input::Ones: return "1";
    case Input::Low: return "low";
    case Input::High: return "high";
    case Input::SignMu: return "sign(a-mu)";
  }
  return "?";
}

namespace {

// With a >= 0: a+ is a, and a- is zero, so products of a- without a bias and terms multiplied by a- vanish.
void simplify_nonnegative(Recipe& c) {
  std::vector<int> map(c.products.size(), -1);
  std::vector<Product> kept;
  for (std::size_t p = 0; p < c.products.size(); ++p) {
    Product q = c.products[p];
    if (q.input == Input::ANeg && !q.bias) continue;
    if (q.input == Input::APos) q.input = Input::A;
    map[p] = static_cast<int>(kept.size());
    kept.push_back(q);
  }
  c.products = std::move(kept);
  for (Factor& f : c.factors) {
    std::vector<Summand> d;
    for (Summand s : f.denominator) {
      if (s.source == Summand::Source::Product) {
        s.product = map[static_cast<std::size_t>(s.product)];
        if (s.product < 0) continue;
      }
      d.push_back(s);
    }
    // (a denominator that was only products of a- keeps one zero summand: 0/0 := 0 there, as before)
    if (d.empty() && !f.denominator.empty()) d.push_back({Summand::Source::Z, 0.0f, -1});
    f.denominator = std::move(d);
  }
  std::vector<Term> terms;
  for (Term t : c.terms) {
    if (t.mult == Input::ANeg) continue;
    if (t.mult == Input::APos) t.mult = Input::A;
    terms.push_back(t);
  }
  c.terms = std::move(terms);
}

// A weight modification as a combination x W + y W+ (W- = W - W+), where it is one.
bool as_combination(WeightMod m, float gamma, float& x, float& y) {
  switch (m) {
    case WeightMod::Identity: x = 1, y = 0; return true;
    case WeightMod::Positive: x = 0, y = 1; return true;
    case WeightMod::Negative: x = 1, y = -1; return true;
    case WeightMod::GammaPositive: x = 1, y = gamma; return true;
    case WeightMod::GammaNegative: x = 1 + gamma, y = -gamma; return true;
    default: return false;
  }
}

// u.coeff rho_u(W) + t.coeff rho_t(W) as one term u, when both are combinations of W and W+.
bool merge_weights(Term& u, const Term& t) {
  float ux, uy, tx, ty;
  if (!as_combination(u.weight, u.gamma, ux, uy) || !as_combination(t.weight, t.gamma, tx, ty)) return false;
  const float x = u.coeff * ux + t.coeff * tx, y = u.coeff * uy + t.coeff * ty;
  if (x != 0.0f) {
    u.coeff = x;
    u.weight = y == 0.0f ? WeightMod::Identity : WeightMod::GammaPositive;  // x (W + (y/x) W+)
    u.gamma = y == 0.0f ? 0.0f : y / x;
  } else {
    u.coeff = y;
    u.weight = WeightMod::Positive;
    u.gamma = 0.0f;
  }
  return true;
}

// The relevance reaching the layer's output is zero wherever z <= 0: factors masked to z < 0 multiply nothing, so
// the terms that read them vanish and mixes keep only their other parts; terms that then read the same factor with
// the same multiplier merge their weight modifications (W^T s + g W+^T s is one product with W + g W+); factors no
// term reads are not built.
void simplify_zero_below(Recipe& c) {
  const std::size_t nf = c.factors.size();
  std::vector<std::pair<int, float>> as(nf, {-1, 0.0f});  // each factor as scale x a base factor, or zero (-1)
  for (std::size_t f = 0; f < nf; ++f) {
    Factor& x = c.factors[f];
    if (!x.denominator.empty()) {
      if (x.mask != Mask::ZNegative) as[f] = {static_cast<int>(f), 1.0f};
      continue;
    }
    std::vector<std::pair<int, float>> kept;
    for (const auto& [g, k] : x.combine)
      if (as[static_cast<std::size_t>(g)].first >= 0) kept.emplace_back(g, k);
    x.combine = kept;
    if (kept.size() == 1) {
      const auto& base = as[static_cast<std::size_t>(kept[0].first)];
      as[f] = {base.first, base.second * kept[0].second};
    } else if (!kept.empty()) {
      as[f] = {static_cast<int>(f), 1.0f};
    }
  }
  std::vector<Term> terms;
  for (Term t : c.terms) {
    if (t.factor >= 0) {
      const auto [g, k] = as[static_cast<std::size_t>(t.factor)];
      if (g < 0) continue;
      t.factor = g;
      t.coeff *= k;
    }
    bool merged = false;
    for (Term& u : terms)
      if (u.factor == t.factor && u.mult == t.mult && merge_weights(u, t)) {
        merged = true;
        break;
      }
    if (!merged) terms.push_back(t);
  }
  std::vector<char> used(nf, 0);
  for (const Term& t : terms)
    if (t.factor >= 0) used[static_cast<std::size_t>(t.factor)] = 1;
  for (std::size_t f = nf; f-- > 0;)
    if (used[f])
      for (const auto& [g, k] : c.factors[f].combine) used[static_cast<std::size_t>(g)] = 1;
  std::vector<int> map(nf, -1);
  std::vector<Factor> factors;
  for (std::size_t f = 0; f < nf; ++f) {
    if (!used[f]) continue;
    map[f] = static_cast<int>(factors.size());
    Factor x = c.factors[f];
    for (auto& gk : x.combine) gk.first = map[static_cast<std::size_t>(gk.first)];
    factors.push_back(std::move(x));
  }
  for (Term& t : terms)
    if (t.factor >= 0) t.factor = map[static_cast<std::size_t>(t.factor)];
  // and products no factor reads are not computed
  std::vector<int> pmap(c.products.size(), -1);
  for (const Factor& x : factors)
    for (const Summand& d : x.denominator)
      if (d.source == Summand::Source::Product) pmap[static_cast<std::size_t>(d.product)] = 0;
  std::vector<Product> products;
  for (std::size_t q = 0; q < c.products.size(); ++q)
    if (pmap[q] == 0) {
      pmap[q] = static_cast<int>(products.size());
      products.push_back(c.products[q]);
    }
  for (Factor& x : factors)
    for (Summand& d : x.denominator)
      if (d.source == Summand::Source::Product) d.product = pmap[static_cast<std::size_t>(d.product)];
  c.products = std::move(products);
  c.factors = std::move(factors);
  c.terms = std::move(terms);
  c.form += ", no relevance where z <= 0";
}

}  // namespace

Recipe rule_recipe(const Rule& r, bool nonnegative_input, bool general, bool zero_below) {
  Recipe c = rule_def(r.kind).recipe(r, nonnegative_input, general);
  if (nonnegative_input && !general) simplify_nonnegative(c);
  if (zero_below && !general) simplify_zero_below(c);
  return c;
}

bool multiplies_by_input(const Recipe& c) {
  if (c.terms.empty()) return false;
  for (const Term& t : c.terms)
    if (t.mult != Input::A && t.mult != Input::APos && t.mult != Input::ANeg) return false;
  return true;
}

Recipe gradient_recipe() {
  Recipe c;
  c.form = "gradient";
  c.terms.push_back({WeightMod::Identity, 0, -1, Input::Ones, 1});
  return c;
}

std::string describe(const Recipe& c) {
  std::ostringstream s;
  s << "form: " << c.form << "\n";
  for (std::size_t p = 0; p < c.products.size(); ++p) {
    const Product& q = c.products[p];
    s << "product " << p << ": " << weight_mod_name(q.weight);
    if (q.gamma != 0.0f) s << "(" << q.gamma << ")";
    s << " x " << input_name(q.input) << (q.bias ? " + bias" : "") << "\n";
  }
  for (std::size_t f = 0; f < c.factors.size(); ++f) {
    const Factor& x = c.factors[f];
    s << "factor " << f << ": ";
    if (x.denominator.empty()) {
      for (std::size_t k = 0; k < x.combine.size(); ++k) s << (k ? " + " : "") << x.combine[k].second << " F" << x.combine[k].first;
    } else {
      s << (x.mask == Mask::ZPositive ? "[z>0] " : x.mask == Mask::ZNegative ? "[z<0] " : "") << "1 / stab(";
      for (std::size_t k = 0; k < x.denominator.size(); ++k) {
        const Summand& d = x.denominator[k];
        static const char* names[] = {"z", "b", "b+", "b-", "P"};
        s << (k ? " + " : "") << d.coeff << " " << names[static_cast<int>(d.source)];
        if (d.source == Summand::Source::Product) s << d.product;
      }
      s << "; eps " << x.eps;
      if (x.eps_rms != 0.0f) s << " + " << x.eps_rms << " rms";
      s << ")";
    }
    s << "\n";
  }
  for (const Term& t : c.terms) {
    s << "term: " << t.coeff << " " << input_name(t.mult) << " * " << weight_mod_name(t.weight);
    if (t.gamma != 0.0f) s << "(" << t.gamma << ")";
    s << "^T (" << (t.factor < 0 ? std::string("R") : "F" + std::to_string(t.factor) + " R") << ")\n";
  }
  return s.str();
}

}  // namespace lrp
