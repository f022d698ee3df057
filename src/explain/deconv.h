// Deconvnet reconstructions (Zeiler & Fergus 2014; docs/background.md §6) of one channel of a conv
// layer down to the pixels, guided backpropagation as the alternative, and the receptive field of a position.
#pragma once

#include <memory>

#include "engine/tensor.h"

namespace lrp {

class ForwardPass;
class Network;
class WeightCache;

struct Box {
  int y0 = 0, x0 = 0, y1 = 0, x1 = 0;  // inclusive-exclusive [y0, y1) x [x0, x1) in input pixels
};

struct DeconvOptions {
  bool max_only = true;  // mode "max": keep only the channel's strongest position; "all": the whole feature map
  bool guided = false;   // guided backpropagation instead of the deconvnet
};

struct DeconvResult {
  Tensor reconstruction;  // C,H,W in the model's input space
  int y = 0, x = 0;       // strongest position in the feature map
  float max_activation = 0, mean_activation = 0;
  Box field;              // receptive field of the strongest position
};

// layer: a conv (its rectified output is used), pool or ReLU layer; channel: its index.
DeconvResult deconv(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, int layer,
                    int channel, const DeconvOptions& opt);
// The input pixels that can influence position (y, x) of layer's output.
Box receptive_field(const Network& net, int layer, int y, int x);

}  // namespace lrp
