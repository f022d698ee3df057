// LrpOperator, applying a built plan: relevance through a layer, whole or in resumable slices.
#include <algorithm>

#include "engine/conv.h"
#include "engine/error.h"
#include "engine/job.h"
#include "engine/pool.h"
#include "explain/lrp_operator.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

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
                     (!p.recipe.terms.empty() &&
                      conv_transpose2d_batches_members(cache_->conv_transposed(w.layer, p.recipe.terms[0].weight, p.recipe.terms[0].gamma)));
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
  const std::vector<Term>& terms = p.recipe.terms;
  if (w.term >= static_cast<int>(terms.size())) {
    w.done = true;
    return true;
  }
  const Term& t = terms[static_cast<std::size_t>(w.term)];
  // one batch member at a time: s = F (.) R, c = rho(W)^T s in row slices, then R_in += coeff * M (.) c
  if (w.row == 0) {
    if (w.s.size() != out_n) w.s = Tensor({static_cast<int>(out_n)});
    if (w.c.size() != in_n) w.c = Tensor({static_cast<int>(in_n)});
    const float* ro = w.r_out->data() + w.member * out_n;
    float* sb = w.s.data();
    if (t.factor < 0) {
      std::copy(ro, ro + out_n, sb);
    } else {
      const float* f = p.F[static_cast<std::size_t>(t.factor)].data();
      for (std::size_t i = 0; i < out_n; ++i) sb[i] = ro[i] * f[i];
    }
  }
  const ConvWeights& cw = cache_->conv_transposed(w.layer, t.weight, t.gamma);
  const int rows = l.conv.h;
  const double per_row = static_cast<double>(l.macs) / rows;
  const int n = std::max(1, static_cast<int>(std::min<double>(rows - w.row, max_macs / std::max(1.0, per_row))));
  conv_transpose2d(cw, w.s.data(), w.c.data(), w.row, w.row + n, pool_);
  w.row += n;
  if (w.row >= rows) {
    w.row = 0;
    float* ri = w.r_in->data() + w.member * in_n;
    const float* cb = w.c.data();
    if (const float* m = multiplier(w.layer, p, t.mult)) {
      for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * m[i] * cb[i];
    } else {
      for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * cb[i];
    }
    if (++w.member >= w.batch) {
      w.member = 0;
      if (++w.term >= static_cast<int>(terms.size())) {
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
  // the planner says when the product restricted to the active channels pays (kernel_plan.h)
  std::vector<std::vector<int>> active(static_cast<std::size_t>(w.batch));
  // (stops at the first member with too many channels: dense relevance costs a few channels' scan)
  const double max_active = conv_subset_limit(f, static_cast<int>(cis.size()));
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
  for (const Term& t : p.recipe.terms) {
    const float* fac = t.factor < 0 ? nullptr : p.F[static_cast<std::size_t>(t.factor)].data();
    for (int b = 0; b < w.batch; ++b) {
      const float* ro = w.r_out->data() + b * out_n;
      float* sb = s.data() + b * out_n;
      for (int co : active[static_cast<std::size_t>(b)])
        for (std::size_t i = co * plane; i < (co + 1) * plane; ++i) sb[i] = fac ? ro[i] * fac[i] : ro[i];
    }
    if (shared) {
      conv_transpose2d_subset(f, weights.data(), t.weight, t.gamma, s.data(), w.batch, active[0], cis, c.data(), pool_);
    } else {
      for (int b = 0; b < w.batch; ++b)
        conv_transpose2d_subset(f, weights.data(), t.weight, t.gamma, s.data() + b * out_n, 1, active[static_cast<std::size_t>(b)],
                                cis, c.data() + b * in_n, pool_);
    }
    const float* m = multiplier(w.layer, p, t.mult);
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
      switch (composite_.rule(layer).kind) {
        case RuleKind::DeconvNet:
          for (std::size_t i = 0; i < r_out.size(); ++i) ri[i] = std::max(ro[i], 0.0f);
          break;
        case RuleKind::Gradient:
        case RuleKind::GuidedBackprop:
        case RuleKind::BetaSmooth: {
          const Tensor& f = p.F[0];  // the mask, or sigmoid(beta x)
          const bool guided = composite_.rule(layer).kind == RuleKind::GuidedBackprop;
          for (int b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < out_n; ++i) {
              const float g = ro[b * out_n + i] * f[i];
              ri[b * out_n + i] = guided ? std::max(g, 0.0f) : g;
            }
          break;
        }
        default: std::copy(ro, ro + r_out.size(), ri); break;  // pass
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
        const Tensor& a = fwd_->layer_input(layer);
        for (std::size_t i = 0; i < in_n; ++i) ri[i] *= a[i];
      }
      return;
    }
    case LayerKind::Conv:
    case LayerKind::Linear: break;
  }
  r_in.fill(0.0f);
  Tensor s({batch, static_cast<int>(out_n)}), c({batch, static_cast<int>(in_n)});
  for (const Term& t : p.recipe.terms) {
    for (int b = 0; b < batch; ++b) {
      const float* ro = r_out.data() + b * out_n;
      float* sb = s.data() + b * out_n;
      if (t.factor < 0) {
        std::copy(ro, ro + out_n, sb);
      } else {
        const float* f = p.F[static_cast<std::size_t>(t.factor)].data();
        for (std::size_t i = 0; i < out_n; ++i) sb[i] = ro[i] * f[i];
      }
    }
    transpose_mod(*cache_, layer, t.weight, t.gamma, s.data(), batch, c.data(), pool_);
    const float* m = multiplier(layer, p, t.mult);
    for (int b = 0; b < batch; ++b) {
      float* ri = r_in.data() + b * in_n;
      const float* cb = c.data() + b * in_n;
      if (m) {
        for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * m[i] * cb[i];
      } else {
        for (std::size_t i = 0; i < in_n; ++i) ri[i] += t.coeff * cb[i];
      }
    }
  }
}

}  // namespace lrp
