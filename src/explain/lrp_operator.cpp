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

// For inputs without negative values, the positive and negative contributions to each output from P = W+ a:
//   pos = P + b+,  neg = W a - P + b-   (zb: W a, plus b when use_bias; biases only when use_bias)
void split_contributions(const Layer& l, const Tensor& zb, const Tensor& P, bool use_bias, Tensor& pos, Tensor& neg) {
  pos = Tensor(zb.shape());
  neg = Tensor(zb.shape());
  const int c = l.out_shape[0];
  const std::size_t per = zb.size() / static_cast<std::size_t>(c);
  for (int ch = 0; ch < c; ++ch) {
    const float b = l.bias[static_cast<std::size_t>(ch)];
    const float bp = use_bias ? std::max(b, 0.0f) : 0.0f, bn = use_bias ? std::min(b, 0.0f) : 0.0f;
    const float bw = use_bias ? b : 0.0f;  // zb - bw = W a
    for (std::size_t i = ch * per; i < (ch + 1) * per; ++i) {
      pos[i] = P[i] + bp;
      neg[i] = (zb[i] - bw) - P[i] + bn;
    }
  }
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
  while (!build_step(layer, kWholeJob)) {
  }
}

bool LrpOperator::build_step(int layer, double max_macs) {
  Plan& p = plans_.at(static_cast<std::size_t>(layer));
  if (p.built) return true;
  const Layer& l = network().layer(layer);
  if (!p.prepared) {
    p.F.clear();
    p.M.clear();
    p.terms.clear();
    p.jobs.clear();
    p.finalize = nullptr;
    p.prepared = true;
    switch (l.kind) {
      case LayerKind::Conv:
      case LayerKind::Linear: prepare_weighted(layer, p); break;
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
    return finish_if_ready(p);
  }
  // forward products, a slice at a time
  for (FwdJob& j : p.jobs) {
    const int rows = l.kind == LayerKind::Conv ? l.conv.oh() : l.out_shape[0];
    if (j.rows_done >= rows) continue;
    const double per_row = static_cast<double>(l.macs) / rows;
    // (clamped in double first: max_macs may be kWholeJob, infinite, which does not fit an int)
    const int n = std::max(1, static_cast<int>(std::min<double>(rows - j.rows_done, max_macs / std::max(1.0, per_row))));
    const int r0 = j.rows_done, r1 = r0 + n;
    if (l.kind == LayerKind::Conv) {
      conv2d(cache_->conv_forward(layer, j.mod, j.gamma), j.x->data(), Epilogue{j.bias.data(), false}, j.out.data(), r0, r1, pool_);
    } else {
      linear_mod(l.fc().sub_rows(r0, r1 - r0), j.mod, j.gamma, j.x->data(), 1, j.out.data() + r0, pool_);
      for (int o = r0; o < r1; ++o) j.out[static_cast<std::size_t>(o)] += j.bias[static_cast<std::size_t>(o)];
    }
    j.rows_done = r1;
    return false;  // one slice per step
  }
  const bool had_jobs = !p.jobs.empty();
  const bool finished = finish_if_ready(p);
  if (finished && had_jobs && l.kind == LayerKind::Conv) cache_->release_forward(layer);
  return finished;
}

bool LrpOperator::finish_if_ready(Plan& p) {
  const Network& net = network();
  (void)net;
  for (const FwdJob& j : p.jobs)
    if (j.rows_done < (j.out.rank() == 3 ? j.out.dim(1) : j.out.dim(0))) return false;
  if (p.finalize) p.finalize(p);
  p.jobs.clear();
  p.finalize = nullptr;
  p.built = true;
  return true;
}

void LrpOperator::prepare_weighted(int layer, Plan& p) {
  const Layer& l = network().layer(layer);
  const Tensor& a = fwd_->layer_input(layer);
  if (method_ != Method::LRP) {
    p.terms.push_back({WeightMod::Identity, 0.0f, -1, -1, 1.0f});
    return;
  }
  const Rule r = composite_.rule(layer);
  WeightCache& wc = *cache_;
  const float stab = r.epsilon;
  // Declares a forward product; its result is p.jobs[index].out when finalize runs.
  auto job = [&](const Tensor* x, Tensor own, WeightMod mod, float gamma, bool with_bias) {
    FwdJob j;
    if (!own.empty()) {
      j.own_x = std::move(own);
      j.x = nullptr;
    } else {
      j.x = x;
    }
    j.mod = mod;
    j.gamma = gamma;
    j.bias = wc.bias(layer, mod, gamma, with_bias);
    j.out = Tensor(l.out_shape);
    p.jobs.push_back(std::move(j));
    return static_cast<int>(p.jobs.size()) - 1;
  };
  auto z_plain = [this, layer, r]() {
    const Layer& ll = network().layer(layer);
    Tensor z = fwd_->output(layer);
    if (!r.bias) {
      const int c = ll.out_shape[0];
      const std::size_t per = z.size() / static_cast<std::size_t>(c);
      for (int ch = 0; ch < c; ++ch)
        for (std::size_t i = 0; i < per; ++i) z[ch * per + i] -= ll.bias[static_cast<std::size_t>(ch)];
    }
    return z;
  };
  const bool neg = has_negative(a);
  std::vector<std::pair<int, int>> aliases;  // (job, job whose input it shares): a+ and a- are made once
  switch (r.kind) {
    case RuleKind::Zero:
    case RuleKind::Epsilon: {
      p.finalize = [this, layer, r, z_plain](Plan& pl) {
        Tensor z = z_plain();
        const float eps = r.kind == RuleKind::Zero ? 0.0f : r.epsilon + r.epsilon_rms * rms(z);
        inverse_stabilised(z, eps);
        pl.F.push_back(std::move(z));
        pl.M.push_back(mult_ref(fwd_->layer_input(layer)));
        pl.terms.push_back({WeightMod::Identity, 0.0f, 0, 0, 1.0f});
      };
      break;
    }
    case RuleKind::Gamma: {
      const float g = r.gamma;
      if (r.gamma_classic) {
        const int j0 = job(&a, Tensor(), WeightMod::GammaPositive, g, r.bias);
        p.finalize = [this, layer, j0, g, stab](Plan& pl) {
          Tensor z = std::move(pl.jobs[static_cast<std::size_t>(j0)].out);
          inverse_stabilised(z, stab);
          pl.F.push_back(std::move(z));
          pl.M.push_back(mult_ref(fwd_->layer_input(layer)));
          pl.terms.push_back({WeightMod::GammaPositive, g, 0, 0, 1.0f});
        };
        break;
      }
      // zennit's generalised gamma: positive outputs (z > 0) are explained by the contributions that push up,
      // negative outputs by those that push down.
      if (!neg) {
        // Inputs without negative values (every layer after a ReLU): with P = W+ a and rho+- = W + gamma W+-,
        //   z+ = z + gamma (P + b+),  z- = z + gamma (W a - P + b-)   (one extra forward product, not two)
        //   R_in = a (.) [ W^T ((F+ + (1 + gamma) F-) R) + gamma W+^T ((F+ - F-) R) ]
        // so the transposed products use W and W+, packings the other rules and deconvnet share.
        const int jp = job(&a, Tensor(), WeightMod::Positive, 0, false);
        p.finalize = [this, layer, jp, g, stab, z_plain, r](Plan& pl) {
          const Layer& ll = network().layer(layer);
          const Tensor& P = pl.jobs[static_cast<std::size_t>(jp)].out;
          const Tensor& z = fwd_->output(layer);
          Tensor zb = z_plain();  // W a (+ b when the rule keeps the bias)
          Tensor zp, zn;
          split_contributions(ll, zb, P, r.bias, zp, zn);
          for (std::size_t i = 0; i < zb.size(); ++i) {
            zp[i] = zb[i] + g * zp[i];
            zn[i] = zb[i] + g * zn[i];
          }
          inverse_stabilised(zp, stab);
          inverse_stabilised(zn, stab);
          Tensor fa(zb.shape()), fb(zb.shape());
          for (std::size_t i = 0; i < z.size(); ++i) {
            const float f0 = z[i] > 0.0f ? zp[i] : 0.0f, f2 = z[i] < 0.0f ? zn[i] : 0.0f;
            fa[i] = f0 + (1.0f + g) * f2;
            fb[i] = f0 - f2;
          }
          pl.F.push_back(std::move(fa));
          pl.F.push_back(std::move(fb));
          pl.M.push_back(mult_ref(fwd_->layer_input(layer)));
          pl.terms.push_back({WeightMod::Identity, 0.0f, 0, 0, 1.0f});
          pl.terms.push_back({WeightMod::Positive, 0.0f, 1, 0, g});
        };
        break;
      }
      // inputs without negative values (after a ReLU) are their own positive part: no copy
      const int jp0 = job(neg ? nullptr : &a, neg ? positive_part(a) : Tensor(), WeightMod::GammaPositive, g, r.bias);
      const int jp2 = job(nullptr, Tensor(), WeightMod::GammaNegative, g, r.bias);
      aliases.push_back({jp2, jp0});
      int jn1 = -1, jn3 = -1;
      if (neg) {
        jn1 = job(nullptr, negative_part(a), WeightMod::GammaNegative, g, false);
        jn3 = job(nullptr, Tensor(), WeightMod::GammaPositive, g, false);
        aliases.push_back({jn3, jn1});
      }
      p.finalize = [this, layer, jp0, jp2, jn1, jn3, g, stab, neg](Plan& pl) {
        Tensor out0 = std::move(pl.jobs[static_cast<std::size_t>(jp0)].out);
        Tensor out2 = std::move(pl.jobs[static_cast<std::size_t>(jp2)].out);
        if (neg) {
          out0 = add(out0, pl.jobs[static_cast<std::size_t>(jn1)].out);
          out2 = add(out2, pl.jobs[static_cast<std::size_t>(jn3)].out);
        }
        inverse_stabilised(out0, stab);
        inverse_stabilised(out2, stab);
        const Tensor& z = fwd_->output(layer);
        for (std::size_t i = 0; i < z.size(); ++i) {
          if (!(z[i] > 0.0f)) out0[i] = 0.0f;
          if (!(z[i] < 0.0f)) out2[i] = 0.0f;
        }
        pl.F.push_back(std::move(out0));
        pl.F.push_back(std::move(out2));
        pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(jp0)]));
        pl.terms.push_back({WeightMod::GammaPositive, g, 0, 0, 1.0f});
        pl.terms.push_back({WeightMod::GammaNegative, g, 1, 0, 1.0f});
        if (neg) {
          pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(jn1)]));
          pl.terms.push_back({WeightMod::GammaNegative, g, 0, 1, 1.0f});
          pl.terms.push_back({WeightMod::GammaPositive, g, 1, 1, 1.0f});
        }
      };
      break;
    }
    case RuleKind::AlphaBeta:
    case RuleKind::ZPlus: {
      const bool ab = r.kind == RuleKind::AlphaBeta;
      const float alpha = ab ? r.alpha : 1.0f, beta = ab ? r.beta : 0.0f;
      if (!neg && beta != 0.0f) {
        // Inputs without negative values: with P = W+ a, z- = W a - P (one forward product, not two), and
        //   R_in = a (.) [ W+^T ((alpha F+ + beta F-) R) - beta W^T (F- R) ]
        const int jp = job(&a, Tensor(), WeightMod::Positive, 0, false);
        p.finalize = [this, layer, jp, alpha, beta, stab, z_plain, r](Plan& pl) {
          const Layer& ll = network().layer(layer);
          const Tensor& P = pl.jobs[static_cast<std::size_t>(jp)].out;
          Tensor zp, zn;
          split_contributions(ll, z_plain(), P, r.bias, zp, zn);
          inverse_stabilised(zp, stab);
          inverse_stabilised(zn, stab);
          for (std::size_t i = 0; i < zp.size(); ++i) zp[i] = alpha * zp[i] + beta * zn[i];
          pl.F.push_back(std::move(zp));
          pl.F.push_back(std::move(zn));
          pl.M.push_back(mult_ref(fwd_->layer_input(layer)));
          pl.terms.push_back({WeightMod::Positive, 0.0f, 0, 0, 1.0f});
          pl.terms.push_back({WeightMod::Identity, 0.0f, 1, 0, -beta});
        };
        break;
      }
      const int jp = job(neg ? nullptr : &a, neg ? positive_part(a) : Tensor(), WeightMod::Positive, 0, r.bias);
      const int jpn = neg ? job(nullptr, negative_part(a), WeightMod::Negative, 0, false) : -1;
      const int jn = beta != 0.0f ? job(nullptr, Tensor(), WeightMod::Negative, 0, r.bias) : -1;
      const int jnn = beta != 0.0f && neg ? job(nullptr, Tensor(), WeightMod::Positive, 0, false) : -1;
      if (jn >= 0) aliases.push_back({jn, jp});
      if (jnn >= 0) aliases.push_back({jnn, jpn});
      p.finalize = [jp, jpn, jn, jnn, alpha, beta, stab, neg](Plan& pl) {
        Tensor outp = std::move(pl.jobs[static_cast<std::size_t>(jp)].out);
        if (jpn >= 0) outp = add(outp, pl.jobs[static_cast<std::size_t>(jpn)].out);
        inverse_stabilised(outp, stab);
        pl.F.push_back(std::move(outp));
        pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(jp)]));
        if (neg) pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(jpn)]));
        pl.terms.push_back({WeightMod::Positive, 0, 0, 0, alpha});
        if (neg) pl.terms.push_back({WeightMod::Negative, 0, 0, 1, alpha});
        if (jn >= 0) {
          Tensor outn = std::move(pl.jobs[static_cast<std::size_t>(jn)].out);
          if (jnn >= 0) outn = add(outn, pl.jobs[static_cast<std::size_t>(jnn)].out);
          inverse_stabilised(outn, stab);
          pl.F.push_back(std::move(outn));
          pl.terms.push_back({WeightMod::Negative, 0, 1, 0, -beta});
          if (neg) pl.terms.push_back({WeightMod::Positive, 0, 1, 1, -beta});
        }
      };
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
      const int j1 = job(nullptr, std::move(L), WeightMod::Positive, 0, r.bias);
      const int j2 = job(nullptr, std::move(H), WeightMod::Negative, 0, r.bias);
      p.finalize = [this, layer, j1, j2, stab, z_plain](Plan& pl) {
        Tensor z = z_plain();
        const Tensor& o1 = pl.jobs[static_cast<std::size_t>(j1)].out;
        const Tensor& o2 = pl.jobs[static_cast<std::size_t>(j2)].out;
        for (std::size_t i = 0; i < z.size(); ++i) z[i] = z[i] - o1[i] - o2[i];
        inverse_stabilised(z, stab);
        pl.F.push_back(std::move(z));
        pl.M.push_back(mult_ref(fwd_->layer_input(layer)));
        pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(j1)]));
        pl.M.push_back(mult_of(pl.jobs[static_cast<std::size_t>(j2)]));
        pl.terms.push_back({WeightMod::Identity, 0, 0, 0, 1.0f});
        pl.terms.push_back({WeightMod::Positive, 0, 0, 1, -1.0f});
        pl.terms.push_back({WeightMod::Negative, 0, 0, 2, -1.0f});
      };
      break;
    }
    case RuleKind::Flat:
    case RuleKind::WSquare: {
      const WeightMod mod = r.kind == RuleKind::Flat ? WeightMod::Ones : WeightMod::Square;
      const int j0 = job(nullptr, Tensor(l.in_shape, 1.0f), mod, 0, r.bias);
      p.finalize = [j0, mod, stab](Plan& pl) {
        Tensor z = std::move(pl.jobs[static_cast<std::size_t>(j0)].out);
        inverse_stabilised(z, stab);
        pl.F.push_back(std::move(z));
        pl.terms.push_back({mod, 0, 0, -1, 1.0f});
      };
      break;
    }
  }
  for (FwdJob& j : p.jobs)
    if (!j.x) j.x = &j.own_x;
  for (auto [j, of] : aliases) p.jobs[static_cast<std::size_t>(j)].x = p.jobs[static_cast<std::size_t>(of)].x;
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
  p.M.push_back(mult_ref(a));
}

void LrpOperator::apply(int layer, const Tensor& r_out, int batch, Tensor& r_in) {
  ApplyWork w = start_apply(layer, r_out, batch, r_in);
  while (!apply_step(w, kWholeJob)) {
  }
}

LrpOperator::ApplyWork LrpOperator::start_apply(int layer, const Tensor& r_out, int batch, Tensor& r_in) const {
  ApplyWork w;
  w.layer = layer;
  w.r_out = &r_out;
  w.batch = batch;
  w.r_in = &r_in;
  return w;
}

bool LrpOperator::apply_step(ApplyWork& w, double max_macs) {
  if (w.done) return true;
  if (!build_step(w.layer, max_macs)) return false;
  const Layer& l = network().layer(w.layer);
  const Plan& p = plans_[static_cast<std::size_t>(w.layer)];
  // only stride-1 convolutions are sliced by rows; everything else is cheap or memory-bound and runs whole
  if (!w.started && l.kind == LayerKind::Conv && apply_subset(w)) {
    w.done = true;
    return true;
  }
  // small maps: the whole batch as one product per term
  const bool whole = l.kind != LayerKind::Conv || l.conv.stride != 1 ||
                     (!p.terms.empty() && conv_transpose2d_batches_members(cache_->conv_transposed(w.layer, p.terms[0].mod, p.terms[0].gamma)));
  if (whole) {
    apply_whole(w.layer, *w.r_out, w.batch, *w.r_in);
    w.done = true;
    return true;
  }
  const std::size_t out_n = Tensor::count(l.out_shape), in_n = Tensor::count(l.in_shape);
  if (!w.started) {
    if (w.r_out->size() != out_n * static_cast<std::size_t>(w.batch)) throw Error("relevance batch does not match layer " + l.name);
    std::vector<int> in_shape = l.in_shape;
    in_shape.insert(in_shape.begin(), w.batch);
    if (w.r_in->shape() != in_shape) *w.r_in = Tensor(in_shape);
    w.r_in->fill(0.0f);
    w.started = true;
    w.term = 0;
    w.member = 0;
    w.row = 0;
  }
  if (w.term >= static_cast<int>(p.terms.size())) {
    w.done = true;
    return true;
  }
  const Term& t = p.terms[static_cast<std::size_t>(w.term)];
  // one batch member at a time: s = F (.) R, c = rho(W)^T s in row slices, then R_in += coeff * M (.) c
  if (w.row == 0) {
    if (w.s.size() != out_n) w.s = Tensor({static_cast<int>(out_n)});
    if (w.c.size() != in_n) w.c = Tensor({static_cast<int>(in_n)});
    const float* ro = w.r_out->data() + w.member * out_n;
    float* sb = w.s.data();
    if (t.f < 0) {
      std::copy(ro, ro + out_n, sb);
    } else {
      const float* f = p.F[static_cast<std::size_t>(t.f)].data();
      for (std::size_t i = 0; i < out_n; ++i) sb[i] = ro[i] * f[i];
    }
  }
  const ConvWeights& cw = cache_->conv_transposed(w.layer, t.mod, t.gamma);
  const int rows = l.conv.h;
  const double per_row = static_cast<double>(l.macs) / rows;
  const int n = std::max(1, static_cast<int>(std::min<double>(rows - w.row, max_macs / std::max(1.0, per_row))));
  conv_transpose2d(cw, w.s.data(), w.c.data(), w.row, w.row + n, pool_);
  w.row += n;
  if (w.row >= rows) {
    w.row = 0;
    const bool times_input = method_ == Method::LRP;
    float* ri = w.r_in->data() + w.member * in_n;
    const float* cb = w.c.data();
    if (!times_input || t.m < 0) {
      for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * cb[i];
    } else {
      const float* m = p.M[static_cast<std::size_t>(t.m)].data();
      for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * m[i] * cb[i];
    }
    if (++w.member >= w.batch) {
      w.member = 0;
      if (++w.term >= static_cast<int>(p.terms.size())) {
        w.done = true;
        w.s = Tensor();
        w.c = Tensor();
        return true;
      }
    }
  }
  return false;
}

bool LrpOperator::apply_subset(ApplyWork& w) {
  const Layer& l = network().layer(w.layer);
  const Plan& p = plans_[static_cast<std::size_t>(w.layer)];
  const ConvShape& f = l.conv;
  const std::size_t out_n = Tensor::count(l.out_shape), in_n = Tensor::count(l.in_shape);
  const std::size_t plane = out_n / static_cast<std::size_t>(f.cout);
  if (w.r_out->size() != out_n * static_cast<std::size_t>(w.batch)) throw Error("relevance batch does not match layer " + l.name);
  std::vector<int> cis;
  if (w.needed_in && !w.needed_in->empty()) {
    cis = *w.needed_in;
  } else {
    cis.resize(static_cast<std::size_t>(f.cin));
    for (int c = 0; c < f.cin; ++c) cis[static_cast<std::size_t>(c)] = c;
  }
  // worth it below a third of the full product's multiply-adds (the small GEMM packs its own operands)
  const double full = static_cast<double>(f.cout) * f.cin;
  std::vector<std::vector<int>> active(static_cast<std::size_t>(w.batch));
  // (stops at the first member with too many channels: dense relevance costs a few channels' scan)
  const double max_active = full / (3.0 * static_cast<double>(cis.size()));
  for (int b = 0; b < w.batch; ++b) {
    const float* ro = w.r_out->data() + b * out_n;
    auto& act = active[static_cast<std::size_t>(b)];
    for (int co = 0; co < f.cout; ++co) {
      const float* ch = ro + co * plane;
      if (std::any_of(ch, ch + plane, [](float v) { return v != 0.0f; })) act.push_back(co);
      if (static_cast<double>(act.size()) > max_active) return false;
    }
  }
  std::vector<int> in_shape = l.in_shape;
  in_shape.insert(in_shape.begin(), w.batch);
  if (w.r_in->shape() != in_shape) *w.r_in = Tensor(in_shape);
  w.r_in->fill(0.0f);
  Tensor holder;
  const Tensor& weights = l.float_weights(holder);
  // members with the same channels share one product
  const bool shared = std::all_of(active.begin(), active.end(), [&](const std::vector<int>& v) { return v == active[0]; });
  Tensor s({w.batch, static_cast<int>(out_n)}), c({w.batch, static_cast<int>(in_n)});
  const std::size_t in_plane = in_n / static_cast<std::size_t>(f.cin);
  const bool times_input = method_ == Method::LRP;
  for (const Term& t : p.terms) {
    const float* fac = t.f < 0 ? nullptr : p.F[static_cast<std::size_t>(t.f)].data();
    for (int b = 0; b < w.batch; ++b) {
      const float* ro = w.r_out->data() + b * out_n;
      float* sb = s.data() + b * out_n;
      for (int co : active[static_cast<std::size_t>(b)])
        for (std::size_t i = co * plane; i < (co + 1) * plane; ++i) sb[i] = fac ? ro[i] * fac[i] : ro[i];
    }
    if (shared) {
      conv_transpose2d_subset(f, weights.data(), t.mod, t.gamma, s.data(), w.batch, active[0], cis, c.data(), pool_);
    } else {
      for (int b = 0; b < w.batch; ++b)
        conv_transpose2d_subset(f, weights.data(), t.mod, t.gamma, s.data() + b * out_n, 1, active[static_cast<std::size_t>(b)],
                                cis, c.data() + b * in_n, pool_);
    }
    const float* m = !times_input || t.m < 0 ? nullptr : p.M[static_cast<std::size_t>(t.m)].data();
    for (int b = 0; b < w.batch; ++b) {
      float* ri = w.r_in->data() + b * in_n;
      const float* cb = c.data() + b * in_n;
      for (int ci : cis)
        for (std::size_t i = ci * in_plane; i < (ci + 1) * in_plane; ++i) ri[i] += t.coeff * (m ? m[i] * cb[i] : cb[i]);
    }
  }
  return true;
}

void LrpOperator::apply_whole(int layer, const Tensor& r_out, int batch, Tensor& r_in) {
  build(layer);
  const Layer& l = network().layer(layer);
  const Plan& p = plans_[static_cast<std::size_t>(layer)];
  const std::size_t out_n = Tensor::count(l.out_shape), in_n = Tensor::count(l.in_shape);
  if (r_out.size() != out_n * static_cast<std::size_t>(batch)) throw Error("relevance batch does not match layer " + l.name);
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
        const Tensor& a = p.M[0].get();
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
