// The one exception type lrpscope throws for bad input and misuse: a clear, one-line message.
#pragma once

#include <stdexcept>
#include <string>

namespace lrp {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(message) when cond is false. Used for argument and shape checks on every public entry point.
inline void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace lrp
