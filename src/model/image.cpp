#include "model/image.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "engine/error.h"

#include <stb/stb_image_resize.h>

namespace lrp {

float border_brightness(const Image& img) {
  const int bw = std::max(1, img.width / 10), bh = std::max(1, img.height / 10);
  double s = 0;
  long n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      if (y >= bh && y < img.height - bh && x >= bw && x < img.width - bw) continue;
      const uint8_t* p = &img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3];
      s += (p[0] * 0.299 + p[1] * 0.587 + p[2] * 0.114) / 255.0;
      ++n;
    }
  return n ? static_cast<float>(s / n) : 0.0f;
}

namespace {

// Planar float image in [0,1].
struct Planes {
  int w = 0, h = 0, c = 0;
  std::vector<float> v;  // c planes of h*w
  float* plane(int i) { return v.data() + static_cast<std::size_t>(i) * w * h; }
  static Planes sized(int w, int h, int c) {
    Planes p;
    p.w = w, p.h = h, p.c = c;
    p.v.resize(static_cast<std::size_t>(w) * h * c);
    return p;
  }
};

Planes resize(Planes& src, int nw, int nh) {
  Planes dst;
  dst.w = nw;
  dst.h = nh;
  dst.c = src.c;
  dst.v.resize(static_cast<std::size_t>(nw) * nh * src.c);
  if (nw == src.w && nh == src.h) {
    dst.v = src.v;
    return dst;
  }
  for (int i = 0; i < src.c; ++i) {
    // Triangle filter: bilinear when upsampling, an antialiasing tent when downsampling (like PIL's bilinear).
    if (!stbir_resize_float_generic(src.plane(i), src.w, src.h, 0, dst.plane(i), nw, nh, 0, 1, STBIR_ALPHA_CHANNEL_NONE,
                                    0, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr))
      throw Error("image resize failed");
  }
  return dst;
}

// Mean brightness (0..1) of the opaque part of a picture with alpha.
float object_brightness(const Image& img) {
  double s = 0, n = 0;
  for (std::size_t i = 0; i < img.alpha.size(); ++i) {
    const uint8_t* p = &img.rgb[i * 3];
    const double a = img.alpha[i] / 255.0;
    s += a * (p[0] * 0.299 + p[1] * 0.587 + p[2] * 0.114) / 255.0;
    n += a;
  }
  return n > 0 ? static_cast<float>(s / n) : 0.0f;
}

// How much preprocessing shrinks a w x h picture (the scale of its resize step).
double resize_scale(int w, int h, const ModelConfig& cfg) {
  if (cfg.resize == ResizeMode::ShorterCrop) return static_cast<double>(cfg.resize_shorter) / std::min(w, h);
  if (cfg.resize == ResizeMode::Fit) {
    const int box = cfg.content_size > 0 ? cfg.content_size : std::min(cfg.width, cfg.height);
    return std::min(static_cast<double>(box) / w, static_cast<double>(box) / h);
  }
  return std::max(static_cast<double>(cfg.width) / w, static_cast<double>(cfg.height) / h);
}

// The last steps of preparing a picture: the planes (model size, values in [0,1]) clamped, shown as the view and
// normalised into the tensor the model eats.
void finish(Planes& fin, const ModelConfig& cfg, Preprocessed& out) {
  const int W = cfg.width, H = cfg.height;
  for (float& v : fin.v) v = std::clamp(v, 0.0f, 1.0f);

  // The view image, before normalisation.
  out.view.width = W;
  out.view.height = H;
  out.view.rgb.resize(static_cast<std::size_t>(W) * H * 3);
  const std::size_t m = static_cast<std::size_t>(W) * H;
  for (std::size_t i = 0; i < m; ++i)
    for (int c = 0; c < 3; ++c) {
      const float v = fin.v[(fin.c == 1 ? 0 : static_cast<std::size_t>(c)) * m + i];
      out.view.rgb[i * 3 + c] = static_cast<uint8_t>(std::lround(v * 255.0f));
    }

  // Tensor: channel order, scale and mean/std.
  out.tensor = Tensor({cfg.channels, H, W});
  const float to_raw = 255.0f * cfg.scale;  // value in [0,1] -> the units mean/std are given in
  for (int c = 0; c < cfg.channels; ++c) {
    int src = c;
    if (cfg.color == ColorOrder::BGR) src = 2 - c;
    if (fin.c == 1) src = 0;
    const float* sp = fin.plane(src);
    float* dp = out.tensor.data() + static_cast<std::size_t>(c) * m;
    for (std::size_t i = 0; i < m; ++i) dp[i] = cfg.normalise(c, sp[i] * to_raw);
  }
}

}  // namespace

Preprocessed preprocess(const Image& original, const ModelConfig& cfg, const PreprocessOptions& opt) {
  require(!original.empty() && original.width > 0 && original.height > 0, "image is empty");
  require(original.rgb.size() == static_cast<std::size_t>(original.width) * original.height * 3 &&
              (original.alpha.empty() || original.alpha.size() == static_cast<std::size_t>(original.width) * original.height),
          "image buffers do not match its size");
  Preprocessed out;
  out.greyscale = cfg.color == ColorOrder::Gray;
  const bool has_alpha = !original.alpha.empty();
  bool invert = opt.invert == InvertMode::On;
  if (opt.invert == InvertMode::Auto)
    invert = cfg.dark_background && (has_alpha ? object_brightness(original) < 0.5f : border_brightness(original) > 0.5f);
  out.inverted = invert;
  // transparent parts become the background the model expects: dark after any inversion for a model trained on
  // dark backgrounds, otherwise white (what a page shows behind a transparent picture)
  const float bg = cfg.dark_background ? (invert ? 1.0f : 0.0f) : 1.0f;
  if (has_alpha) out.background = static_cast<int>(bg * 255);

  // A picture far larger than the model needs (and big) is first reduced by area averaging to twice the size its
  // resize step makes, so that the float planes below stay small; smaller pictures go through untouched.
  Image reduced;
  const Image* src = &original;
  const double sc = resize_scale(original.width, original.height, cfg);
  if (static_cast<long long>(original.width) * original.height > 1'000'000 && sc < 0.25) {
    const int rw = std::clamp(static_cast<int>(std::lround(original.width * 2 * sc)), 1, original.width);
    const int rh = std::clamp(static_cast<int>(std::lround(original.height * 2 * sc)), 1, original.height);
    reduced = reduce_image(original, rw, rh);
    src = &reduced;
  }
  const Image& img = *src;

  Planes p = Planes::sized(img.width, img.height, out.greyscale ? 1 : 3);
  const std::size_t n = static_cast<std::size_t>(p.w) * p.h;
  for (std::size_t i = 0; i < n; ++i) {
    const uint8_t* px = &img.rgb[i * 3];
    float rgb[3] = {px[0] / 255.0f, px[1] / 255.0f, px[2] / 255.0f};
    if (has_alpha) {
      const float a = img.alpha[i] / 255.0f;
      for (float& v : rgb) v = a * v + (1.0f - a) * bg;
    }
    if (out.greyscale) {
      // ITU-R 601 luma, as PIL's convert("L")
      float g = has_alpha ? rgb[0] * 0.299f + rgb[1] * 0.587f + rgb[2] * 0.114f
                          : (px[0] * 299 + px[1] * 587 + px[2] * 114) / 1000.0f / 255.0f;
      p.v[i] = invert ? 1.0f - g : g;
    } else {
      for (int c = 0; c < 3; ++c) p.v[static_cast<std::size_t>(c) * n + i] = invert ? 1.0f - rgb[c] : rgb[c];
    }
  }

  const int W = cfg.width, H = cfg.height;
  Planes fin;
  if (cfg.resize == ResizeMode::ShorterCrop) {
    const int sh = cfg.resize_shorter;
    int nw, nh;
    if (p.w <= p.h) {
      nw = sh;
      nh = static_cast<int>(static_cast<long long>(sh) * p.h / p.w);
    } else {
      nh = sh;
      nw = static_cast<int>(static_cast<long long>(sh) * p.w / p.h);
    }
    nw = std::max(nw, W);
    nh = std::max(nh, H);
    // round half to even, like torchvision's int(round((h - crop) / 2.0)) in Python 3
    const int top = static_cast<int>(std::nearbyint((nh - H) / 2.0));
    const int left = static_cast<int>(std::nearbyint((nw - W) / 2.0));
    // Resize only the region that survives the crop (the same samples as resizing everything and cropping, without
    // allocating the whole resized image: a 3 x 16000 strip would otherwise need gigabytes).
    fin.w = W;
    fin.h = H;
    fin.c = p.c;
    fin.v.resize(static_cast<std::size_t>(W) * H * p.c);
    const float s0 = static_cast<float>(left) / nw, s1 = static_cast<float>(left + W) / nw;
    const float t0 = static_cast<float>(top) / nh, t1 = static_cast<float>(top + H) / nh;
    for (int c = 0; c < p.c; ++c)
      if (!stbir_resize_region(p.plane(c), p.w, p.h, 0, fin.plane(c), W, H, 0, STBIR_TYPE_FLOAT, 1,
                               STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE,
                               STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr, s0, t0, s1, t1))
        throw Error("image resize failed");
  } else if (cfg.resize == ResizeMode::Fit) {
    const int box = cfg.content_size > 0 ? cfg.content_size : std::min(W, H);
    const double sc = std::min(static_cast<double>(box) / p.w, static_cast<double>(box) / p.h);
    const int nw = std::max(1, static_cast<int>(std::lround(p.w * sc)));
    const int nh = std::max(1, static_cast<int>(std::lround(p.h * sc)));
    Planes r = resize(p, nw, nh);
    fin.w = W;
    fin.h = H;
    fin.c = r.c;
    fin.v.assign(static_cast<std::size_t>(W) * H * r.c, 0.0f);  // background: 0 (dark) after any inversion
    const int top = (H - nh) / 2, left = (W - nw) / 2;
    for (int c = 0; c < r.c; ++c)
      for (int y = 0; y < nh; ++y)
        std::copy(r.plane(c) + static_cast<std::size_t>(y) * nw, r.plane(c) + static_cast<std::size_t>(y + 1) * nw,
                  fin.plane(c) + static_cast<std::size_t>(top + y) * W + left);
  } else {
    fin = resize(p, W, H);
  }
  finish(fin, cfg, out);
  return out;
}

Preprocessed preprocess_view(const Image& view, const ModelConfig& cfg) {
  if (view.width != cfg.width || view.height != cfg.height)
    throw Error("a picture as the model sees it must be " + std::to_string(cfg.width) + "x" + std::to_string(cfg.height) +
                " pixels, not " + std::to_string(view.width) + "x" + std::to_string(view.height));
  require(view.rgb.size() == static_cast<std::size_t>(view.width) * view.height * 3, "image buffer size mismatch");
  Preprocessed out;
  out.greyscale = cfg.color == ColorOrder::Gray;
  Planes fin = Planes::sized(view.width, view.height, out.greyscale ? 1 : 3);
  const std::size_t n = static_cast<std::size_t>(fin.w) * fin.h;
  for (int c = 0; c < fin.c; ++c)
    for (std::size_t i = 0; i < n; ++i) fin.v[static_cast<std::size_t>(c) * n + i] = view.rgb[i * 3 + c] / 255.0f;
  finish(fin, cfg, out);
  return out;
}

}  // namespace lrp
