// Images: decoding (PNG, JPEG, BMP, GIF, PNM via stb_image 2.30; image_decode.cpp), and the preprocessing that
// turns a photo into the tensor a model expects (resize / crop / fit, colour order, greyscale, optional inversion, mean/std).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/model_config.h"

namespace lrp {

// 8-bit RGB, row-major, with an optional coverage plane (alpha, not premultiplied) when some pixel is transparent.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  std::vector<uint8_t> alpha;               // empty: opaque; otherwise width*height values, 0 transparent, 255 opaque
  int source_width = 0, source_height = 0;  // the picture's own size when it was reduced on decoding (0: it was not)
  bool empty() const { return rgb.empty(); }
  int shown_width() const { return source_width ? source_width : width; }
  int shown_height() const { return source_height ? source_height : height; }
};

constexpr long long kMaxImagePixels = 50'000'000;  // refuse larger images before decoding them
constexpr long long kKeepImagePixels = 1'000'000;  // larger pictures are reduced to this right after decoding

// What the first bytes say a file is (decided by its signature, never by its name).
enum class ImageFormat { Unknown, Png, Jpeg, Bmp, Gif, Pnm, Webp, Avif, Heic, Tiff, Qoi, Svg };
ImageFormat sniff_format(const uint8_t* data, std::size_t size);
const char* format_name(ImageFormat f);
bool decodable(ImageFormat f);  // by this build's own decoder (the page also reads what the browser reads)

// Refuses, with a true message, what cannot be a good picture before any pixel is decoded: an unknown or unread
// format, a size past kMaxImagePixels, a cut or damaged JPEG/GIF/BMP. browser: the page's decoders also read WebP
// and AVIF.
void check_picture(const uint8_t* data, std::size_t size, bool browser);
// Decodes PNG, JPEG, BMP, GIF (first frame) and PNM; turns the picture upright by its EXIF orientation; keeps alpha
// when some pixel is transparent; reduces a picture of more than kKeepImagePixels by area averaging.
Image decode_image(const uint8_t* data, std::size_t size);
Image load_image(const std::string& path);
// RGBA pixels (not premultiplied, upright) as an Image at the kept size, with alpha only when some pixel needs it.
Image image_from_rgba(const uint8_t* rgba, int width, int height);

// The size a picture of w x h pixels is kept at: w x h, or its reduction to at most kKeepImagePixels.
void kept_size(int w, int h, int& kw, int& kh);
// The picture itself when it is within kKeepImagePixels, otherwise its reduction to kept_size.
Image keep_size(Image img);
// Area-average reduction (alpha-weighted when the image has alpha).
Image reduce_image(const Image& img, int w, int h);
// The rows [y0, y1) and columns [x0, x1) of a picture (clamped to it), e.g. a neuron's receptive field.
Image crop_image(const Image& img, int y0, int x0, int y1, int x1);
// EXIF orientation (1..8) of a JPEG's APP1 segment; 1 when it has none or it cannot be read.
int exif_orientation(const uint8_t* data, std::size_t size);
Image apply_orientation(const Image& img, int orientation);

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
  int background = -1;  // transparent parts were filled with this grey level (0 or 255); -1: the picture was opaque
};

Preprocessed preprocess(const Image& img, const ModelConfig& config, const PreprocessOptions& opt = {});
// A picture that already is what the model sees (a Preprocessed::view, e.g. an atlas' reference): normalised only,
// not resized or inverted again. It must have the model's input size (throws otherwise).
Preprocessed preprocess_view(const Image& view, const ModelConfig& config);

// Mean brightness (0..1) of the outer 10 % border of an image: decides "light background".
float border_brightness(const Image& img);

}  // namespace lrp
