// A constructed atlas for tests: a network whose conv1_1 channel 0 sees a plus, twelve pictures with pluses,
// blocks and lines, and their atlas (explain and app tests).
#pragma once

#include <memory>
#include <vector>

#include "explain/atlas.h"
#include "explain/composite.h"
#include "explain/workspace.h"
#include "model/forward.h"
#include "model/net_util.h"
#include "model/random_weights.h"

namespace lrp::test {

// conv1_1's channel 0 sees a bright plus on a dark ground: +1 on the plus, -1 on the corners of its 3x3 kernel
inline std::shared_ptr<Network> plus_network(uint64_t seed = 11) {
  const VggSpec spec = tiny_spec(32);
  auto t = random_vgg_tensors(spec, seed);
  for (auto& [name, x] : t) {
    if (name == "features.0.weight")
      for (int in = 0; in < 3; ++in)
        for (int k = 0; k < 9; ++k) x[static_cast<std::size_t>(in * 9 + k)] = (k % 2 == 1 || k == 4) ? 1.0f : -1.0f;
    if (name == "features.0.bias") x[0] = 0;
  }
  ModelConfig cfg;
  cfg.name = "plus";
  cfg.height = cfg.width = 32;
  cfg.resize = ResizeMode::Stretch;  // a 32 x 32 picture reaches the network as it is
  return Network::from_tensors(spec, cfg, t);
}

// 32x32 pictures: 0 a plus, 1 a 3x3 block, 2 a vertical line, 3 a horizontal line, 4 a diagonal, at (y, x)
inline Image picture(int kind, int y, int x) {
  Image img;
  img.width = img.height = 32;
  img.rgb.assign(32 * 32 * 3, 0);
  auto dot = [&](int yy, int xx) {
    if (yy >= 0 && xx >= 0 && yy < 32 && xx < 32)
      for (int c = 0; c < 3; ++c) img.rgb[static_cast<std::size_t>((yy * 32 + xx) * 3 + c)] = 255;
  };
  for (int d = -1; d <= 1; ++d) {
    if (kind == 0) dot(y + d, x), dot(y, x + d);
    if (kind == 1) for (int e = -1; e <= 1; ++e) dot(y + d, x + e);
  }
  for (int d = -6; d <= 6; ++d) {
    if (kind == 2) dot(y + d, x);
    if (kind == 3) dot(y, x + d);
    if (kind == 4) dot(y + d, x + d);
  }
  return img;
}

struct Built {
  std::shared_ptr<Network> net;
  std::vector<Image> pictures;
  Atlas atlas;
};

inline Built build(int top = 5) {
  Built b;
  b.net = plus_network();
  const int kinds[] = {1, 0, 2, 3, 0, 4, 1, 0, 2, 3, 0, 4};
  for (int i = 0; i < 12; ++i) b.pictures.push_back(picture(kinds[i], 6 + i * 2, 25 - i * 2));
  AtlasOptions opt;
  opt.top = top;
  AtlasBuilder builder(*b.net, opt);
  Workspace ws;
  ws.set_model(b.net, true);
  const Composite c = Composite::preset("epsilon-plus-flat", *b.net);
  for (int i = 0; i < 12; ++i) {
    ws.set_image(b.pictures[static_cast<std::size_t>(i)], InvertMode::Off);
    ws.start_forward()->run();
    auto ex = ws.explanation(c, ExplainOptions{});
    ex->run();
    builder.add(static_cast<uint32_t>(i), *ws.fwd, *ex);
  }
  b.atlas = builder.finish([&](uint32_t i) {
    ws.set_image(b.pictures[i], InvertMode::Off);
    return ws.pre.view;
  });
  b.atlas.model_name = "plus";
  b.atlas.fingerprint = model_fingerprint(*b.net);
  b.atlas.arch = b.net->spec().arch_name();
  b.atlas.input_shape = b.net->input_shape();
  b.atlas.classes = b.net->num_classes();
  b.atlas.set_kind = "images";
  b.atlas.set_source = "constructed";
  b.atlas.set_count = 12;
  for (int i = 0; i < 12; ++i) b.atlas.names.push_back("p" + std::to_string(i));
  b.atlas.composite = "epsilon-plus-flat";
  return b;
}


}  // namespace lrp::test
