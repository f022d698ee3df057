// Writes safetensors files (F32, F16 or BF16 data) with optional metadata; the header is padded to 8 bytes.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "model/safetensors.h"

namespace lrp {

struct NamedTensor {
  std::string name;
  const Tensor* tensor;
  DType dtype = DType::F32;
};

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
std::vector<uint8_t> safetensors_bytes(const std::vector<NamedTensor>& tensors,
                                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lrp
