// NumPy .npy files (version 1.0, little-endian float32, C order): writer for the CLI, reader for the tests.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lrp {

void write_npy(const std::string& path, const Tensor& t);
std::vector<uint8_t> npy_bytes(const Tensor& t);
Tensor read_npy(const std::string& path);

}  // namespace lrp
