// Fuzz target: image decoding and preprocessing for an ImageNet and a Fashion-MNIST style model.
#include <cstdint>

#include "engine/error.h"
#include "model/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lrp::ModelConfig imagenet = lrp::ModelConfig::imagenet();
  static const lrp::ModelConfig fashion = lrp::ModelConfig::from_json(
      R"({"input":{"channels":1,"height":32,"width":32},"color":"gray","mean":[0.2],"std":[0.3],)"
      R"("resize":"fit","content_size":28,"background":"dark"})");
  try {
    lrp::Image img = lrp::decode_image(data, size);
    if (static_cast<long long>(img.width) * img.height <= 4'000'000) {
      auto a = lrp::preprocess(img, fashion);
      auto b = lrp::preprocess(img, imagenet);
      (void)a;
      (void)b;
    }
  } catch (const lrp::Error&) {
  }
  return 0;
}
