#include "model/idx_dataset.h"

#include <cstdlib>
#include <fstream>
#include <stb/stb_image.h>

#include "engine/error.h"

namespace lrp {

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
  int outlen = 0;
  char* out = stbi_zlib_decode_noheader_malloc(reinterpret_cast<const char*>(gz.data() + p),
                                               static_cast<int>(gz.size() - p), &outlen);  // the trailer gives the bit reader its look-ahead
  if (!out) throw Error("corrupt gzip data");
  std::vector<uint8_t> v(reinterpret_cast<uint8_t*>(out), reinterpret_cast<uint8_t*>(out) + outlen);
  std::free(out);
  return v;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
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
