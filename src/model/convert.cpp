#include "model/convert.h"

#include <cstdio>

#include <algorithm>
#include "model/atomic_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/half.h"
#include "model/weight_store.h"

namespace lrp {

StoreType parse_store_type(const std::string& s) {
  if (s == "f32" || s == "F32") return StoreType::F32;
  if (s == "f16" || s == "F16") return StoreType::F16;
  if (s == "bf16" || s == "BF16") return StoreType::BF16;
  if (s == "int8" || s == "i8" || s == "I8") return StoreType::Int8;
  throw Error("unknown storage type '" + s + "' (f32, f16, bf16 or int8)");
}

namespace {

struct Blob {
  std::string name, dtype;
  std::vector<int> shape;
  std::vector<uint8_t> data;
};

Blob encode(const std::string& name, const Tensor& t, StoreType type) {
  Blob b;
  b.name = name;
  b.shape = t.shape();
  const std::size_t n = t.size();
  if (type == StoreType::F32) {
    b.dtype = "F32";
    b.data.resize(n * 4);
    std::memcpy(b.data.data(), t.data(), n * 4);
  } else {
    b.dtype = type == StoreType::BF16 ? "BF16" : "F16";
    b.data.resize(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
      const uint16_t v = type == StoreType::BF16 ? float_to_bf16(t[i]) : float_to_f16(t[i]);
      std::memcpy(&b.data[2 * i], &v, 2);
    }
  }
  return b;
}

void write_file(const std::string& path, const std::vector<const Blob*>& blobs, const std::map<std::string, std::string>& meta) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!meta.empty()) h["__metadata__"] = meta;
  uint64_t off = 0;
  for (const Blob* b : blobs) {
    h[b->name] = {{"dtype", b->dtype}, {"shape", b->shape}, {"data_offsets", {off, off + b->data.size()}}};
    off += b->data.size();
  }
  std::string hs = h.dump();
  while (hs.size() % 8) hs += ' ';
  AtomicFile f(path);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(hs.size()) >> (8 * i));
  f.out().write(reinterpret_cast<const char*>(len), 8);
  f.out().write(hs.data(), static_cast<std::streamsize>(hs.size()));
  for (const Blob* b : blobs) f.out().write(reinterpret_cast<const char*>(b->data.data()), static_cast<std::streamsize>(b->data.size()));
  f.commit();
}

}  // namespace

ConvertResult convert_weights(const WeightStore& in, const std::string& out, StoreType type, std::size_t shard_bytes,
                              const std::vector<std::string>& inputs) {
  std::vector<Blob> blobs;
  for (const TensorEntry* e : in.entries()) {
    if (e->name.size() > 6 && e->name.compare(e->name.size() - 6, 6, "_scale") == 0) continue;  // re-derived
    // (a batch norm's count of training batches: an integer no computation uses)
    if (e->dtype == DType::I64 && e->name.size() > 20 && e->name.compare(e->name.size() - 20, 20, ".num_batches_tracked") == 0) continue;
    Tensor t = in.read(e->name);
    const bool weight = t.rank() >= 2;
    if (type == StoreType::Int8 && weight) {
      // symmetric per-output-channel quantisation
      const int rows = t.dim(0);
      const std::size_t per = t.size() / static_cast<std::size_t>(rows);
      Blob q;
      q.name = e->name;
      q.dtype = "I8";
      q.shape = t.shape();
      q.data.resize(t.size());
      Tensor scale({rows});
      for (int r = 0; r < rows; ++r) {
        float m = 0;
        for (std::size_t i = 0; i < per; ++i) m = std::max(m, std::fabs(t[r * per + i]));
        const float s = m > 0 ? m / 127.0f : 1.0f;
        scale[static_cast<std::size_t>(r)] = s;
        for (std::size_t i = 0; i < per; ++i) {
          const long v = std::lround(t[r * per + i] / s);
          q.data[r * per + i] = static_cast<uint8_t>(static_cast<int8_t>(std::max(-127L, std::min(127L, v))));
        }
      }
      blobs.push_back(std::move(q));
      blobs.push_back(encode(e->name + "_scale", scale, StoreType::F32));
    } else {
      blobs.push_back(encode(e->name, t, type == StoreType::Int8 ? StoreType::F32 : type));
    }
  }
  std::map<std::string, std::string> meta = in.metadata();
  for (const char* k : {"lrpscope.format", "lrpscope.onnx", "lrpscope.pytorch_container", "lrpscope.pytorch_prefix", "lrpscope.pytorch_whole_model"})
    meta.erase(k);  // (what the reader noted about the file it read: the copy is safetensors)
  meta["lrpscope.storage"] = type == StoreType::Int8 ? "int8 weights, one F32 scale per output channel ('<name>_scale'), F32 biases"
                             : type == StoreType::F16 ? "F16" : type == StoreType::BF16 ? "BF16" : "F32";
  ConvertResult res;
  for (const auto& b : blobs) res.bytes += b.data.size();
  if (shard_bytes == 0) {
    refuse_overwriting_inputs(out, inputs, "--out");
    std::vector<const Blob*> all;
    for (const auto& b : blobs) all.push_back(&b);
    write_file(out, all, meta);
    res.files.push_back(out);
    return res;
  }
  // shards: keep a weight and its scale together
  std::vector<std::vector<const Blob*>> shards(1);
  std::size_t cur = 0;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    std::size_t add = blobs[i].data.size();
    const bool with_scale = i + 1 < blobs.size() && blobs[i + 1].name == blobs[i].name + "_scale";
    if (with_scale) add += blobs[i + 1].data.size();
    if (cur > 0 && cur + add > shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(&blobs[i]);
    if (with_scale) shards.back().push_back(&blobs[++i]);
    cur += add;
  }
  std::string stem = out;
  if (stem.size() > 12 && stem.compare(stem.size() - 12, 12, ".safetensors") == 0) stem = stem.substr(0, stem.size() - 12);
  const auto slash = stem.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : stem.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? stem : stem.substr(slash + 1);
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", res.bytes}};
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  char num[64];
  std::vector<std::string> names;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    std::snprintf(num, sizeof num, "-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    names.push_back(base + num);
  }
  const std::string index_path = stem + ".safetensors.index.json";
  // every output is checked against the inputs before the first byte is written
  for (const auto& n : names) refuse_overwriting_inputs(dir + n, inputs, "shard");
  refuse_overwriting_inputs(index_path, inputs, "index");
  const std::vector<std::string> old_files = WeightStore::files_of(index_path);  // an earlier copy's shards
  for (std::size_t s = 0; s < shards.size(); ++s) {
    write_file(dir + names[s], shards[s], meta);
    res.files.push_back(dir + names[s]);
    for (const Blob* b : shards[s]) map[b->name] = names[s];
  }
  index["weight_map"] = map;
  AtomicFile f(index_path, false);
  f.out() << index.dump(1);
  f.commit();
  // shards of the earlier copy that the new index no longer names would be left behind: remove them
  for (std::size_t i = 1; i < old_files.size(); ++i)
    if (std::find(res.files.begin(), res.files.end(), old_files[i]) == res.files.end() &&
        std::find(inputs.begin(), inputs.end(), old_files[i]) == inputs.end())
      std::remove(old_files[i].c_str());
  res.files.push_back(index_path);
  return res;
}

}  // namespace lrp
