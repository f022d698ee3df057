// Builds safetensors byte strings by hand, for tests of the reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

inline std::vector<uint8_t> make_safetensors(const std::string& header, const std::vector<uint8_t>& data,
                                             int64_t claimed_len = -1) {
  std::vector<uint8_t> out(8);
  const uint64_t n = claimed_len < 0 ? header.size() : static_cast<uint64_t>(claimed_len);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}
