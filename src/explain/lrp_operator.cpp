#include "explain/lrp_operator.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/pool.h"
#include "engine/thread_pool.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

const char* method_name(Method m) {
  switch (m) {
    case Method::LRP: return "lrp";
    case Method::Gradient: return "gradient";
    case Method::GradientXInput: return "gradient-x-input";
    case Method::GuidedBackprop: return "guided-backprop";
    case Method::Deconvnet: return "deconvnet";
  }
  return "?";
}

Method parse_method(const std::string& s) {
  if (s == "lrp") return Method::LRP;
  if (s == "gradient") return Method::Gradient;
  if (s == "gradient-x-input" || s == "gxi") return Method::GradientXInput;
  if (s == "guided-backprop" || s == "guided") return Method::GuidedBackprop;
  if (s == "deconvnet") return Method::Deconvnet;
  throw Error("unknown method '" + s + "' (lrp, gradient, gradient-x-input, guided-backprop, deconvnet)");
}

namespace {

// f = 1 / (z + eps * sign(z)) with sign(0) = +1; with eps == 0, 0/0 := 0 (f = 0 where z == 0).
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

Tensor positive_part(const Tensor& a) {
  Tensor t(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) t[i] = a[i] > 0.0f ? a[i] : 0.0f;
  return t;
}

Tensor negative_part(const Tensor& a) {
  Tensor t(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) t[i] = a[i] < 0.0f ? a[i] : 0.0f;
  return t;
}

bool has_negative(const Tensor& a) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] < 0.0f) return true;
  return false;
}

Tensor add(const Tensor& a, const Tensor& b, float sb = 1.0f) {
  Tensor t(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) t[i] = a[i] + sb * b[i];
  return t;
}

}  // namespace

LrpOperator::LrpOperator(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache,
                         Composite composite, Method method, ThreadPool* pool)
    : fwd_(std::move(fwd)), cache_(std::move(cache)), composite_(std::move(composite)), method_(method),
      pool_(pool ? pool : &default_pool()) {
  require(fwd_->done(), "the forward pass has not finished");
  const Network& net = fwd_->network();
  require(&cache_->network() == &net, "weight cache belongs to another network");
  if (method_ == Method::LRP) composite_.validate(net);
  plans_.resize(static_cast<std::size_t>(net.size()));
}

const Network& LrpOperator::network() const { return fwd_->network(); }

void LrpOperator::build_all() {
  for (int i = 0; i < network().size(); ++i) build(i);
}

void LrpOperator::build(int layer) {
  Plan& p = plans_.at(static_cast<std::size_t>(layer));
  if (p.built) return;
  const Layer& l = network().layer(layer);
  p.F.clear();
  p.M.clear();
  p.terms.clear();
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::Linear: build_weighted(layer, p); break;
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: build_pool(layer, p); break;
    case LayerKind::ReLU:
      if (method_ == Method::Gradient || method_ == Method::GradientXInput || method_ == Method::GuidedBackprop) {
        // the forward ReLU mask
        const Tensor& out = fwd_->output(layer);
        Tensor mask(out.shape());
        for (std::size_t i = 0; i < out.size(); ++i) mask[i] = out[i] > 0.0f ? 1.0f : 0.0f;
        p.F.push_back(std::move(mask));
      }
      break;
    case LayerKind::Flatten: break;
  }
  p.built = true;
}

void LrpOperator::build_weighted(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  const Tensor& a = fwd_->layer_input(layer);
  const Tensor& zs = fwd_->output(layer);  // pre-activation with bias
  if (method_ != Method::LRP) {
    p.terms.push_back({WeightMod::Identity, 0.0f, -1, -1, 1.0f});
    return;
  }
  const Rule& r = composite_.rule(layer);
  WeightCache& wc = *cache_;
  const float stab = r.epsilon;
  auto fwd = [&](const Tensor& x, WeightMod mod, float gamma, bool with_bias) {
    Tensor y(l.out_shape);
    std::vector<float> b = wc.bias(layer, mod, gamma, with_bias);
    forward_mod(wc, layer, mod, gamma, x.data(), b.data(), y.data(), pool_);
    return y;
  };
  auto z_plain = [&]() {
    Tensor z = zs;
    if (!r.bias) {
      const int c = l.out_shape[0];
      const std::size_t per = z.size() / static_cast<std::size_t>(c);
      for (int ch = 0; ch < c; ++ch)
        for (std::size_t i = 0; i < per; ++i) z[ch * per + i] -= l.bias[static_cast<std::size_t>(ch)];
    }
    return z;
  };
  const bool neg = has_negative(a);
  switch (r.kind) {
    case RuleKind::Zero:
    case RuleKind::Epsilon: {
      Tensor z = z_plain();
      float eps = r.kind == RuleKind::Zero ? 0.0f : r.epsilon + r.epsilon_rms * rms(z);
      inverse_stabilised(z, eps);
      p.F.push_back(std::move(z));
      p.M.push_back(a);
      p.terms.push_back({WeightMod::Identity, 0.0f, 0, 0, 1.0f});
      break;
    }
    case RuleKind::Gamma: {
      const float g = r.gamma;
      if (r.gamma_classic) {
        Tensor z = fwd(a, WeightMod::GammaPositive, g, r.bias);
        inverse_stabilised(z, stab);
        p.F.push_back(std::move(z));
        p.M.push_back(a);
        p.terms.push_back({WeightMod::GammaPositive, g, 0, 0, 1.0f});
        break;
      }
      // zennit's generalised gamma: positive outputs (z > 0) are explained by the contributions that push up,
      // negative outputs by those that push down.
      const Tensor ap = positive_part(a);
      Tensor out0 = fwd(ap, WeightMod::GammaPositive, g, r.bias);
      Tensor out2 = fwd(ap, WeightMod::GammaNegative, g, r.bias);
      Tensor an;
      if (neg) {
        an = negative_part(a);
        out0 = add(out0, fwd(an, WeightMod::GammaNegative, g, false));
        out2 = add(out2, fwd(an, WeightMod::GammaPositive, g, false));
      }
      inverse_stabilised(out0, stab);
      inverse_stabilised(out2, stab);
      for (std::size_t i = 0; i < zs.size(); ++i) {
        if (!(zs[i] > 0.0f)) out0[i] = 0.0f;
        if (!(zs[i] < 0.0f)) out2[i] = 0.0f;
      }
      p.F.push_back(std::move(out0));
      p.F.push_back(std::move(out2));
      p.M.push_back(ap);
      p.terms.push_back({WeightMod::GammaPositive, g, 0, 0, 1.0f});
      p.terms.push_back({WeightMod::GammaNegative, g, 1, 0, 1.0f});
      if (neg) {
        p.M.push_back(std::move(an));
        p.terms.push_back({WeightMod::GammaNegative, g, 0, 1, 1.0f});
        p.terms.push_back({WeightMod::GammaPositive, g, 1, 1, 1.0f});
      }
      break;
    }
    case RuleKind::AlphaBeta:
    case RuleKind::ZPlus: {
      const bool ab = r.kind == RuleKind::AlphaBeta;
      const float alpha = ab ? r.alpha : 1.0f, beta = ab ? r.beta : 0.0f;
      const Tensor ap = positive_part(a);
      Tensor an;
      if (neg) an = negative_part(a);
      Tensor outp = fwd(ap, WeightMod::Positive, 0, r.bias);
      if (neg) outp = add(outp, fwd(an, WeightMod::Negative, 0, false));
      inverse_stabilised(outp, stab);
      p.F.push_back(std::move(outp));
      p.M.push_back(ap);
      if (neg) p.M.push_back(an);
      p.terms.push_back({WeightMod::Positive, 0, 0, 0, alpha});
      if (neg) p.terms.push_back({WeightMod::Negative, 0, 0, 1, alpha});
      if (beta != 0.0f) {
        Tensor outn = fwd(ap, WeightMod::Negative, 0, r.bias);
        if (neg) outn = add(outn, fwd(an, WeightMod::Positive, 0, false));
        inverse_stabilised(outn, stab);
        p.F.push_back(std::move(outn));
        p.terms.push_back({WeightMod::Negative, 0, 1, 0, -beta});
        if (neg) p.terms.push_back({WeightMod::Positive, 0, 1, 1, -beta});
      }
      break;
    }
    case RuleKind::ZBox: {
      const int c = l.in_shape[0];
      const ModelConfig& cfg = network().config();
      std::vector<float> lo = r.low, hi = r.high;
      if (lo.empty()) {
        for (int ch = 0; ch < c; ++ch) {
          lo.push_back(cfg.normalise(ch, 0.0f));
          hi.push_back(cfg.normalise(ch, 255.0f * cfg.scale));
        }
      }
      require(static_cast<int>(lo.size()) == c, "zbox bounds need one value per input channel of " + l.name);
      Tensor L(l.in_shape), H(l.in_shape);
      const std::size_t per = L.size() / static_cast<std::size_t>(c);
      for (int ch = 0; ch < c; ++ch)
        for (std::size_t i = 0; i < per; ++i) {
          L[ch * per + i] = lo[static_cast<std::size_t>(ch)];
          H[ch * per + i] = hi[static_cast<std::size_t>(ch)];
        }
      Tensor z = z_plain();
      Tensor o1 = fwd(L, WeightMod::Positive, 0, r.bias);
      Tensor o2 = fwd(H, WeightMod::Negative, 0, r.bias);
      for (std::size_t i = 0; i < z.size(); ++i) z[i] = z[i] - o1[i] - o2[i];
      inverse_stabilised(z, stab);
      p.F.push_back(std::move(z));
      p.M.push_back(a);
      p.M.push_back(std::move(L));
      p.M.push_back(std::move(H));
      p.terms.push_back({WeightMod::Identity, 0, 0, 0, 1.0f});
      p.terms.push_back({WeightMod::Positive, 0, 0, 1, -1.0f});
      p.terms.push_back({WeightMod::Negative, 0, 0, 2, -1.0f});
      break;
    }
    case RuleKind::Flat:
    case RuleKind::WSquare: {
      const WeightMod mod = r.kind == RuleKind::Flat ? WeightMod::Ones : WeightMod::Square;
      Tensor ones(l.in_shape, 1.0f);
      Tensor z = fwd(ones, mod, 0, r.bias);
      inverse_stabilised(z, stab);
      p.F.push_back(std::move(z));
      p.terms.push_back({mod, 0, 0, -1, 1.0f});
      break;
    }
  }
}

void LrpOperator::build_pool(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  const Tensor& a = fwd_->layer_input(layer);
  const bool proportional =
      method_ == Method::LRP && (l.kind == LayerKind::AvgPool || composite_.pool == PoolMode::Proportional);
  if (!proportional) return;  // max-pool: route through the switches; adaptive avg-pool: its transpose
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
  p.M.push_back(a);
}

void LrpOperator::apply(int layer, const Tensor& r_out, int batch, Tensor& r_in) {
  build(layer);
  const Layer& l = network().layer(layer);
  const Plan& p = plans_[static_cast<std::size_t>(layer)];
  const std::size_t out_n = Tensor::count(l.out_shape), in_n = Tensor::count(l.in_shape);
  require(r_out.size() == out_n * static_cast<std::size_t>(batch), "relevance batch does not match layer " + l.name);
  std::vector<int> in_shape = l.in_shape;
  in_shape.insert(in_shape.begin(), batch);
  if (r_in.shape() != in_shape) r_in = Tensor(in_shape);
  switch (l.kind) {
    case LayerKind::Flatten: std::copy(r_out.data(), r_out.data() + r_out.size(), r_in.data()); return;
    case LayerKind::ReLU: {
      const float* ro = r_out.data();
      float* ri = r_in.data();
      if (method_ == Method::LRP) {
        std::copy(ro, ro + r_out.size(), ri);
      } else if (method_ == Method::Deconvnet) {
        for (std::size_t i = 0; i < r_out.size(); ++i) ri[i] = std::max(ro[i], 0.0f);
      } else {
        const Tensor& mask = p.F[0];
        const bool guided = method_ == Method::GuidedBackprop;
        for (int b = 0; b < batch; ++b)
          for (std::size_t i = 0; i < out_n; ++i) {
            const float g = ro[b * out_n + i] * mask[i];
            ri[b * out_n + i] = guided ? std::max(g, 0.0f) : g;
          }
      }
      return;
    }
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      if (p.F.empty()) {  // gradient routes
        for (int b = 0; b < batch; ++b) {
          if (l.kind == LayerKind::MaxPool)
            maxunpool2d(l.pool, r_out.data() + b * out_n, fwd_->switches(layer).data(), r_in.data() + b * in_n);
          else
            adaptive_avgpool2d_transposed(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out,
                                          r_out.data() + b * out_n, r_in.data() + b * in_n);
        }
        return;
      }
      Tensor s(l.out_shape);
      for (int b = 0; b < batch; ++b) {
        for (std::size_t i = 0; i < out_n; ++i) s[i] = r_out[b * out_n + i] * p.F[0][i];
        float* ri = r_in.data() + b * in_n;
        if (l.kind == LayerKind::MaxPool) {
          const PoolShape& ps = l.pool;
          std::fill(ri, ri + in_n, 0.0f);
          const int oh = ps.oh(), ow = ps.ow();
          const float share = 1.0f / static_cast<float>(ps.k * ps.k);
          for (int c = 0; c < ps.c; ++c)
            for (int y = 0; y < oh; ++y)
              for (int x = 0; x < ow; ++x) {
                const float v = s[(static_cast<std::size_t>(c) * oh + y) * ow + x] * share;
                for (int ky = 0; ky < ps.k; ++ky)
                  for (int kx = 0; kx < ps.k; ++kx)
                    ri[(static_cast<std::size_t>(c) * ps.h + y * ps.stride + ky) * ps.w + x * ps.stride + kx] += v;
              }
        } else {
          adaptive_avgpool2d_transposed(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out, s.data(), ri);
        }
        const Tensor& a = p.M[0];
        for (std::size_t i = 0; i < in_n; ++i) ri[i] *= a[i];
      }
      return;
    }
    case LayerKind::Conv:
    case LayerKind::Linear: break;
  }
  r_in.fill(0.0f);
  Tensor s({batch, static_cast<int>(out_n)}), c({batch, static_cast<int>(in_n)});
  for (const Term& t : p.terms) {
    for (int b = 0; b < batch; ++b) {
      const float* ro = r_out.data() + b * out_n;
      float* sb = s.data() + b * out_n;
      if (t.f < 0) {
        std::copy(ro, ro + out_n, sb);
      } else {
        const float* f = p.F[static_cast<std::size_t>(t.f)].data();
        for (std::size_t i = 0; i < out_n; ++i) sb[i] = ro[i] * f[i];
      }
    }
    transpose_mod(*cache_, layer, t.mod, t.gamma, s.data(), batch, c.data(), pool_);
    const bool times_input = method_ == Method::LRP;
    for (int b = 0; b < batch; ++b) {
      float* ri = r_in.data() + b * in_n;
      const float* cb = c.data() + b * in_n;
      if (!times_input || t.m < 0) {
        for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * cb[i];
      } else {
        const float* m = p.M[static_cast<std::size_t>(t.m)].data();
        for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * m[i] * cb[i];
      }
    }
  }
}

long long LrpOperator::build_macs(int layer) const {
  const Layer& l = network().layer(layer);
  if (!l.has_weights() || method_ != Method::LRP) return 0;
  switch (composite_.rule(layer).kind) {
    case RuleKind::Zero:
    case RuleKind::Epsilon: return 0;
    case RuleKind::Gamma: return composite_.rule(layer).gamma_classic ? l.macs : 2 * l.macs;
    case RuleKind::AlphaBeta: return 2 * l.macs;
    default: return l.macs;
  }
}

long long LrpOperator::apply_macs(int layer) const {
  const Layer& l = network().layer(layer);
  if (!l.has_weights()) return 0;
  if (method_ != Method::LRP) return l.macs;
  switch (composite_.rule(layer).kind) {
    case RuleKind::Gamma: return composite_.rule(layer).gamma_classic ? l.macs : 2 * l.macs;
    case RuleKind::AlphaBeta: return 2 * l.macs;
    case RuleKind::ZBox: return 3 * l.macs;
    default: return l.macs;
  }
}

}  // namespace lrp
