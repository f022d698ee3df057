// The one translation unit that compiles the stb single-header libraries (Debian 13's libstb-dev, fetched by
// scripts/setup: stb_image 2.30). Only the formats the fuzzer covers are compiled in; the web page decodes the rest
// with the browser's own decoders.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#define STBI_MAX_DIMENSIONS 65536
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

// zlib streams for our own files (model/deflate.h), by the stb code compiled above.
#include <cstdlib>
#include <cstring>

#include "engine/error.h"
#include "model/deflate.h"

namespace lrp {

std::vector<uint8_t> deflate_bytes(const std::vector<uint8_t>& raw) {
  require(raw.size() < (1u << 31), "deflate: more than 2 GB");
  int len = 0;
  unsigned char* z = stbi_zlib_compress(const_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size()), &len, 8);
  if (!z) throw Error("deflate: out of memory");
  std::vector<uint8_t> out(z, z + len);
  STBIW_FREE(z);
  return out;
}

std::vector<uint8_t> inflate_bytes(const uint8_t* data, std::size_t n, std::size_t size) {
  require(n < (1u << 31) && size < (1u << 31), "inflate: more than 2 GB");
  std::vector<uint8_t> out(size + 1);  // one byte more: a stream that inflates to more than it says fails
  const int got = stbi_zlib_decode_buffer(reinterpret_cast<char*>(out.data()), static_cast<int>(out.size()),
                                          reinterpret_cast<const char*>(data), static_cast<int>(n));
  if (got < 0 || static_cast<std::size_t>(got) != size) throw Error("damaged compressed data");
  out.resize(size);
  return out;
}

std::vector<uint8_t> inflate_raw_bytes(const uint8_t* data, std::size_t n, std::size_t size) {
  require(n < (1u << 31) && size < (1u << 31), "inflate: more than 2 GB");
  std::vector<uint8_t> out(size + 1);
  const int got = stbi_zlib_decode_noheader_buffer(reinterpret_cast<char*>(out.data()), static_cast<int>(out.size()),
                                                   reinterpret_cast<const char*>(data), static_cast<int>(n));
  if (got < 0 || static_cast<std::size_t>(got) != size) throw Error("damaged compressed data");
  out.resize(size);
  return out;
}

}  // namespace lrp
