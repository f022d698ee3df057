// Decoding pictures: the format by its signature, stb_image 2.30 for the pixels, the EXIF orientation, alpha kept
// only when some pixel is transparent, and big pictures reduced right after decoding (so that what stays in memory
// is at most kKeepImagePixels, whatever the file claims).
#include "model/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "engine/error.h"
#include "model/atomic_file.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

namespace lrp {

namespace {

bool starts(const uint8_t* d, std::size_t n, const char* sig, std::size_t at = 0) {
  const std::size_t k = std::strlen(sig);
  return n >= at + k && std::memcmp(d + at, sig, k) == 0;
}

std::string first_bytes(const uint8_t* d, std::size_t n) {
  std::string s;
  char b[4];
  for (std::size_t i = 0; i < std::min<std::size_t>(n, 8); ++i) {
    std::snprintf(b, sizeof b, i ? " %02x" : "%02x", d[i]);
    s += b;
  }
  return s;
}

std::string megapixels(double px) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", px / 1e6);
  return b;
}

// TIFF structure inside the EXIF segment: IFD0's Orientation tag (0x0112, SHORT).
int tiff_orientation(const uint8_t* t, std::size_t n) {
  if (n < 8) return 1;
  const bool le = t[0] == 'I' && t[1] == 'I';
  if (!le && !(t[0] == 'M' && t[1] == 'M')) return 1;
  auto u16 = [&](std::size_t at) { return le ? t[at] | t[at + 1] << 8 : t[at] << 8 | t[at + 1]; };
  auto u32 = [&](std::size_t at) {
    return le ? static_cast<uint32_t>(u16(at)) | static_cast<uint32_t>(u16(at + 2)) << 16
              : static_cast<uint32_t>(u16(at)) << 16 | static_cast<uint32_t>(u16(at + 2));
  };
  if (u16(2) != 42) return 1;
  const std::size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) return 1;
  const int count = u16(ifd);
  for (int i = 0; i < count; ++i) {
    const std::size_t e = ifd + 2 + 12 * static_cast<std::size_t>(i);
    if (e + 12 > n) break;
    if (u16(e) != 0x0112) continue;
    if (u16(e + 2) != 3) return 1;  // not a SHORT
    const int v = u16(e + 8);
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

uint32_t be16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return static_cast<uint32_t>(p[1]) << 8 | p[0]; }

// The pixel size a header claims, read before the decoder sees the file (to refuse a huge picture by its size).
bool claimed_size(ImageFormat f, const uint8_t* d, std::size_t n, long long& w, long long& h) {
  if (f == ImageFormat::Png && n >= 24 && std::memcmp(d + 12, "IHDR", 4) == 0) {
    w = be32(d + 16);
    h = be32(d + 20);
    return true;
  }
  if (f == ImageFormat::Gif && n >= 10) {
    w = le16(d + 6);
    h = le16(d + 8);
    return true;
  }
  if (f == ImageFormat::Bmp && n >= 26) {
    int32_t bw, bh;
    std::memcpy(&bw, d + 18, 4);
    std::memcpy(&bh, d + 22, 4);
    w = std::llabs(static_cast<long long>(bw));
    h = std::llabs(static_cast<long long>(bh));
    return true;
  }
  if (f == ImageFormat::Jpeg) {
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

// stb_image is lenient where a classifier must not be: a JPEG whose data stops early, or whose markers after the
// frame header are damaged, "decodes" with the missing part made up (zeros, or whatever the heap held); so do a GIF
// without its end and a short BMP. The structure is checked first, so that such a file gets a true message instead.
void check_jpeg(const uint8_t* d, std::size_t n) {
  auto fail = [](const std::string& why) { throw Error("the JPEG is damaged or cut short (" + why + ")"); };
  std::size_t p = 2;
  bool frame = false, scan = false;
  for (;;) {
    if (p >= n) fail(scan ? "its image data stops before the end marker" : "it ends before its image data");
    if (d[p] != 0xFF) fail("bytes where a marker should be");
    while (p < n && d[p] == 0xFF) ++p;  // fill bytes
    if (p >= n) fail("it ends inside a marker");
    const uint8_t m = d[p++];
    if (m == 0xD9) {
      if (!scan) fail("no image data before the end marker");
      return;
    }
    if (m >= 0xD0 && m <= 0xD7) continue;  // a stray restart marker
    if (n - p < 2) fail("it ends inside a segment header");
    const std::size_t len = be16(d + p);
    if (len < 2 || len > n - p) fail("a segment runs past the end of the file");
    const uint8_t* seg = d + p + 2;
    const std::size_t L = len - 2;
    if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
      if (L < 6 || L != 6 + 3 * static_cast<std::size_t>(seg[5])) fail("a bad frame header");
      frame = true;
    } else if (m == 0xC4) {
      std::size_t q = 0;
      while (q < L) {
        if (L - q < 17 || (seg[q] >> 4) > 1 || (seg[q] & 15) > 3) fail("a bad Huffman table");
        std::size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += seg[q + static_cast<std::size_t>(i)];
        if (codes > 256 || L - q - 17 < codes) fail("a Huffman table with more codes than it can hold");
        q += 17 + codes;
      }
    } else if (m == 0xDB) {
      std::size_t q = 0;
      while (q < L) {
        const int precision = seg[q] >> 4;
        if (precision > 1 || (seg[q] & 15) > 3 || L - q < 65u + 64u * precision) fail("a bad quantisation table");
        q += 65 + 64 * precision;
      }
    } else if (m == 0xDD) {
      if (L != 2) fail("a bad restart interval");
    } else if (m == 0xDA) {
      if (!frame) fail("image data before the frame header");
      if (L < 1 || L != 4 + 2 * static_cast<std::size_t>(seg[0])) fail("a bad scan header");
      scan = true;
      // the entropy-coded data runs to the next marker (0xFF then neither 0x00, a restart marker nor a fill byte)
      std::size_t q = p + len;
      for (;;) {
        while (q < n && d[q] != 0xFF) ++q;
        if (q + 1 >= n) fail("its image data stops before the end marker");
        const uint8_t b = d[q + 1];
        if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) {
          q += 2;
          continue;
        }
        if (b == 0xFF) {
          ++q;
          continue;
        }
        break;
      }
      p = q;
      continue;
    } else if (m == 0xC3 || (m >= 0xC5 && m <= 0xCF)) {
      throw Error("the JPEG uses a kind of coding lrpscope does not read (lossless, hierarchical or arithmetic); "
                  "save it again as an ordinary JPEG or PNG");
    } else if (!((m >= 0xE0 && m <= 0xEF) || m == 0xFE || m == 0xDC)) {
      fail("an unknown marker");
    }
    p += len;
  }
}

void check_complete(ImageFormat f, const uint8_t* d, std::size_t n) {
  if (f == ImageFormat::Jpeg) check_jpeg(d, n);
  if (f == ImageFormat::Gif) {
    bool trailer = false;
    for (std::size_t i = n; i > 0 && i + 16 > n && !trailer; --i) trailer = d[i - 1] == 0x3B;
    if (!trailer) throw Error("the GIF is cut short (it has no end marker)");
  }
  if (f == ImageFormat::Bmp && n >= 34) {
    uint32_t offset, compression;
    int32_t bw, bh;
    uint16_t bpp;
    std::memcpy(&offset, d + 10, 4);
    std::memcpy(&bw, d + 18, 4);
    std::memcpy(&bh, d + 22, 4);
    std::memcpy(&bpp, d + 28, 2);
    std::memcpy(&compression, d + 30, 4);
    if ((compression == 0 || compression == 3) && bw > 0 && bpp > 0 && bpp <= 32) {
      const double stride = std::floor((static_cast<double>(bw) * bpp + 31) / 32) * 4;
      if (static_cast<double>(offset) + stride * std::fabs(static_cast<double>(bh)) > static_cast<double>(n))
        throw Error("the BMP is cut short (its pixels need more bytes than the file has)");
    }
  }
}

Error too_big(const char* format, double w, double h) {
  char b[160];
  std::snprintf(b, sizeof b, "the %s is %.0fx%.0f pixels (%s megapixels), more than the limit of %s", format, w, h,
                megapixels(w * h).c_str(), megapixels(kMaxImagePixels).c_str());
  return Error(b);
}

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "no reason given";
}

}  // namespace

ImageFormat sniff_format(const uint8_t* d, std::size_t n) {
  if (starts(d, n, "\x89PNG\r\n\x1a\n")) return ImageFormat::Png;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (starts(d, n, "GIF87a") || starts(d, n, "GIF89a")) return ImageFormat::Gif;
  if (starts(d, n, "BM") && n >= 14) return ImageFormat::Bmp;
  if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' && std::isspace(d[2])) return ImageFormat::Pnm;
  if (starts(d, n, "RIFF") && starts(d, n, "WEBP", 8)) return ImageFormat::Webp;
  if (starts(d, n, "ftyp", 4)) {
    if (starts(d, n, "avif", 8) || starts(d, n, "avis", 8)) return ImageFormat::Avif;
    if (starts(d, n, "heic", 8) || starts(d, n, "heix", 8) || starts(d, n, "mif1", 8) || starts(d, n, "msf1", 8))
      return ImageFormat::Heic;
  }
  if (n >= 4 && (std::memcmp(d, "II*\0", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0)) return ImageFormat::Tiff;
  if (starts(d, n, "qoif")) return ImageFormat::Qoi;
  std::size_t i = 0;
  while (i < n && i < 64 && std::isspace(d[i])) ++i;
  if (starts(d + i, n - i, "<svg") || starts(d + i, n - i, "<?xml")) return ImageFormat::Svg;
  return ImageFormat::Unknown;
}

const char* format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Png: return "PNG";
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Bmp: return "BMP";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Pnm: return "PPM/PGM";
    case ImageFormat::Webp: return "WebP";
    case ImageFormat::Avif: return "AVIF";
    case ImageFormat::Heic: return "HEIC";
    case ImageFormat::Tiff: return "TIFF";
    case ImageFormat::Qoi: return "QOI";
    case ImageFormat::Svg: return "SVG";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

bool decodable(ImageFormat f) {
  return f == ImageFormat::Png || f == ImageFormat::Jpeg || f == ImageFormat::Bmp || f == ImageFormat::Gif ||
         f == ImageFormat::Pnm;
}

int exif_orientation(const uint8_t* d, std::size_t n) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return 1;
  std::size_t p = 2;
  while (p + 4 <= n) {
    if (d[p] != 0xFF) return 1;
    const uint8_t m = d[p + 1];
    if (m == 0xFF) {  // fill byte
      ++p;
      continue;
    }
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // markers without a length
      p += 2;
      continue;
    }
    if (m == 0xDA || m == 0xD9) return 1;  // the image data starts: no EXIF before it
    const std::size_t len = static_cast<std::size_t>(d[p + 2]) << 8 | d[p + 3];
    if (len < 2 || len > n - p - 2) return 1;
    if (m == 0xE1 && len >= 8 && std::memcmp(d + p + 4, "Exif\0\0", 6) == 0) return tiff_orientation(d + p + 10, len - 8);
    p += 2 + len;
  }
  return 1;
}

Image apply_orientation(const Image& img, int o) {
  if (o <= 1 || o > 8) return img;
  const int w = img.width, h = img.height;
  const bool swap = o >= 5;
  Image out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.source_width = swap ? img.source_height : img.source_width;
  out.source_height = swap ? img.source_width : img.source_height;
  out.rgb.resize(img.rgb.size());
  out.alpha.resize(img.alpha.size());
  const bool has_alpha = !img.alpha.empty();
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (o) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
      }
      const std::size_t s = static_cast<std::size_t>(sy) * w + sx, t = static_cast<std::size_t>(y) * out.width + x;
      std::memcpy(&out.rgb[t * 3], &img.rgb[s * 3], 3);
      if (has_alpha) out.alpha[t] = img.alpha[s];
    }
  return out;
}

void kept_size(int w, int h, int& kw, int& kh) {
  kw = w;
  kh = h;
  const double px = static_cast<double>(w) * h;
  if (px <= kKeepImagePixels) return;
  const double s = std::sqrt(kKeepImagePixels / px);
  kw = std::max(1, static_cast<int>(w * s));
  kh = std::max(1, static_cast<int>(h * s));
}

// Each output pixel is the mean of the source area it covers; one output row at a time, so that the extra memory is
// a row, not a picture. With alpha, colours are weighted by coverage (a transparent pixel's colour counts for nothing).
Image crop_image(const Image& img, int y0, int x0, int y1, int x1) {
  y0 = std::clamp(y0, 0, img.height);
  y1 = std::clamp(y1, y0, img.height);
  x0 = std::clamp(x0, 0, img.width);
  x1 = std::clamp(x1, x0, img.width);
  Image c;
  c.width = x1 - x0;
  c.height = y1 - y0;
  c.rgb.reserve(static_cast<std::size_t>(c.width) * c.height * 3);
  for (int y = y0; y < y1; ++y) {
    const uint8_t* row = img.rgb.data() + (static_cast<std::size_t>(y) * img.width + x0) * 3;
    c.rgb.insert(c.rgb.end(), row, row + static_cast<std::size_t>(c.width) * 3);
    if (!img.alpha.empty()) {
      const uint8_t* a = img.alpha.data() + static_cast<std::size_t>(y) * img.width + x0;
      c.alpha.insert(c.alpha.end(), a, a + c.width);
    }
  }
  return c;
}

Image reduce_image(const Image& img, int kw, int kh) {
  require(kw >= 1 && kh >= 1 && kw <= img.width && kh <= img.height, "reduce_image: bad size");
  if (kw == img.width && kh == img.height) return img;
  const int w = img.width, h = img.height;
  const bool has_alpha = !img.alpha.empty();
  Image out;
  out.width = kw;
  out.height = kh;
  out.source_width = img.shown_width();
  out.source_height = img.shown_height();
  out.rgb.resize(static_cast<std::size_t>(kw) * kh * 3);
  if (has_alpha) out.alpha.resize(static_cast<std::size_t>(kw) * kh);
  const double fx = static_cast<double>(w) / kw, fy = static_cast<double>(h) / kh;
  std::vector<double> row(static_cast<std::size_t>(kw) * 4), acc(row.size());
  for (int oy = 0; oy < kh; ++oy) {
    std::fill(acc.begin(), acc.end(), 0.0);
    const double y0 = oy * fy, y1 = (oy + 1) * fy;
    for (int sy = static_cast<int>(y0); sy < h && sy < y1; ++sy) {
      const double wy = std::min<double>(sy + 1, y1) - std::max<double>(sy, y0);
      if (wy <= 0) continue;
      const uint8_t* src = &img.rgb[static_cast<std::size_t>(sy) * w * 3];
      const uint8_t* sa = has_alpha ? &img.alpha[static_cast<std::size_t>(sy) * w] : nullptr;
      for (int ox = 0; ox < kw; ++ox) {
        const double x0 = ox * fx, x1 = (ox + 1) * fx;
        double r = 0, g = 0, b = 0, a = 0;
        for (int sx = static_cast<int>(x0); sx < w && sx < x1; ++sx) {
          const double wx = std::min<double>(sx + 1, x1) - std::max<double>(sx, x0);
          const double c = wx * (sa ? sa[sx] / 255.0 : 1.0);
          r += c * src[sx * 3];
          g += c * src[sx * 3 + 1];
          b += c * src[sx * 3 + 2];
          a += c;
        }
        double* q = &acc[static_cast<std::size_t>(ox) * 4];
        q[0] += wy * r;
        q[1] += wy * g;
        q[2] += wy * b;
        q[3] += wy * a;
      }
    }
    const double area = fx * fy;
    for (int ox = 0; ox < kw; ++ox) {
      const double* q = &acc[static_cast<std::size_t>(ox) * 4];
      uint8_t* d = &out.rgb[(static_cast<std::size_t>(oy) * kw + ox) * 3];
      for (int c = 0; c < 3; ++c) d[c] = static_cast<uint8_t>(std::clamp(std::lround(q[3] > 0 ? q[c] / q[3] : 0.0), 0L, 255L));
      if (has_alpha)
        out.alpha[static_cast<std::size_t>(oy) * kw + ox] =
            static_cast<uint8_t>(std::clamp(std::lround(255.0 * q[3] / area), 0L, 255L));
    }
  }
  return out;
}

Image keep_size(Image img) {
  int kw, kh;
  kept_size(img.width, img.height, kw, kh);
  return kw == img.width && kh == img.height ? img : reduce_image(img, kw, kh);
}

Image image_from_rgba(const uint8_t* rgba, int w, int h) {
  require(rgba && w > 0 && h > 0, "the picture has no pixels");
  require(static_cast<long long>(w) * h <= kMaxImagePixels,
          "the picture is " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than the limit of " +
              megapixels(kMaxImagePixels) + " megapixels");
  Image img;
  img.width = w;
  img.height = h;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  img.rgb.resize(n * 3);
  bool transparent = false;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&img.rgb[i * 3], rgba + i * 4, 3);
    transparent |= rgba[i * 4 + 3] != 255;
  }
  if (transparent) {
    img.alpha.resize(n);
    for (std::size_t i = 0; i < n; ++i) img.alpha[i] = rgba[i * 4 + 3];
  }
  return keep_size(std::move(img));
}

void check_picture(const uint8_t* data, std::size_t size, bool browser) {
  if (size == 0) throw Error("the file is empty (0 bytes)");
  if (size > static_cast<std::size_t>(1) << 30) throw Error("the file is larger than 1 GB");
  const ImageFormat f = sniff_format(data, size);
  const bool browser_reads = f == ImageFormat::Webp || f == ImageFormat::Avif;
  if (f == ImageFormat::Unknown)
    throw Error(std::string("not a picture lrpscope can read (PNG, JPEG, BMP, GIF, PPM/PGM") +
                (browser ? ", WebP, AVIF" : "") + "); the file starts with " + first_bytes(data, size));
  if (!decodable(f) && !(browser && browser_reads))
    throw Error(std::string("this is a ") + format_name(f) + " picture: " +
                (browser || !browser_reads ? "convert it to PNG or JPEG first"
                                           : "the web page opens it (the browser decodes it); here, convert it to PNG "
                                             "or JPEG first"));
  if (f == ImageFormat::Pnm && data[1] != '5' && data[1] != '6')
    throw Error(std::string("this PPM/PGM is of kind P") + static_cast<char>(data[1]) +
                "; lrpscope reads the binary kinds P5 (grey) and P6 (colour)");
  long long cw = 0, chh = 0;
  if (claimed_size(f, data, size, cw, chh) && static_cast<double>(cw) * chh > kMaxImagePixels)
    throw too_big(format_name(f), cw, chh);
  check_complete(f, data, size);
}

Image decode_image(const uint8_t* data, std::size_t size) {
  check_picture(data, size, false);
  const ImageFormat f = sniff_format(data, size);
  const std::string what = std::string("the ") + format_name(f);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &comp))
    throw Error(what + " is damaged or cut short (" + stb_reason() + ")");
  if (w <= 0 || h <= 0) throw Error(what + " has no pixels");
  if (static_cast<long long>(w) * h > kMaxImagePixels) throw too_big(format_name(f), w, h);
  const bool want_alpha = comp == 2 || comp == 4 || f == ImageFormat::Gif;
  const int ch = want_alpha ? 4 : 3;
  std::unique_ptr<unsigned char, void (*)(void*)> px(stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &comp, ch),
                                                      stbi_image_free);
  if (!px) throw Error(what + " is damaged or cut short (" + stb_reason() + ")");
  Image img;
  if (want_alpha) {
    img = image_from_rgba(px.get(), w, h);
  } else {
    img.width = w;
    img.height = h;
    img.rgb.assign(px.get(), px.get() + static_cast<std::size_t>(w) * h * 3);
    px.reset();
    img = keep_size(std::move(img));
  }
  if (f == ImageFormat::Jpeg) img = apply_orientation(img, exif_orientation(data, size));
  return img;
}

Image load_image(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw Error("cannot open image '" + path + "'");
  const auto n = file.tellg();
  if (n < 0) throw Error("cannot read image '" + path + "'");
  if (n > (1LL << 30)) throw Error("image file '" + path + "' is larger than 1 GB");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(n));
  file.seekg(0);
  if (n > 0 && !file.read(reinterpret_cast<char*>(bytes.data()), n)) throw Error("cannot read image '" + path + "'");
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

}  // namespace lrp
