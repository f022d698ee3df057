// Reader for the Hugging Face safetensors format: 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then raw tensor data.
// Every field is validated before use; bad files raise Error with a one-line message naming the problem.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lrp {

enum class DType { F32, F16, BF16, I8, U8, I16, I32, I64, F64, Bool, Unknown };
const char* dtype_name(DType d);
std::size_t dtype_size(DType d);

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int> shape;
  uint64_t begin = 0, end = 0;  // byte offsets inside the data section
  std::size_t numel() const;
};

// Bytes of a file: memory-mapped natively, or held in memory (WebAssembly, tests, fuzzers).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual const uint8_t* data() const = 0;
  virtual std::size_t size() const = 0;
  static std::shared_ptr<ByteSource> from_file(const std::string& path);
  static std::shared_ptr<ByteSource> from_buffer(std::vector<uint8_t> bytes);
  // Takes ownership of a malloc'd block (the browser writes a download straight into it: no second copy).
  static std::shared_ptr<ByteSource> from_malloc(uint8_t* data, std::size_t size);
};

class SafetensorsFile {
 public:
  // Parses and validates the header. Keeps `bytes` alive for later tensor reads.
  explicit SafetensorsFile(std::shared_ptr<ByteSource> bytes);
  static SafetensorsFile open(const std::string& path);
  // Tensors laid out in `bytes` by another format (a PyTorch checkpoint: torch_file.h), with offsets from the
  // start of `bytes`; each is checked to lie inside it and to hold its shape. Views may share bytes.
  static SafetensorsFile from_entries(std::shared_ptr<ByteSource> bytes, std::vector<TensorEntry> entries,
                                      std::map<std::string, std::string> metadata);

  const std::vector<TensorEntry>& tensors() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorEntry* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  // Converts F32/F16/BF16 (and I8/U8 as plain values) to a float32 tensor of the stored shape.
  Tensor read(const std::string& name) const;
  Tensor read(const TensorEntry& e) const;
  // Raw bytes of a tensor's data, and the bytes of the whole file (to keep them alive).
  const uint8_t* raw(const TensorEntry& e) const;
  std::shared_ptr<const ByteSource> source() const { return bytes_; }

 private:
  SafetensorsFile() = default;
  std::shared_ptr<ByteSource> bytes_;
  std::size_t data_start_ = 0;
  std::vector<TensorEntry> entries_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace lrp
