// What a model expects of its input and what its outputs mean: read from the safetensors metadata key
// "lrpscope.config" (JSON), or ImageNet conventions when the key is absent.
#pragma once

#include <string>
#include <vector>

namespace lrp {

enum class ColorOrder { RGB, BGR, Gray };
// ShorterCrop: resize the shorter side to resize_shorter, center-crop (torchvision ImageNet convention).
// Stretch: resize to the input size. Fit: keep the aspect ratio inside content_size, center, pad with the
// background to the input size (the Fashion-MNIST convention: 28x28 content padded to 32x32).
enum class ResizeMode { ShorterCrop, Stretch, Fit };

struct ModelConfig {
  std::string name = "vgg16";
  int channels = 3, height = 224, width = 224;
  ColorOrder color = ColorOrder::RGB;
  float scale = 1.0f / 255.0f;  // pixel byte -> value before mean/std
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> stdev{0.229f, 0.224f, 0.225f};
  ResizeMode resize = ResizeMode::ShorterCrop;
  int resize_shorter = 256;
  int content_size = 0;          // Fit mode: size of the content box (0 = the input size)
  bool dark_background = false;  // trained on light objects on a dark background
  std::string note;
  std::vector<std::string> labels;
  bool from_metadata = false;

  static ModelConfig imagenet();
  // Parses and validates the "lrpscope.config" JSON; missing fields keep ImageNet defaults.
  static ModelConfig from_json(const std::string& json);
  std::string to_json() const;
  std::string describe() const;  // one line for `lrpscope info`

  // The normalised value of a raw pixel value v in [0,1] for channel c: (v - mean) / std.
  float normalise(int c, float v) const;
};

const char* color_name(ColorOrder c);
const char* resize_name(ResizeMode m);

}  // namespace lrp
