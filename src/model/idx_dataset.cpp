#include "model/idx_dataset.h"

#include <cstdlib>
#include <fstream>
#include <stb/stb_image.h>

#include "engine/error.h"
#include "model/image.h"

namespace lrp {

Image idx_image(const IdxImages& set, int i) {
  require(i >= 0 && i < set.count, "idx_image: no image " + std::to_string(i));
  Image img;
  img.width = set.cols;
  img.height = set.rows;
  img.rgb.resize(static_cast<std::size_t>(set.rows) * set.cols * 3);
  const uint8_t* px = set.pixels.data() + static_cast<std::size_t>(i) * set.rows * set.cols;
  for (int p = 0; p < set.rows * set.cols; ++p)
    for (int c = 0; c < 3; ++c) img.rgb[static_cast<std::size_t>(p) * 3 + c] = px[p];
  return img;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz) {
  if (gz.size() < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) throw Error("not a gzip file");
  const uint8_t flags = gz[3];
  std::size_t p = 10;
  if (flags & 4) {  // FEXTRA
    if (p + 2 > gz.size()) throw Error("truncated gzip header");
    p += 2 + (gz[p] | gz[p + 1] << 8);
  }
  if (flags & 8)
    while (p < gz.size() && gz[p++]) {
    }
  if (flags & 16)
    while (p < gz.size() && gz[p++]) {
    }
  if (flags & 2) p += 2;
  if (p >= gz.size() - 8) throw Error("truncated gzip file");
  // The trailer's ISIZE gives the decompressed size (modulo 4 GiB): the output buffer is exactly that large and never
  // grows, so a small file that claims little but inflates to gigabytes fails instead of filling the memory.
  const std::size_t t = gz.size() - 4;
  const uint64_t isize = static_cast<uint64_t>(gz[t]) | static_cast<uint64_t>(gz[t + 1]) << 8 |
                         static_cast<uint64_t>(gz[t + 2]) << 16 | static_cast<uint64_t>(gz[t + 3]) << 24;
  if (isize > kMaxGunzipBytes)
    throw Error("the gzip file says it decompresses to " + std::to_string(isize >> 20) + " MB, more than the limit of " +
                std::to_string(kMaxGunzipBytes >> 20) + " MB for a dataset");
  std::vector<uint8_t> v(static_cast<std::size_t>(isize) + 1);
  // the trailer stays in the input: it gives the bit reader its look-ahead
  const int outlen = stbi_zlib_decode_noheader_buffer(reinterpret_cast<char*>(v.data()), static_cast<int>(v.size()),
                                                      reinterpret_cast<const char*>(gz.data() + p),
                                                      static_cast<int>(gz.size() - p));
  if (outlen < 0) throw Error("corrupt gzip data, or it decompresses to more than its trailer says");
  if (static_cast<uint64_t>(outlen) != isize)
    throw Error("corrupt gzip data: it decompresses to " + std::to_string(outlen) + " bytes, its trailer says " +
                std::to_string(isize));
  v.resize(static_cast<std::size_t>(outlen));
  return v;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error("cannot open '" + path + "'");
  const auto n = f.tellg();
  if (n < 0) throw Error("cannot read '" + path + "'");
  if (static_cast<uint64_t>(n) > kMaxGunzipBytes)
    throw Error("'" + path + "' is " + std::to_string(static_cast<uint64_t>(n) >> 20) + " MB, more than the limit of " +
                std::to_string(kMaxGunzipBytes >> 20) + " MB for a dataset");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(n));
  f.seekg(0);
  if (n > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), n)) throw Error("cannot read '" + path + "'");
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(bytes);
  return bytes;
}

static uint32_t be32(const std::vector<uint8_t>& b, std::size_t o) {
  return static_cast<uint32_t>(b[o]) << 24 | static_cast<uint32_t>(b[o + 1]) << 16 |
         static_cast<uint32_t>(b[o + 2]) << 8 | b[o + 3];
}

IdxImages parse_idx_images(const std::vector<uint8_t>& b) {
  if (b.size() < 16 || be32(b, 0) != 0x00000803) throw Error("not an IDX image file (magic 0x803)");
  IdxImages im;
  const uint32_t n = be32(b, 4), r = be32(b, 8), c = be32(b, 12);
  if (r == 0 || c == 0 || r > 4096 || c > 4096 || n > 100000000 ||
      static_cast<uint64_t>(n) * r * c != b.size() - 16)
    throw Error("IDX image file has inconsistent sizes");
  im.count = static_cast<int>(n);
  im.rows = static_cast<int>(r);
  im.cols = static_cast<int>(c);
  im.pixels.assign(b.begin() + 16, b.end());
  return im;
}

std::vector<uint8_t> parse_idx_labels(const std::vector<uint8_t>& b) {
  if (b.size() < 8 || be32(b, 0) != 0x00000801) throw Error("not an IDX label file (magic 0x801)");
  if (be32(b, 4) != b.size() - 8) throw Error("IDX label file has an inconsistent size");
  return std::vector<uint8_t>(b.begin() + 8, b.end());
}

}  // namespace lrp
