// zlib-format compression of byte buffers (stb's deflate and inflate: the same code natively and in the page), for
// the files lrpscope writes itself (the reference atlas), and the deflated entries of zip archives (zip_reader.h).
#pragma once

#include <cstdint>
#include <vector>

namespace lrp {

std::vector<uint8_t> deflate_bytes(const std::vector<uint8_t>& raw);
// Inflates into exactly `size` bytes; throws Error when the data is damaged or does not inflate to that size.
std::vector<uint8_t> inflate_bytes(const uint8_t* data, std::size_t n, std::size_t size);
// ... a raw deflate stream (no zlib header: as a zip archive stores it).
std::vector<uint8_t> inflate_raw_bytes(const uint8_t* data, std::size_t n, std::size_t size);

}  // namespace lrp
