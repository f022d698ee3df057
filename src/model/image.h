// Images: decoding (PNG, JPEG, BMP, GIF, ... via stb_image), and the preprocessing that turns a photo into the
// tensor a model expects (resize / crop / fit, colour order, greyscale, optional inversion, mean/std).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/model_config.h"

namespace lrp {

// 8-bit RGB, row-major.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  bool empty() const { return rgb.empty(); }
};

constexpr long long kMaxImagePixels = 50'000'000;  // refuse larger images before decoding them

Image decode_image(const uint8_t* data, std::size_t size);
Image load_image(const std::string& path);
void save_png(const std::string& path, const Image& img);
std::vector<uint8_t> encode_png(const Image& img);

enum class InvertMode { Auto, On, Off };

struct PreprocessOptions {
  InvertMode invert = InvertMode::Auto;  // Auto: invert when the model wants a dark background and the photo is light
};

struct Preprocessed {
  Tensor tensor;   // C,H,W normalised, what the model eats
  Image view;      // the same pixels as an RGB image at the model's input size (what the model "sees")
  bool inverted = false;
  bool greyscale = false;
};

Preprocessed preprocess(const Image& img, const ModelConfig& config, const PreprocessOptions& opt = {});

// Mean brightness (0..1) of the outer 10 % border of an image: decides "light background".
float border_brightness(const Image& img);

}  // namespace lrp
