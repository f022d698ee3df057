// All tensors of a checkpoint: one safetensors file, or the shards listed by a model.safetensors.index.json.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/fc_matrix.h"
#include "model/safetensors.h"

namespace lrp {

// A Linear weight matrix read from a checkpoint without expanding it to float32.
struct CompressedFc {
  FcFormat format = FcFormat::F32;
  std::vector<int> shape;
  // The stored values, read in place (no copy): `owner` keeps the file's bytes alive.
  std::shared_ptr<const ByteSource> owner;
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  std::vector<float> scale;
};


class WeightStore {
 public:
  // path: a .safetensors file, a *.safetensors.index.json naming shards next to it, or a PyTorch checkpoint
  // (.pth/.pt as torch.save writes it: torch_file.h), told apart by its first bytes.
  static WeightStore open(const std::string& path);
  // The files a checkpoint is made of: the file itself, and for an index the shards it names.
  static std::vector<std::string> files_of(const std::string& path);
  // `name`: the file's name or URL, for messages (its last path component is shown; "the checkpoint" without one)
  static WeightStore from_buffer(std::vector<uint8_t> bytes, const std::string& name = "");
  static WeightStore from_buffer_source(std::shared_ptr<ByteSource> bytes, const std::string& name = "");
  // Shards given as buffers (WebAssembly): index JSON text plus the shard files by name.
  static WeightStore from_shards(const std::string& index_json, std::map<std::string, std::vector<uint8_t>> shards);
  static WeightStore from_shard_sources(const std::string& index_json,
                                        const std::map<std::string, std::shared_ptr<ByteSource>>& shards);
  void add(SafetensorsFile file);

  const TensorEntry* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  Tensor read(const std::string& name) const;
  // An F16, BF16 or int8 (with its "<name>_scale") tensor as stored, for weights kept compressed in memory;
  // false (out untouched) when the tensor is stored in another type.
  bool read_compressed(const std::string& name, CompressedFc& out) const;
  std::vector<const TensorEntry*> entries() const;
  // Metadata of all files merged (the first file wins on duplicates).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::string dtype_summary() const;  // e.g. "F32" or "F16+F32"
  // "safetensors", or "PyTorch (torch.save zip; ...)" with where the state dict was found
  std::string format_summary() const;
  std::size_t file_count() const { return files_.size(); }

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, std::pair<std::size_t, const TensorEntry*>> where_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace lrp
