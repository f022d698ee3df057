// The shortest decimal text that reads back as exactly the same number ("0.25", "1e-06", "0.1"), for links and
// compact encodings that must round-trip.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace lrp {

inline std::string shortest_text(float v) {
  char buf[32];
  for (int p = 1; p <= 9; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

inline std::string shortest_text(double v) {
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace lrp
