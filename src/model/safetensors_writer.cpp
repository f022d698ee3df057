#include "model/safetensors_writer.h"
#include "model/atomic_file.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/half.h"

namespace lrp {

static std::string header_json(const std::vector<NamedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata, uint64_t& data_bytes) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    require(t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16,
            "can only write F32, F16 or BF16 tensors");
    const uint64_t n = t.tensor->size() * dtype_size(t.dtype);
    h[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.tensor->shape()}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  data_bytes = off;
  std::string s = h.dump();
  while (s.size() % 8) s += ' ';
  return s;
}

template <class Sink>
static void emit(const std::vector<NamedTensor>& tensors, const std::map<std::string, std::string>& metadata,
                 Sink&& sink) {
  uint64_t data_bytes = 0;
  const std::string header = header_json(tensors, metadata, data_bytes);
  uint8_t len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  sink(len, 8);
  sink(reinterpret_cast<const uint8_t*>(header.data()), header.size());
  std::vector<uint8_t> buf;
  for (const auto& t : tensors) {
    const float* d = t.tensor->data();
    const std::size_t count = t.tensor->size();
    if (t.dtype == DType::F32) {
      sink(reinterpret_cast<const uint8_t*>(d), count * 4);
      continue;
    }
    buf.resize(count * 2);
    for (std::size_t i = 0; i < count; ++i) {
      const uint16_t v = t.dtype == DType::F16 ? float_to_f16(d[i]) : float_to_bf16(d[i]);
      std::memcpy(&buf[2 * i], &v, 2);
    }
    sink(buf.data(), buf.size());
  }
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  AtomicFile f(path);
  emit(tensors, metadata, [&](const uint8_t* p, std::size_t n) {
    f.out().write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
  });
  f.commit();
}

std::vector<uint8_t> safetensors_bytes(const std::vector<NamedTensor>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
  std::vector<uint8_t> out;
  emit(tensors, metadata, [&](const uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

}  // namespace lrp
