// Helpers of the checkpoint-format tests (PyTorch, ONNX): the fixtures of tools/make_checkpoints.py, a file's
// bytes, and the message an action throws.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.h"

namespace lrp::test {

inline std::string fixture(const std::string& file) { return source_path("tests/fixtures/checkpoints/" + file); }

inline std::vector<uint8_t> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// What `f` throws ("" when it does not).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace lrp::test
