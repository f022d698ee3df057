// The backward map of an explanation method for one forward pass, layer by layer.
// For LRP, once the forward pass is fixed every rule is linear in the relevance R:
//     R_in = sum_t coeff_t * M_t (.) rho_t(W)^T (F_t (.) R_out)
// where F_t are element-wise factors (1 / stabilised z, masks) and M_t input multipliers (a, a+, a-, the zB
// bounds, sign(a - mu), or ones). Each rule says which as data (recipe.h); build(layer) evaluates the recipe's
// forward products in slices and its factors once (lrp_operator.cpp); apply(layer) then maps any batch of
// relevances through the engine's transposed kernels (lrp_apply.cpp), so many conditional relevances travel down
// together.
// The gradient family (gradient, guided backprop, deconvnet, beta-smooth) is the same machinery with other rules.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "engine/weight_mod.h"
#include "explain/composite.h"
#include "explain/recipe.h"

namespace lrp {

class ForwardPass;
class Network;
class ThreadPool;
class WeightCache;

class LrpOperator {
 public:
  // fwd must have kept its layer outputs and must outlive the operator.
  LrpOperator(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, Composite composite,
              ThreadPool* pool);

  const Network& network() const;
  const ForwardPass& forward() const { return *fwd_; }
  const Composite& composite() const { return composite_; }

  // The recipe of a weighted layer (its rule's), compiled once.
  const Recipe& recipe(int layer) const;
  // Tests: use every rule's general recipe, not the cheaper forms for non-negative inputs and for relevance that is
  // zero where the layer's output is not positive (before any build).
  void use_general_recipes(bool on);
  bool zero_below(int layer) const { return zero_below_.at(static_cast<std::size_t>(layer)) != 0; }

  bool built(int layer) const { return plans_.at(static_cast<std::size_t>(layer)).built; }
  void build(int layer);
  void build_all();
  // Resumable build: does at most about max_macs multiply-adds of work; returns true once the layer is built.
  bool build_step(int layer, double max_macs);
  // r_out: batch x (output shape of layer); r_in (resized): batch x (input shape).
  void apply(int layer, const Tensor& r_out, int batch, Tensor& r_in);

  // Resumable apply: the same product in slices (terms, batch members, rows of the transposed convolution).
  struct ApplyWork {
    int layer = -1;
    const Tensor* r_out = nullptr;
    int batch = 1;
    Tensor* r_in = nullptr;
    // Channels of r_in the caller will read (null or empty: all). The others may be left zero, which lets a
    // convolution compute only these (see apply_subset).
    const std::vector<int>* needed_in = nullptr;
    int term = 0, member = 0, row = 0;
    bool started = false, done = false;
    Tensor s, c;
  };
  ApplyWork start_apply(int layer, const Tensor& r_out, int batch, Tensor& r_in) const;
  // Returns true when the work is finished.
  bool apply_step(ApplyWork& w, double max_macs);
  // Multiply-adds of build / apply (one batch item), for progress bars.
  long long build_macs(int layer) const;
  long long apply_macs(int layer) const;

 private:
  // A forward product of the recipe, computed in row slices.
  struct ProductJob {
    std::vector<float> bias;
    Tensor out;
    int rows_done = 0;
  };
  struct Plan {
    bool built = false, prepared = false;
    Recipe recipe;
    std::vector<Tensor> inputs;  // by Input, made on first use (a itself is the forward pass's)
    std::vector<ProductJob> jobs;
    std::vector<Tensor> F;  // the recipe's factors (those no term reads are dropped once built)
  };
  void prepare_weighted(int layer, Plan& p);
  void finish_weighted(int layer, Plan& p);
  // The tensor a product reads or a term multiplies by (null for Input::Ones as a multiplier).
  const Tensor& input(int layer, Plan& p, Input which);
  const float* multiplier(int layer, const Plan& p, Input which) const;
  void apply_whole(int layer, const Tensor& r_out, int batch, Tensor& r_in);
  // A convolution whose relevance sits in a few output channels per member, or of which only a few input
  // channels are needed, straight from the weights; false (nothing done) when the full product is cheaper.
  bool apply_subset(ApplyWork& w);
  void build_pool(int layer, Plan& p);
  void build_relu(int layer, Plan& p);

  std::shared_ptr<const ForwardPass> fwd_;
  std::shared_ptr<WeightCache> cache_;
  Composite composite_;
  ThreadPool* pool_;
  std::vector<Plan> plans_;
  std::vector<char> nonneg_;  // per layer: every input is >= 0 (after a ReLU, or checked for the first layer)
  std::vector<Recipe> recipes_;  // per weighted layer
  // per layer: the relevance it receives is zero wherever its output z <= 0, because its ReLU masks it or the rules
  // above multiply by their input (relevance_zero_below); its recipe is then simplified (rule_recipe's zero_below).
  // Every relevance the operator passes down, and any part of it (a neuron's share), keeps that property; apply()
  // on such a layer ignores relevance given where z <= 0.
  std::vector<char> zero_below_;
  bool relevance_zero_below(int layer) const;
  void compile_recipes(bool general);
};

}  // namespace lrp
