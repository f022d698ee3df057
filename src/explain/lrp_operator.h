// The backward map of an explanation method for one forward pass, layer by layer.
// For LRP, once the forward pass is fixed every rule is linear in the relevance R:
//     R_in = sum_t coeff_t * M_t (.) rho_t(W)^T (F_t (.) R_out)
// where F_t are element-wise factors (1 / stabilised z, masks) and M_t input multipliers (a, a+, a-, the zB
// bounds, or ones). build(layer) computes F and M once; apply(layer) then maps any batch of relevances through the
// engine's transposed kernels, so many conditional relevances travel down together.
// The gradient-family methods (gradient, guided backprop, deconvnet) are the same machinery with other factors.
#pragma once

#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "engine/weight_mod.h"
#include "explain/composite.h"

namespace lrp {

class ForwardPass;
class Network;
class ThreadPool;
class WeightCache;

enum class Method { LRP, Gradient, GradientXInput, GuidedBackprop, Deconvnet };
const char* method_name(Method m);
Method parse_method(const std::string& s);

class LrpOperator {
 public:
  // fwd must have kept its layer outputs and must outlive the operator.
  LrpOperator(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, Composite composite,
              Method method, ThreadPool* pool);

  const Network& network() const;
  const ForwardPass& forward() const { return *fwd_; }
  const Composite& composite() const { return composite_; }
  Method method() const { return method_; }

  bool built(int layer) const { return plans_.at(static_cast<std::size_t>(layer)).built; }
  void build(int layer);
  void build_all();
  // r_out: batch x (output shape of layer); r_in (resized): batch x (input shape).
  void apply(int layer, const Tensor& r_out, int batch, Tensor& r_in);
  // Multiply-adds of build / apply (one batch item), for progress bars.
  long long build_macs(int layer) const;
  long long apply_macs(int layer) const;

 private:
  struct Term {
    WeightMod mod;
    float gamma;
    int f;  // index into F, or -1 for no factor
    int m;  // index into M, or -1 for ones
    float coeff;
  };
  struct Plan {
    bool built = false;
    std::vector<Tensor> F, M;
    std::vector<Term> terms;
  };
  void build_weighted(int layer, Plan& p);
  void build_pool(int layer, Plan& p);

  std::shared_ptr<const ForwardPass> fwd_;
  std::shared_ptr<WeightCache> cache_;
  Composite composite_;
  Method method_;
  ThreadPool* pool_;
  std::vector<Plan> plans_;
};

}  // namespace lrp
