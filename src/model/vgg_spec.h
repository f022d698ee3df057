// The VGG family as torchvision defines it, generic over input size, channels and widths:
// conv blocks (3x3, stride 1, pad 1, ReLU), each ended by 2x2 max-pooling; an optional adaptive average pool;
// fully connected layers with ReLU between them (dropout is the identity at inference).
#pragma once

#include <string>
#include <vector>

namespace lrp {

class SafetensorsFile;
class WeightStore;

struct VggSpec {
  int in_channels = 3, in_height = 224, in_width = 224;
  std::vector<std::vector<int>> blocks;  // conv output widths, per block
  std::vector<int> fc;                   // fc output widths; the last is the number of classes
  int avgpool = 7;                       // adaptive average pool output size before fc6 (0: none)
  // torchvision's vgg*_bn: a BatchNorm2d after every convolution (conv, bn, relu: the module indices move), folded
  // into the convolution at load (Network::from_weights), so the network computes conv + ReLU as without it
  bool batch_norm = false;
  float bn_eps = 1e-5f;  // BatchNorm2d's eps (PyTorch's default; a state dict does not store it)

  static VggSpec vgg16();  // ImageNet VGG16
  // "vgg11", "vgg13", "vgg16", "vgg19" at ImageNet widths.
  static VggSpec by_name(const std::string& name);
  // Reduced widths: every conv and hidden fc width divided by `div` (classes kept).
  VggSpec scaled(int div, int classes) const;

  std::string arch_name() const;  // "vgg16" (or "vgg16_bn") when the block layout matches, else "vgg-custom"
  int conv_count() const;
  int num_classes() const { return fc.empty() ? 0 : fc.back(); }
  // Spatial size of the last feature map (input / 2^blocks).
  int feature_height() const;
  int feature_width() const;
  int fc_in_features() const;
  // torchvision module indices of the convolutions in `features` and of the linear layers in `classifier`.
  std::vector<int> conv_indices() const;
  // ... and of each convolution's BatchNorm2d (batch_norm only: the index after its convolution's)
  std::vector<int> bn_indices() const;
  std::vector<int> fc_indices() const;
  void validate() const;
  // Counted in double (no overflow whatever the shapes): the weights' values, and the values of every layer's
  // output for one picture.
  double weight_values() const;
  double activation_values() const;
  // What explaining one picture needs: float32 weights (+ packings) and the kept activations, relevance, LRP
  // factors and temporaries. `weight_bytes`: what the weights take as stored (compressed ones stay compressed).
  double explanation_bytes(double weight_bytes) const;
};

// The memory a process may use: the WebAssembly heap's maximum in the page, the machine's RAM natively.
double memory_limit_bytes();

// Infers the architecture from torchvision/timm key names and shapes; throws Error naming what does not fit.
VggSpec infer_vgg_spec(const WeightStore& w, int in_height, int in_width);

}  // namespace lrp
