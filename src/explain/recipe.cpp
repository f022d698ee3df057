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

}  // namespace

Recipe rule_recipe(const Rule& r, bool nonnegative_input, bool general) {
  Recipe c = rule_def(r.kind).recipe(r, nonnegative_input, general);
  if (nonnegative_input && !general) simplify_nonnegative(c);
  return c;
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
