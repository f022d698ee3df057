// Float32 tensors: a shape (up to 4 dimensions, C-order) and aligned storage.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/aligned.h"

namespace lrp {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int> shape, float fill = 0.0f);
  Tensor(std::initializer_list<int> shape, float fill = 0.0f) : Tensor(std::vector<int>(shape), fill) {}

  const std::vector<int>& shape() const { return shape_; }
  int dim(int i) const { return shape_.at(static_cast<std::size_t>(i)); }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }

  // Same data, new shape with the same number of elements.
  void reshape(std::vector<int> shape);
  void fill(float v);
  std::string shape_string() const;

  // The number of values of a shape; throws Error when it would exceed kMaxValues (instead of wrapping).
  static std::size_t count(const std::vector<int>& shape);
  // Half the address space in floats: 512 M values (2 GB) in 32-bit WebAssembly.
  static constexpr std::size_t kMaxValues = (static_cast<std::size_t>(-1) / 2) / sizeof(float);

 private:
  std::vector<int> shape_;
  FloatBuffer data_;
};

std::string shape_string(const std::vector<int>& shape);
// a * b, or Error naming `what` when the product does not fit a size_t
std::size_t checked_mul(std::size_t a, std::size_t b, const char* what);

}  // namespace lrp
