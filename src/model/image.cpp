#include "model/image.h"
#include "model/atomic_file.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/error.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

namespace lrp {

namespace {

uint32_t be16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return static_cast<uint32_t>(p[1]) << 8 | p[0]; }

// Reads the pixel size from PNG, GIF, BMP and JPEG headers, to refuse huge images by name before decoding.
bool sniff_size(const uint8_t* d, std::size_t n, long long& w, long long& h) {
  if (n >= 24 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0 && std::memcmp(d + 12, "IHDR", 4) == 0) {
    w = be32(d + 16);
    h = be32(d + 20);
    return true;
  }
  if (n >= 10 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
    w = le16(d + 6);
    h = le16(d + 8);
    return true;
  }
  if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
    int32_t bw, bh;
    std::memcpy(&bw, d + 18, 4);
    std::memcpy(&bh, d + 22, 4);
    w = std::llabs(static_cast<long long>(bw));
    h = std::llabs(static_cast<long long>(bh));
    return true;
  }
  if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
    std::size_t p = 2;
    while (p + 9 < n) {
      if (d[p] != 0xFF) return false;
      const uint8_t m = d[p + 1];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
        h = be16(d + p + 5);
        w = be16(d + p + 7);
        return true;
      }
      p += 2 + be16(d + p + 2);
    }
  }
  return false;
}

}  // namespace

Image decode_image(const uint8_t* data, std::size_t size) {
  if (size == 0) throw Error("image is empty (0 bytes)");
  if (size > static_cast<std::size_t>(1) << 30) throw Error("image file is larger than 1 GB");
  long long sw = 0, sh = 0;
  if (sniff_size(data, size, sw, sh) && static_cast<double>(sw) * static_cast<double>(sh) > kMaxImagePixels)
    throw Error("image is " + std::to_string(sw) + "x" + std::to_string(sh) + " pixels, more than the limit of " +
                std::to_string(kMaxImagePixels / 1000000) + " megapixels");
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &comp))
    throw Error(std::string("cannot decode image: ") + (stbi_failure_reason() ? stbi_failure_reason() : "unknown format"));
  if (w <= 0 || h <= 0) throw Error("image has no pixels");
  if (static_cast<long long>(w) * h > kMaxImagePixels)
    throw Error("image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than the limit of " +
                std::to_string(kMaxImagePixels / 1000000) + " megapixels");
  unsigned char* px = stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &comp, 3);
  if (!px)
    throw Error(std::string("cannot decode image: ") + (stbi_failure_reason() ? stbi_failure_reason() : "corrupt data"));
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(px, px + static_cast<std::size_t>(w) * h * 3);
  stbi_image_free(px);
  return img;
}

Image load_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error("cannot open image '" + path + "'");
  const auto n = f.tellg();
  if (n < 0) throw Error("cannot read image '" + path + "'");
  if (n > (1LL << 30)) throw Error("image file '" + path + "' is larger than 1 GB");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(n));
  f.seekg(0);
  if (n > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), n)) throw Error("cannot read image '" + path + "'");
  try {
    return decode_image(bytes.data(), bytes.size());
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what());
  }
}

static void append_bytes(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

std::vector<uint8_t> encode_png(const Image& img) {
  std::vector<uint8_t> out;
  if (!stbi_write_png_to_func(append_bytes, &out, img.width, img.height, 3, img.rgb.data(), img.width * 3))
    throw Error("cannot encode PNG");
  return out;
}

void save_png(const std::string& path, const Image& img) {
  const auto bytes = encode_png(img);
  write_file_atomic(path, bytes.data(), bytes.size());
}

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

}  // namespace

Preprocessed preprocess(const Image& img, const ModelConfig& cfg, const PreprocessOptions& opt) {
  require(!img.empty() && img.width > 0 && img.height > 0, "image is empty");
  Preprocessed out;
  out.greyscale = cfg.color == ColorOrder::Gray;
  bool invert = opt.invert == InvertMode::On;
  if (opt.invert == InvertMode::Auto) invert = cfg.dark_background && border_brightness(img) > 0.5f;
  out.inverted = invert;

  Planes p;
  p.w = img.width;
  p.h = img.height;
  p.c = out.greyscale ? 1 : 3;
  p.v.resize(static_cast<std::size_t>(p.w) * p.h * p.c);
  const std::size_t n = static_cast<std::size_t>(p.w) * p.h;
  for (std::size_t i = 0; i < n; ++i) {
    const uint8_t* px = &img.rgb[i * 3];
    if (out.greyscale) {
      // ITU-R 601 luma, as PIL's convert("L")
      float g = (px[0] * 299 + px[1] * 587 + px[2] * 114) / 1000.0f / 255.0f;
      p.v[i] = invert ? 1.0f - g : g;
    } else {
      for (int c = 0; c < 3; ++c) {
        float v = px[c] / 255.0f;
        p.v[static_cast<std::size_t>(c) * n + i] = invert ? 1.0f - v : v;
      }
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
  return out;
}

}  // namespace lrp
