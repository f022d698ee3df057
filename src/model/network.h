// A VGG network ready to run: its layers in torchvision order (names "features.0", "classifier.6", and the
// familiar "conv1_1", "pool1", "fc6"), float32 weights, and packed operands for the fast kernels.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/conv.h"
#include "engine/fc_matrix.h"
#include "engine/pool.h"
#include "engine/tensor.h"
#include "model/model_config.h"
#include "model/vgg_spec.h"
#include "model/weight_store.h"

namespace lrp {

enum class LayerKind { Conv, ReLU, MaxPool, AvgPool, Flatten, Linear };
const char* layer_kind_name(LayerKind k);

struct Layer {
  LayerKind kind = LayerKind::ReLU;
  std::string name;  // torchvision module name: features.0, avgpool, flatten, classifier.0
  std::string nick;  // conv1_1, relu1_1, pool1, fc6, relu6, fc8
  std::vector<int> in_shape, out_shape;  // C,H,W or N
  ConvShape conv;                       // Conv
  PoolShape pool;                       // MaxPool
  int avg_out = 0;                      // AvgPool: adaptive output size
  // Conv [out,in,3,3] / Linear [out,in]: float32 weights and the convolution's packing, shared by the networks that
  // differ from this one in other layers only (Network::with_layer_weights); null when stored compressed
  std::shared_ptr<const Tensor> weight;
  std::shared_ptr<const ConvWeights> packed;  // Conv
  Tensor bias;
  // Weights the checkpoint stores as F16, BF16 or int8 stay in that form in memory (`weight` is then empty): Linear
  // kernels expand them as they stream through them; convolutions pack from a float32 expansion.
  FcFormat fc_format = FcFormat::F32;
  std::shared_ptr<const ByteSource> fc_owner;  // the checkpoint's bytes, read in place (mmap natively)
  const uint8_t* fc_data = nullptr;
  std::vector<float> fc_scale;  // int8: one scale per output
  long long macs = 0;

  // The weight matrix as the kernels read it: [out][in] (Linear) or [cout][cin*kh*kw] (Conv).
  FcMatrix fc() const;
  // A float32 copy of the weights whatever their storage (references, tests).
  Tensor dense_weight() const;
  // The float32 weights: `weight` itself, or compressed ones expanded into `holder`.
  const Tensor& float_weights(Tensor& holder) const {
    if (fc_format == FcFormat::F32 && weight) return *weight;
    holder = dense_weight();
    return holder;
  }
  std::size_t weight_bytes() const;
  bool has_weights() const { return kind == LayerKind::Conv || kind == LayerKind::Linear; }
  int out_features() const { return kind == LayerKind::Linear ? out_shape[0] : out_shape.empty() ? 0 : out_shape[0]; }
};

struct NetworkInfo {
  std::string source;  // file name
  std::string dtype;   // dtype(s) of the stored weights
  std::string format = "safetensors";  // the checkpoint's format (WeightStore::format_summary)
  long long params = 0;
  std::size_t file_bytes = 0;
  std::string canonized;  // what was changed at load to explain it ("": nothing), e.g. the batch norms folded
};

class Network {
 public:
  // Builds from a checkpoint: infers the architecture, reads the config metadata, converts to float32, packs.
  // input_size > 0 overrides the square input size of the config (e.g. run a VGG at another resolution).
  // policy: the kernels the network's products may use (kernel_plan.h): its own forward pass packs with it, and the
  // explanations' weight cache starts from it.
  static std::shared_ptr<Network> from_weights(const WeightStore& w, const std::string& source = "",
                                               int input_size = 0, const KernelPolicy& policy = {});
  static std::shared_ptr<Network> load(const std::string& path, int input_size = 0, const KernelPolicy& policy = {});
  // Builds from explicit tensors (tests, make-random): names as torchvision's.
  // compressed: Linear weights kept in their stored form (from_weights), by torchvision name.
  static std::shared_ptr<Network> from_tensors(const VggSpec& spec, const ModelConfig& config,
                                               const std::vector<std::pair<std::string, Tensor>>& tensors,
                                               std::map<std::string, CompressedFc> compressed = {},
                                               const KernelPolicy& policy = {});
  // This network with new float32 weights and bias for one layer (packed with this network's policy); every other
  // layer shares this network's storage, so a copy costs the one layer (the sanity check re-initialises one layer
  // after another).
  std::shared_ptr<Network> with_layer_weights(int layer, Tensor weight, Tensor bias) const;

  const VggSpec& spec() const { return spec_; }
  const ModelConfig& config() const { return config_; }
  const NetworkInfo& info() const { return info_; }
  const std::vector<Layer>& layers() const { return layers_; }
  const Layer& layer(int i) const { return layers_.at(static_cast<std::size_t>(i)); }
  int size() const { return static_cast<int>(layers_.size()); }
  // Index of a layer by torchvision name or nickname; -1 if none.
  int find(const std::string& name) const;
  // Like find, but throws Error listing the valid names.
  int require_layer(const std::string& name) const;
  std::vector<int> input_shape() const { return {spec_.in_channels, spec_.in_height, spec_.in_width}; }
  int num_classes() const { return spec_.num_classes(); }
  std::string label(int cls) const;
  long long total_macs() const;
  std::string describe() const;  // multi-line architecture summary
  // The same network without its weights: names, kinds, shapes, costs, config and labels (what an interface shows;
  // it cannot run). Small enough to hand to another thread or module.
  std::shared_ptr<const Network> outline() const;
  // The outline a description makes (what another module rebuilds from a message): the same layers as the
  // network with weights would have.
  static std::shared_ptr<const Network> outline_of(const VggSpec& spec, const ModelConfig& config,
                                                   const NetworkInfo& info);
  bool has_weights() const { return has_weights_; }
  const KernelPolicy& kernel_policy() const { return policy_; }

 private:
  void build(const std::vector<std::pair<std::string, Tensor>>& tensors,
             std::map<std::string, CompressedFc> compressed = {}, bool weights = true);
  VggSpec spec_;
  ModelConfig config_;
  NetworkInfo info_;
  std::vector<Layer> layers_;
  bool has_weights_ = true;
  KernelPolicy policy_;
};

// The tensor names (torchvision style) and shapes a VggSpec needs, in order.
std::vector<std::pair<std::string, std::vector<int>>> vgg_tensor_shapes(const VggSpec& spec);

}  // namespace lrp
