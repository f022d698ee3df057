// Writing checkpoints in other storage formats: F32, F16, BF16, or int8 weights with one float scale per output
// channel (biases stay F32), optionally split into shards with a model.safetensors.index.json. The engine always
// computes in float32.
#pragma once

#include <string>
#include <vector>

namespace lrp {

class WeightStore;

enum class StoreType { F32, F16, BF16, Int8 };
StoreType parse_store_type(const std::string& s);

struct ConvertResult {
  std::vector<std::string> files;
  std::size_t bytes = 0;
};

// out: a .safetensors path. shard_bytes > 0 splits into <stem>-0000i-of-0000n.safetensors next to it plus
// <stem>.safetensors.index.json.
// `inputs`: the files `in` was read from; no output may replace one of them (checked before anything is written).
// Converting over an earlier sharded copy removes the shards of its index that the new copy no longer has.
ConvertResult convert_weights(const WeightStore& in, const std::string& out, StoreType type, std::size_t shard_bytes,
                              const std::vector<std::string>& inputs = {});

}  // namespace lrp
