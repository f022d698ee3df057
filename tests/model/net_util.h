// Small VGG networks for tests, and a forward pass built only from the scalar reference kernels.
#pragma once

#include <memory>

#include "engine/conv.h"
#include "engine/linear.h"
#include "engine/pool.h"
#include "model/network.h"
#include "model/random_weights.h"

namespace lrp::test {

inline VggSpec tiny_spec(int in = 32, int channels = 3) {
  VggSpec s = VggSpec::vgg16().scaled(16, 10);
  s.fc = {24, 20, 10};
  s.in_height = s.in_width = in;
  s.in_channels = channels;
  s.avgpool = 0;
  return s;
}

inline std::shared_ptr<Network> tiny_network(uint64_t seed = 3, VggSpec spec = tiny_spec()) {
  auto t = random_vgg_tensors(spec, seed);
  // give the biases values too, so the bias paths are exercised
  uint64_t stream = 500;
  for (auto& [n, x] : t)
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0) fill_normal(x, seed, stream++, 0.1f);
  ModelConfig cfg;
  cfg.name = "tiny";
  return Network::from_tensors(spec, cfg, t);
}

// Logits from plain loops, layer by layer.
inline std::vector<float> reference_forward(const Network& net, const Tensor& input) {
  std::vector<float> x(input.data(), input.data() + input.size());
  for (const Layer& l : net.layers()) {
    std::vector<float> y(Tensor::count(l.out_shape));
    switch (l.kind) {
      case LayerKind::Conv: conv2d_reference(l.conv, x.data(), l.dense_weight().data(), l.bias.data(), y.data()); break;
      case LayerKind::Linear:
        linear_reference(l.dense_weight().data(), l.bias.data(), l.out_shape[0], l.in_shape[0], x.data(), 1, y.data());
        break;
      case LayerKind::ReLU:
        for (std::size_t i = 0; i < y.size(); ++i) y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
      case LayerKind::MaxPool: maxpool2d_reference(l.pool, x.data(), y.data(), nullptr); break;
      case LayerKind::AvgPool:
        adaptive_avgpool2d(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out, x.data(), y.data());
        break;
      case LayerKind::Flatten: y = x; break;
    }
    x = std::move(y);
  }
  return x;
}

}  // namespace lrp::test
