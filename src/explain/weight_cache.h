// Packed convolution weights with an LRP weight modification applied (rho(w)), built once per layer and
// modification and reused by every explanation of every image.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "engine/conv.h"
#include "engine/weight_mod.h"

namespace lrp {

class Network;
struct Layer;
class ThreadPool;

class WeightCache {
 public:
  // policy: the kernels the packings of modified weights may use; by default the network's own policy.
  explicit WeightCache(std::shared_ptr<const Network> net);
  WeightCache(std::shared_ptr<const Network> net, const KernelPolicy& policy);
  const KernelPolicy& kernel_policy() const { return policy_; }
  const Network& network() const { return *net_; }
  // Conv layers: packed rho(W) for conv2d (forward) and for conv_transpose2d (transposed), made on first use.
  // The forward identity is the network's own packing.
  const ConvWeights& conv_forward(int layer, WeightMod mod, float gamma);
  const ConvWeights& conv_transposed(int layer, WeightMod mod, float gamma);
  // Memory policy for large models: when keep_forward is false, release_forward(layer) drops the layer's forward
  // packings of modified weights (LRP needs them only while it builds that layer; they are made again on demand).
  void set_keep_forward(bool keep) { keep_forward_ = keep; }
  bool keep_forward() const { return keep_forward_; }
  void release_forward(int layer);
  // rho(b) (zero when use_bias is false or the modification is Ones).
  std::vector<float> bias(int layer, WeightMod mod, float gamma, bool use_bias) const;
  std::size_t bytes() const;

 private:
  std::shared_ptr<const Network> net_;
  const ConvWeights& get(int layer, WeightMod mod, float gamma, bool transposed);
  // key: layer, modification, gamma, transposed
  std::map<std::tuple<int, int, float, bool>, std::unique_ptr<ConvWeights>> conv_;
  bool keep_forward_ = true;
  KernelPolicy policy_;
  std::mutex mu_;
};

// y = rho(W) x (+ rho(b)) for one input of a conv or linear layer.
void forward_mod(WeightCache& cache, int layer, WeightMod mod, float gamma, const float* x, const float* bias, float* y,
                 ThreadPool* pool);
// x[b] = rho(W)^T s[b] for a batch.
void transpose_mod(WeightCache& cache, int layer, WeightMod mod, float gamma, const float* s, int batch, float* x,
                   ThreadPool* pool);

}  // namespace lrp
