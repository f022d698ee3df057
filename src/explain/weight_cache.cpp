#include "explain/weight_cache.h"

#include "engine/error.h"
#include "engine/linear.h"
#include "model/network.h"

namespace lrp {

WeightCache::WeightCache(std::shared_ptr<const Network> net) : WeightCache(net, net->kernel_policy()) {}

WeightCache::WeightCache(std::shared_ptr<const Network> net, const KernelPolicy& policy)
    : net_(std::move(net)), policy_(policy) {}

const ConvWeights& WeightCache::conv_forward(int layer, WeightMod mod, float gamma) {
  return get(layer, mod, gamma, false);
}

const ConvWeights& WeightCache::conv_transposed(int layer, WeightMod mod, float gamma) {
  return get(layer, mod, gamma, true);
}

const ConvWeights& WeightCache::get(int layer, WeightMod mod, float gamma, bool transposed) {
  const Layer& l = net_->layer(layer);
  require(l.kind == LayerKind::Conv, "layer " + l.name + " is not a convolution");
  if (mod == WeightMod::Identity && !transposed) return *l.packed;
  if (mod != WeightMod::GammaPositive && mod != WeightMod::GammaNegative) gamma = 0.0f;
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(layer, static_cast<int>(mod), gamma, transposed);
  auto it = conv_.find(key);
  if (it != conv_.end()) return *it->second;
  std::unique_ptr<ConvWeights> cw;
  Tensor expanded;  // compressed weights (F16 / int8 checkpoints) as float32, only while packing
  const Tensor& weight = l.float_weights(expanded);
  if (mod == WeightMod::Identity) {
    cw = std::make_unique<ConvWeights>(pack_conv(l.conv, weight.data(), ConvParts::Transposed, policy_));
  } else {
    FloatBuffer w(weight.size());
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = apply_mod(weight[i], mod, gamma);
    cw = std::make_unique<ConvWeights>(pack_conv(l.conv, w.data(), transposed ? ConvParts::Transposed : ConvParts::Forward, policy_));
  }
  const ConvWeights& ref = *cw;
  conv_.emplace(key, std::move(cw));
  return ref;
}

void WeightCache::release_forward(int layer) {
  if (keep_forward_) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = conv_.begin(); it != conv_.end();) {
    if (std::get<0>(it->first) == layer && !std::get<3>(it->first)) it = conv_.erase(it);
    else ++it;
  }
}

std::vector<float> WeightCache::bias(int layer, WeightMod mod, float gamma, bool use_bias) const {
  const Layer& l = net_->layer(layer);
  std::vector<float> b(l.bias.size(), 0.0f);
  if (!use_bias || mod == WeightMod::Ones) return b;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = apply_mod(l.bias[i], mod, gamma);
  return b;
}

std::size_t WeightCache::bytes() const {
  std::size_t n = 0;
  for (auto& [k, v] : conv_) n += v->bytes();
  return n;
}

void forward_mod(WeightCache& cache, int layer, WeightMod mod, float gamma, const float* x, const float* bias, float* y,
                 ThreadPool* pool) {
  const Layer& l = cache.network().layer(layer);
  if (l.kind == LayerKind::Conv) {
    conv2d(cache.conv_forward(layer, mod, gamma), x, Epilogue{bias, false}, y, pool);
    return;
  }
  require(l.kind == LayerKind::Linear, "layer " + l.name + " has no weights");
  const int out = l.out_shape[0];
  linear_mod(l.fc(), mod, gamma, x, 1, y, pool);
  if (bias)
    for (int o = 0; o < out; ++o) y[o] += bias[o];
}

void transpose_mod(WeightCache& cache, int layer, WeightMod mod, float gamma, const float* s, int batch, float* x,
                   ThreadPool* pool) {
  const Layer& l = cache.network().layer(layer);
  if (l.kind == LayerKind::Conv) {
    const ConvWeights& cw = cache.conv_transposed(layer, mod, gamma);
    conv_transpose2d_batch(cw, s, batch, x, pool);
    return;
  }
  require(l.kind == LayerKind::Linear, "layer " + l.name + " has no weights");
  linear_transposed_mod(l.fc(), mod, gamma, s, batch, x, pool);
}

}  // namespace lrp
