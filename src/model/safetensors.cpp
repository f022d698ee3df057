#include "model/safetensors.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "model/json_bounded.h"
#include "engine/half.h"

#if !defined(__EMSCRIPTEN__) && (defined(__unix__) || defined(__APPLE__))
#define LRPSCOPE_MMAP 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace lrp {

namespace {

// What a VGG checkpoint's header can hold: a few hundred tensors (batch-norm VGGs have about 100) and metadata with
// at most tens of thousands of labels need well under a megabyte of JSON and a hundred thousand values.
constexpr uint64_t kMaxHeader = 16ull << 20;
constexpr std::size_t kMaxHeaderValues = 1'000'000;
constexpr int kMaxHeaderDepth = 8;

class BufferSource : public ByteSource {
 public:
  explicit BufferSource(std::vector<uint8_t> b) : bytes_(std::move(b)) {}
  const uint8_t* data() const override { return bytes_.data(); }
  std::size_t size() const override { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

class MallocSource : public ByteSource {
 public:
  MallocSource(uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  ~MallocSource() override { std::free(p_); }
  const uint8_t* data() const override { return p_; }
  std::size_t size() const override { return n_; }

 private:
  uint8_t* p_;
  std::size_t n_;
};

#if LRPSCOPE_MMAP
class MappedSource : public ByteSource {
 public:
  MappedSource(void* p, std::size_t n) : p_(p), n_(n) {}
  ~MappedSource() override {
    if (p_ && n_) munmap(p_, n_);
  }
  const uint8_t* data() const override { return static_cast<const uint8_t*>(p_); }
  std::size_t size() const override { return n_; }

 private:
  void* p_;
  std::size_t n_;
};
#endif

DType parse_dtype(const std::string& s) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I8", DType::I8},   {"U8", DType::U8},
      {"I16", DType::I16}, {"I32", DType::I32}, {"I64", DType::I64},   {"F64", DType::F64}, {"BOOL", DType::Bool}};
  for (auto& [n, d] : table)
    if (s == n) return d;
  return DType::Unknown;
}

}  // namespace

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::F64: return "F64";
    case DType::Bool: return "BOOL";
    default: return "unknown";
  }
}

std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
    case DType::I64: case DType::F64: return 8;
    default: return 0;
  }
}

std::size_t TensorEntry::numel() const {
  std::size_t n = 1;
  for (int d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::shared_ptr<ByteSource> ByteSource::from_buffer(std::vector<uint8_t> bytes) {
  return std::make_shared<BufferSource>(std::move(bytes));
}

std::shared_ptr<ByteSource> ByteSource::from_malloc(uint8_t* data, std::size_t size) {
  return std::make_shared<MallocSource>(data, size);
}

std::shared_ptr<ByteSource> ByteSource::from_file(const std::string& path) {
#if LRPSCOPE_MMAP
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("'" + path + "' is not a regular file");
  }
  const std::size_t n = static_cast<std::size_t>(st.st_size);
  if (n == 0) {
    ::close(fd);
    return std::make_shared<BufferSource>(std::vector<uint8_t>{});
  }
  void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw Error("cannot map '" + path + "': " + std::strerror(errno));
  return std::make_shared<MappedSource>(p, n);
#else
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error("cannot open '" + path + "'");
  const auto n = f.tellg();
  if (n < 0) throw Error("cannot read '" + path + "'");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(n));
  f.seekg(0);
  if (n > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), n)) throw Error("cannot read '" + path + "'");
  return std::make_shared<BufferSource>(std::move(bytes));
#endif
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  try {
    return SafetensorsFile(ByteSource::from_file(path));
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(path) != std::string::npos) throw;
    throw Error("'" + path + "': " + msg);
  }
}

SafetensorsFile::SafetensorsFile(std::shared_ptr<ByteSource> bytes) : bytes_(std::move(bytes)) {
  const std::size_t size = bytes_->size();
  if (size < 8) throw Error("not a safetensors file (" + std::to_string(size) + " bytes, need at least 8)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes_->data()[i];
  if (n > size - 8)
    throw Error("safetensors header length " + std::to_string(n) + " is larger than the file (" +
                std::to_string(size) + " bytes): truncated or not a safetensors file");
  if (n > kMaxHeader)
    throw Error("safetensors header of " + std::to_string(n >> 20) + " MB is larger than the limit of " +
                std::to_string(kMaxHeader >> 20) + " MB (a VGG checkpoint's header is well under 1 MB)");
  if (n < 2) throw Error("safetensors header is empty");
  data_start_ = 8 + static_cast<std::size_t>(n);
  const uint64_t data_size = size - data_start_;
  const char* hb = reinterpret_cast<const char*>(bytes_->data() + 8);
  if (hb[0] != '{') throw Error("not a safetensors file (the header does not start with '{')");
  JsonLimits limits;
  limits.max_bytes = kMaxHeader;
  limits.max_values = kMaxHeaderValues;
  limits.max_depth = kMaxHeaderDepth;
  const nlohmann::json header = parse_json_bounded(hb, hb + n, "safetensors header", limits);
  if (!header.is_object()) throw Error("safetensors header is not a JSON object");
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw Error("safetensors __metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw Error("safetensors metadata value '" + m.key() + "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) throw Error("tensor '" + name + "': header entry is not an object");
    TensorEntry e;
    e.name = name;
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) throw Error("tensor '" + name + "': missing dtype");
    e.dtype = parse_dtype(dt->get<std::string>());
    if (e.dtype == DType::Unknown)
      throw Error("tensor '" + name + "': unknown dtype '" + dt->get<std::string>() + "'");
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array() || sh->size() > 8) throw Error("tensor '" + name + "': bad shape");
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int>::max()))
        throw Error("tensor '" + name + "': bad shape dimension");
      const uint64_t dim = d.get<uint64_t>();
      e.shape.push_back(static_cast<int>(dim));
      if (dim != 0 && numel > (std::numeric_limits<uint64_t>::max() / 16) / dim)
        throw Error("tensor '" + name + "': shape too large");
      numel *= dim;
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      throw Error("tensor '" + name + "': bad data_offsets");
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
      throw Error("tensor '" + name + "': data offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  ") outside the data section of " + std::to_string(data_size) + " bytes (truncated file?)");
    if (numel * dtype_size(e.dtype) != e.end - e.begin)
      throw Error("tensor '" + name + "': " + std::to_string(e.end - e.begin) + " bytes do not hold shape " +
                  shape_string(e.shape) + " of " + dtype_name(e.dtype));
    if (e.begin % dtype_size(e.dtype) != 0)
      throw Error("tensor '" + name + "': data is not aligned to its " + std::to_string(dtype_size(e.dtype)) +
                  "-byte elements");
    index_[name] = entries_.size();
    entries_.push_back(std::move(e));
  }
  std::vector<const TensorEntry*> sorted;
  for (const auto& e : entries_)
    if (e.end > e.begin) sorted.push_back(&e);  // an empty tensor occupies no bytes and overlaps nothing
  std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->begin < sorted[i - 1]->end)
      throw Error("tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name + "' overlap");
}

SafetensorsFile SafetensorsFile::from_entries(std::shared_ptr<ByteSource> bytes, std::vector<TensorEntry> entries,
                                              std::map<std::string, std::string> metadata) {
  SafetensorsFile f;
  f.bytes_ = std::move(bytes);
  f.metadata_ = std::move(metadata);
  const uint64_t size = f.bytes_->size();
  for (TensorEntry& e : entries) {
    if (e.begin > e.end || e.end > size)
      throw Error("tensor '" + e.name + "': its data lie outside the file (truncated file?)");
    if (e.numel() * dtype_size(e.dtype) != e.end - e.begin)
      throw Error("tensor '" + e.name + "': " + std::to_string(e.end - e.begin) + " bytes do not hold shape " +
                  shape_string(e.shape) + " of " + dtype_name(e.dtype));
    if (f.index_.count(e.name)) throw Error("tensor '" + e.name + "' appears twice");
    f.index_[e.name] = f.entries_.size();
    f.entries_.push_back(std::move(e));
  }
  return f;
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const uint8_t* SafetensorsFile::raw(const TensorEntry& e) const { return bytes_->data() + data_start_ + e.begin; }

Tensor SafetensorsFile::read(const std::string& name) const {
  const TensorEntry* e = find(name);
  if (!e) throw Error("tensor '" + name + "' not found");
  return read(*e);
}

Tensor SafetensorsFile::read(const TensorEntry& e) const {
  Tensor t(e.shape.empty() ? std::vector<int>{1} : e.shape);
  const uint8_t* p = raw(e);
  const std::size_t n = e.numel();
  if (n == 0) return t;  // an empty tensor: nothing to copy (and no buffer to copy into)
  float* out = t.data();
  switch (e.dtype) {
    case DType::F32: std::memcpy(out, p, n * 4); break;
    case DType::F16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = f16_to_float(h);
      }
      break;
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = bf16_to_float(h);
      }
      break;
    case DType::I8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<int8_t>(p[i]));
      break;
    case DType::U8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i]);
      break;
    case DType::F64:  // (PyTorch checkpoints saved in double precision)
      for (std::size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    default:
      throw Error("tensor '" + e.name + "': dtype " + dtype_name(e.dtype) + " is not supported for weights");
  }
  return t;
}

}  // namespace lrp
