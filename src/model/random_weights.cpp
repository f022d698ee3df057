#include "model/random_weights.h"

#include <cmath>

#include "engine/error.h"
#include "engine/thread_pool.h"
#include "model/network.h"

namespace lrp {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t stream_key(uint64_t seed, uint64_t stream) { return splitmix64(splitmix64(seed) ^ stream); }

static double normal_at(uint64_t key, uint64_t i) {
  const uint64_t h1 = splitmix64(key + 2 * i), h2 = splitmix64(key + 2 * i + 1);
  const double u1 = static_cast<double>((h1 >> 11) + 1) * 0x1.0p-53;
  const double u2 = static_cast<double>(h2 >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double random_normal(uint64_t seed, uint64_t stream, uint64_t i) { return normal_at(stream_key(seed, stream), i); }

void fill_normal(Tensor& t, uint64_t seed, uint64_t stream, float std, ThreadPool* pool) {
  const uint64_t key = stream_key(seed, stream);
  const int64_t n = static_cast<int64_t>(t.size());
  float* d = t.data();
  const int parts = static_cast<int>(std::min<int64_t>(64, std::max<int64_t>(1, n / 65536)));
  parallel_ranges(pool, parts, parts, [&](int b, int e) {
    const int64_t lo = n * b / parts, hi = n * e / parts;
    for (int64_t i = lo; i < hi; ++i) d[i] = static_cast<float>(std * normal_at(key, static_cast<uint64_t>(i)));
  });
}

Tensor random_vgg_tensor(const VggSpec& spec, const std::string& name, uint64_t seed, ThreadPool* pool) {
  uint64_t stream = 1;
  for (auto& [n, shape] : vgg_tensor_shapes(spec)) {
    if (n == name) {
      Tensor t(shape);
      const bool is_bias = n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
      if (!is_bias) {
        float std = 0.01f;
        if (shape.size() == 4) std = static_cast<float>(std::sqrt(2.0 / (static_cast<double>(shape[0]) * shape[2] * shape[3])));
        fill_normal(t, seed, stream, std, pool);
      }
      return t;
    }
    ++stream;
  }
  throw Error("internal: the VGG has no tensor '" + name + "'");
}

std::vector<std::pair<std::string, Tensor>> random_vgg_tensors(const VggSpec& spec, uint64_t seed, ThreadPool* pool) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, shape] : vgg_tensor_shapes(spec)) out.emplace_back(name, random_vgg_tensor(spec, name, seed, pool));
  return out;
}

Tensor random_input(const std::vector<int>& shape, uint64_t seed) {
  Tensor t(shape);
  fill_normal(t, seed, 1000, 1.0f);
  return t;
}

}  // namespace lrp
