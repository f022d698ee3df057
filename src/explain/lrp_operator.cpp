// LrpOperator, building a layer's plan: its recipe's forward products in row slices, then the factors.
#include "explain/lrp_operator.h"

#include <algorithm>
#include <cmath>

#include "engine/conv.h"
#include "engine/error.h"
#include "engine/job.h"
#include "engine/linear.h"
#include "engine/pool.h"
#include "engine/thread_pool.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

namespace {

// f = 1 / (d + eps * sign(d)) with sign(0) = +1; with eps == 0, 0/0 := 0 (f = 0 where d == 0).
void inverse_stabilised(Tensor& z, float eps) {
  float* d = z.data();
  const std::size_t n = z.size();
  if (eps == 0.0f) {
    for (std::size_t i = 0; i < n; ++i) d[i] = d[i] == 0.0f ? 0.0f : 1.0f / d[i];
    return;
  }
  for (std::size_t i = 0; i < n; ++i) d[i] = 1.0f / (d[i] + (d[i] >= 0.0f ? eps : -eps));
}

float rms(const Tensor& z) {
  double s = 0;
  for (std::size_t i = 0; i < z.size(); ++i) s += static_cast<double>(z[i]) * z[i];
  return static_cast<float>(std::sqrt(s / std::max<std::size_t>(1, z.size())));
}

bool has_negative(const Tensor& a) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] < 0.0f) return true;
  return false;
}

// A per-channel constant spread over a (C, ...) shape.
Tensor per_channel(const std::vector<int>& shape, const std::vector<float>& v) {
  Tensor t(shape);
  const std::size_t per = t.size() / v.size();
  for (std::size_t c = 0; c < v.size(); ++c) std::fill(t.data() + c * per, t.data() + (c + 1) * per, v[c]);
  return t;
}

}  // namespace

LrpOperator::LrpOperator(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache,
                         Composite composite, ThreadPool* pool)
    : fwd_(std::move(fwd)), cache_(std::move(cache)), composite_(std::move(composite)),
      pool_(pool ? pool : &default_pool()) {
  require(fwd_->done(), "the forward pass has not finished");
  const Network& net = fwd_->network();
  require(&cache_->network() == &net, "weight cache belongs to another network");
  composite_.validate(net);
  plans_.resize(static_cast<std::size_t>(net.size()));
  // Inputs that follow a ReLU (through pooling and flattening) are non-negative by construction; the others (the
  // image) are checked once.
  nonneg_.assign(static_cast<std::size_t>(net.size()), 0);
  bool after_relu = false;
  for (int i = 0; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    nonneg_[static_cast<std::size_t>(i)] = after_relu || (l.has_weights() && !has_negative(fwd_->layer_input(i)));
    if (l.kind == LayerKind::ReLU) after_relu = true;
    else if (l.has_weights()) after_relu = false;
  }
  compile_recipes(false);
}

const Network& LrpOperator::network() const { return fwd_->network(); }

void LrpOperator::compile_recipes(bool general) {
  const Network& net = network();
  recipes_.assign(static_cast<std::size_t>(net.size()), Recipe());
  zero_below_.assign(static_cast<std::size_t>(net.size()), 0);
  for (int i = 0; i < net.size(); ++i)
    if (net.layer(i).has_weights())
      recipes_[static_cast<std::size_t>(i)] = rule_recipe(composite_.rule(i), nonneg_[static_cast<std::size_t>(i)] != 0, general);
  if (general) return;
  // (decided on the recipes above: a layer's simplification does not change what its terms multiply by)
  std::vector<char> zb(static_cast<std::size_t>(net.size()), 0);
  for (int i = 0; i < net.size(); ++i) zb[static_cast<std::size_t>(i)] = net.layer(i).has_weights() && relevance_zero_below(i);
  for (int i = 0; i < net.size(); ++i)
    if (zb[static_cast<std::size_t>(i)]) {
      zero_below_[static_cast<std::size_t>(i)] = 1;
      recipes_[static_cast<std::size_t>(i)] = rule_recipe(composite_.rule(i), nonneg_[static_cast<std::size_t>(i)] != 0, false, true);
    }
}

bool LrpOperator::relevance_zero_below(int layer) const {
  const Network& net = network();
  if (layer + 1 >= net.size() || net.layer(layer + 1).kind != LayerKind::ReLU) return false;
  const RuleKind relu = composite_.rule(layer + 1).kind;
  if (relu == RuleKind::Gradient || relu == RuleKind::GuidedBackprop) return true;  // they mask by z > 0 themselves
  if (relu != RuleKind::Pass) return false;
  // the ReLU passes what comes from above: through pools that route relevance only to inputs that are not zero (the
  // max-pool's winner or a share in proportion) up to a weighted layer whose terms multiply by its input
  for (int k = layer + 2; k < net.size(); ++k) {
    const Layer& l = net.layer(k);
    if (l.has_weights()) return multiplies_by_input(recipes_[static_cast<std::size_t>(k)]);
    const RuleKind r = composite_.rule(k).kind;
    const bool passes = l.kind == LayerKind::Flatten ||
                        (l.kind == LayerKind::MaxPool && (r == RuleKind::Gradient || r == RuleKind::Proportional)) ||
                        (l.kind == LayerKind::AvgPool && (r == RuleKind::Proportional || l.in_shape == l.out_shape));
    if (!passes) return false;
  }
  return false;
}

void LrpOperator::use_general_recipes(bool on) {
  for (const Plan& p : plans_) require(!p.prepared, "use_general_recipes: the operator has started building");
  compile_recipes(on);
}

const Recipe& LrpOperator::recipe(int layer) const {
  require(network().layer(layer).has_weights(), "layer " + network().layer(layer).name + " has no weights");
  return recipes_.at(static_cast<std::size_t>(layer));
}

void LrpOperator::build_all() {
  for (int i = 0; i < network().size(); ++i) build(i);
}

void LrpOperator::build(int layer) {
  while (!build_step(layer, kWholeJob)) {
  }
}

bool LrpOperator::build_step(int layer, double max_macs) {
  Plan& p = plans_.at(static_cast<std::size_t>(layer));
  if (p.built) return true;
  const Layer& l = network().layer(layer);
  if (!p.prepared) {
    p = Plan();
    p.prepared = true;
    switch (l.kind) {
      case LayerKind::Conv:
      case LayerKind::Linear: prepare_weighted(layer, p); break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool: build_pool(layer, p); break;
      case LayerKind::ReLU: build_relu(layer, p); break;
      case LayerKind::Flatten: break;
    }
    if (!p.jobs.empty()) return false;
    if (l.has_weights()) finish_weighted(layer, p);
    p.built = true;
    return true;
  }
  // forward products, a slice at a time
  const int rows = l.kind == LayerKind::Conv ? l.conv.oh() : l.out_shape[0];
  for (std::size_t k = 0; k < p.jobs.size(); ++k) {
    ProductJob& j = p.jobs[k];
    if (j.rows_done >= rows) continue;
    const Product& q = p.recipe.products[k];
    const Tensor& x = input(layer, p, q.input);
    const double per_row = static_cast<double>(l.macs) / rows;
    // (clamped in double first: max_macs may be kWholeJob, infinite, which does not fit an int)
    const int n = std::max(1, static_cast<int>(std::min<double>(rows - j.rows_done, max_macs / std::max(1.0, per_row))));
    const int r0 = j.rows_done, r1 = r0 + n;
    if (l.kind == LayerKind::Conv) {
      conv2d(cache_->conv_forward(layer, q.weight, q.gamma), x.data(), Epilogue{j.bias.data(), false}, j.out.data(), r0, r1,
             pool_);
    } else {
      linear_mod(l.fc().sub_rows(r0, r1 - r0), q.weight, q.gamma, x.data(), 1, j.out.data() + r0, pool_);
      for (int o = r0; o < r1; ++o) j.out[static_cast<std::size_t>(o)] += j.bias[static_cast<std::size_t>(o)];
    }
    j.rows_done = r1;
    return false;  // one slice per step
  }
  finish_weighted(layer, p);
  p.built = true;
  if (l.kind == LayerKind::Conv) cache_->release_forward(layer);
  return true;
}

const Tensor& LrpOperator::input(int layer, Plan& p, Input which) {
  const Tensor& a = fwd_->layer_input(layer);
  if (which == Input::A) return a;
  if (p.inputs.empty()) p.inputs.resize(kInputs);
  Tensor& t = p.inputs[static_cast<std::size_t>(which)];
  if (!t.empty()) return t;
  const Layer& l = network().layer(layer);
  const Rule& r = composite_.rule(layer);
  switch (which) {
    case Input::A: break;
    case Input::APos:
    case Input::ANeg: {
      t = Tensor(a.shape());
      const bool pos = which == Input::APos;
      for (std::size_t i = 0; i < a.size(); ++i) t[i] = pos ? std::max(a[i], 0.0f) : std::min(a[i], 0.0f);
      break;
    }
    case Input::Ones: t = Tensor(l.in_shape, 1.0f); break;
    case Input::Low:
    case Input::High: {
      // zB bounds: the rule's, or the images of pixel values 0 and 255 under the model's preprocessing
      const int c = l.in_shape[0];
      const ModelConfig& cfg = network().config();
      std::vector<float> b = which == Input::Low ? r.low : r.high;
      if (b.empty())
        for (int ch = 0; ch < c; ++ch) b.push_back(cfg.normalise(ch, which == Input::Low ? 0.0f : 255.0f * cfg.scale));
      require(static_cast<int>(b.size()) == c, "zbox bounds need one value per input channel of " + l.name);
      t = per_channel(l.in_shape, b);
      break;
    }
    case Input::SignMu: {
      t = Tensor(a.shape());
      for (std::size_t i = 0; i < a.size(); ++i) t[i] = a[i] >= r.mu ? 1.0f : -1.0f;
      break;
    }
  }
  return t;
}

const float* LrpOperator::multiplier(int layer, const Plan& p, Input which) const {
  if (which == Input::Ones) return nullptr;
  if (which == Input::A) return fwd_->layer_input(layer).data();
  return p.inputs.at(static_cast<std::size_t>(which)).data();
}

void LrpOperator::prepare_weighted(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  p.recipe = recipe(layer);
  for (const Product& q : p.recipe.products) {
    ProductJob j;
    j.bias = cache_->bias(layer, q.weight, q.gamma, q.bias);
    j.out = Tensor(l.out_shape);
    p.jobs.push_back(std::move(j));
  }
}

void LrpOperator::finish_weighted(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  const Tensor& z = fwd_->output(layer);
  const Recipe& c = p.recipe;
  const int ch = l.out_shape[0];
  const std::size_t per = z.size() / static_cast<std::size_t>(ch);
  p.F.assign(c.factors.size(), Tensor());
  for (std::size_t f = 0; f < c.factors.size(); ++f) {
    const Factor& x = c.factors[f];
    Tensor d(l.out_shape, 0.0f);
    if (x.denominator.empty()) {
      for (auto [g, coeff] : x.combine) {
        const Tensor& o = p.F.at(static_cast<std::size_t>(g));
        for (std::size_t i = 0; i < d.size(); ++i) d[i] += coeff * o[i];
      }
      p.F[f] = std::move(d);
      continue;
    }
    for (const Summand& s : x.denominator) {
      if (s.coeff == 0.0f) continue;
      switch (s.source) {
        case Summand::Source::Z:
          for (std::size_t i = 0; i < d.size(); ++i) d[i] += s.coeff * z[i];
          break;
        case Summand::Source::Product: {
          const Tensor& o = p.jobs.at(static_cast<std::size_t>(s.product)).out;
          for (std::size_t i = 0; i < d.size(); ++i) d[i] += s.coeff * o[i];
          break;
        }
        case Summand::Source::Bias:
        case Summand::Source::BiasPos:
        case Summand::Source::BiasNeg:
          for (int k = 0; k < ch; ++k) {
            const float b = l.bias[static_cast<std::size_t>(k)];
            const float v = s.source == Summand::Source::Bias ? b
                            : s.source == Summand::Source::BiasPos ? std::max(b, 0.0f)
                                                                   : std::min(b, 0.0f);
            for (std::size_t i = k * per; i < (k + 1) * per; ++i) d[i] += s.coeff * v;
          }
          break;
      }
    }
    inverse_stabilised(d, x.eps + (x.eps_rms != 0.0f ? x.eps_rms * rms(d) : 0.0f));
    if (x.mask != Mask::None) {
      const bool pos = x.mask == Mask::ZPositive;
      for (std::size_t i = 0; i < d.size(); ++i)
        if (!(pos ? z[i] > 0.0f : z[i] < 0.0f)) d[i] = 0.0f;
    }
    p.F[f] = std::move(d);
  }
  p.jobs.clear();
  // keep only what the terms read
  std::vector<char> used_f(p.F.size(), 0), used_in(kInputs, 0);
  for (const Term& t : c.terms) {
    if (t.factor >= 0) used_f[static_cast<std::size_t>(t.factor)] = 1;
    used_in[static_cast<std::size_t>(t.mult)] = 1;
  }
  for (std::size_t f = 0; f < p.F.size(); ++f)
    if (!used_f[f]) p.F[f] = Tensor();
  for (int k = 0; k < kInputs; ++k) {
    const Input which = static_cast<Input>(k);
    if (!used_in[static_cast<std::size_t>(k)] || which == Input::A || which == Input::Ones) {
      if (!p.inputs.empty()) p.inputs[static_cast<std::size_t>(k)] = Tensor();
    } else {
      input(layer, p, which);
    }
  }
}

void LrpOperator::build_relu(int layer, Plan& p) {
  const RuleKind k = composite_.rule(layer).kind;
  if (k == RuleKind::Gradient || k == RuleKind::GuidedBackprop) {
    // the forward ReLU mask
    const Tensor& out = fwd_->output(layer);
    Tensor mask(out.shape());
    for (std::size_t i = 0; i < out.size(); ++i) mask[i] = out[i] > 0.0f ? 1.0f : 0.0f;
    p.F.push_back(std::move(mask));
  } else if (k == RuleKind::BetaSmooth) {
    // the gradient of softplus_beta at the ReLU's input: sigmoid(beta x)
    const Tensor& x = fwd_->layer_input(layer);
    const float beta = composite_.rule(layer).beta_smooth;
    Tensor g(x.shape());
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = 1.0f / (1.0f + std::exp(-beta * x[i]));
    p.F.push_back(std::move(g));
  }
}

void LrpOperator::build_pool(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  const Tensor& a = fwd_->layer_input(layer);
  // the gradient: a max-pool routes through its switches, the adaptive average pool is its own transpose
  if (composite_.rule(layer).kind != RuleKind::Proportional) return;
  Tensor z(l.out_shape);
  if (l.kind == LayerKind::MaxPool) {
    // the same window, averaged
    const PoolShape& s = l.pool;
    const int oh = s.oh(), ow = s.ow();
    for (int c = 0; c < s.c; ++c)
      for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
          float sum = 0;
          for (int ky = 0; ky < s.k; ++ky)
            for (int kx = 0; kx < s.k; ++kx) sum += a[(static_cast<std::size_t>(c) * s.h + y * s.stride + ky) * s.w + x * s.stride + kx];
          z[(static_cast<std::size_t>(c) * oh + y) * ow + x] = sum / static_cast<float>(s.k * s.k);
        }
  } else {
    adaptive_avgpool2d(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out, a.data(), z.data());
  }
  inverse_stabilised(z, 1e-6f);  // zennit's Norm rule
  p.F.push_back(std::move(z));
}

long long LrpOperator::build_macs(int layer) const {
  const Layer& l = network().layer(layer);
  if (!l.has_weights()) return 0;
  return recipe_build_macs(recipe(layer), l.macs);
}

long long LrpOperator::apply_macs(int layer) const {
  const Layer& l = network().layer(layer);
  if (!l.has_weights()) return 0;
  return recipe_apply_macs(recipe(layer), l.macs);
}

}  // namespace lrp
