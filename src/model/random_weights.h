// Deterministic random VGG weights (make-random): Kaiming-normal convolutions (fan_out, ReLU gain; torchvision's
// init), N(0, 0.01) fully connected weights, zero biases. The generator is counter-based and simple enough to
// reproduce bit for bit in NumPy (tools/pytorch_reference.py), so PyTorch can check our logits on the same weights.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "model/vgg_spec.h"

namespace lrp {

class ThreadPool;

uint64_t splitmix64(uint64_t x);
// Element i of the standard-normal stream `stream` under `seed`.
double random_normal(uint64_t seed, uint64_t stream, uint64_t i);
// Fills t with std * N(0,1) from stream `stream`.
void fill_normal(Tensor& t, uint64_t seed, uint64_t stream, float std, ThreadPool* pool = nullptr);

// Tensors in vgg_tensor_shapes order; tensor k uses stream k + 1.
// One of them by torchvision name (the sanity check re-initialises layers one at a time with the same values).
Tensor random_vgg_tensor(const VggSpec& spec, const std::string& name, uint64_t seed, ThreadPool* pool = nullptr);
std::vector<std::pair<std::string, Tensor>> random_vgg_tensors(const VggSpec& spec, uint64_t seed,
                                                               ThreadPool* pool = nullptr);
// A deterministic normalised input (stream 1000).
Tensor random_input(const std::vector<int>& shape, uint64_t seed);

}  // namespace lrp
