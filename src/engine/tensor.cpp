#include "engine/tensor.h"

#include <algorithm>
#include <limits>

#include "engine/error.h"

namespace lrp {

std::size_t Tensor::count(const std::vector<int>& shape) {
  std::size_t n = 1;
  for (int d : shape) {
    if (d < 0) throw Error("negative tensor dimension in " + lrp::shape_string(shape));  // (no message built otherwise)
    // the product must stay addressable as floats on 32-bit WebAssembly too: refuse instead of wrapping
    if (d != 0 && n > kMaxValues / static_cast<std::size_t>(d))
      throw Error("tensor " + lrp::shape_string(shape) + " is too large (more than " + std::to_string(kMaxValues) +
                  " values)");
    n *= static_cast<std::size_t>(d);
  }
  return n;
}

std::size_t checked_mul(std::size_t a, std::size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
    throw Error(std::string(what) + ": size " + std::to_string(a) + " x " + std::to_string(b) + " overflows");
  return a * b;
}

Tensor::Tensor(std::vector<int> shape, float fill) : shape_(std::move(shape)) {
  data_.assign(count(shape_), fill);
}

void Tensor::reshape(std::vector<int> shape) {
  if (count(shape) != data_.size()) throw Error("cannot reshape " + shape_string() + " to " + lrp::shape_string(shape));
  shape_ = std::move(shape);
}

void Tensor::fill(float v) { std::fill(data_.begin(), data_.end(), v); }

std::string Tensor::shape_string() const { return lrp::shape_string(shape_); }

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += "x";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace lrp
