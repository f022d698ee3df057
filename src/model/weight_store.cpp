#include "model/weight_store.h"
#include <new>
#include <cstring>
#include <cstdlib>
#include <cstdint>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "model/json_bounded.h"
#include "model/onnx_file.h"
#include "model/torch_file.h"

namespace lrp {

// How messages name a checkpoint whose file name is not known.
static const char* const kUnnamed = "the checkpoint";

// A checkpoint's bytes: a PyTorch file or an ONNX model (by their first bytes), or safetensors. `what` names the
// file in messages (the safetensors reader's own messages get it in front).
static SafetensorsFile tensor_file(std::shared_ptr<ByteSource> src, const std::string& what) {
  if (looks_like_torch_file(src->data(), src->size())) return read_torch_file(std::move(src), what);
  if (looks_like_onnx(src->data(), src->size())) return read_onnx_file(std::move(src), what);
  try {
    return SafetensorsFile(std::move(src));
  } catch (const Error& e) {
    if (what == kUnnamed) throw;
    throw Error(what + ": " + e.what());
  }
}

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static std::map<std::string, std::string> parse_index(const std::string& text) {
  nlohmann::json j = parse_json_bounded(text, "shard index");
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error("shard index has no weight_map");
  std::map<std::string, std::string> map;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) throw Error("shard index: weight_map values must be file names");
    const std::string f = it.value().get<std::string>();
    if (f.find('/') != std::string::npos || f.find('\\') != std::string::npos || f == ".." || f.empty())
      throw Error("shard index: shard name '" + f + "' must be a plain file name");
    map[it.key()] = f;
  }
  return map;
}

WeightStore WeightStore::open(const std::string& path) {
  WeightStore ws;
  if (ends_with(path, ".json")) {
    std::ifstream f(path);
    if (!f) throw Error("cannot open '" + path + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    const auto map = parse_index(ss.str());
    std::set<std::string> files;
    for (auto& [k, v] : map) files.insert(v);
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    for (const auto& f : files) ws.add(SafetensorsFile::open(dir + f));
    for (auto& [k, v] : map)
      if (!ws.has(k)) throw Error("shard index names tensor '" + k + "' but shard '" + v + "' does not hold it");
    return ws;
  }
  auto src = ByteSource::from_file(path);  // (one mapping of the file, whatever its format)
  const std::string what = "'" + path + "'";
  ws.add(ends_with(path, ".onnx") ? read_onnx_file(std::move(src), what) : tensor_file(std::move(src), what));
  return ws;
}

std::vector<std::string> WeightStore::files_of(const std::string& path) {
  std::vector<std::string> out = {path};
  if (!ends_with(path, ".json")) return out;
  std::ifstream f(path);
  if (!f) return out;
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    const auto map = parse_index(ss.str());
    std::set<std::string> files;
    for (auto& [k, v] : map) files.insert(v);
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    for (const auto& s : files) out.push_back(dir + s);
  } catch (const std::exception&) {
    // not an index we can read: opening it will say why
  }
  return out;
}

// How messages name a checkpoint given as bytes: its file name (a URL's last path component, without the query).
static std::string shown_name(const std::string& name) {
  std::string s = name.substr(0, name.find_first_of("?#"));
  if (!s.empty() && s.back() == '/') s.pop_back();
  const auto slash = s.find_last_of('/');
  if (slash != std::string::npos) s = s.substr(slash + 1);
  std::string out;
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out.empty() ? kUnnamed : "'" + out + "'";
}

WeightStore WeightStore::from_buffer(std::vector<uint8_t> bytes, const std::string& name) {
  WeightStore ws;
  ws.add(tensor_file(ByteSource::from_buffer(std::move(bytes)), shown_name(name)));
  return ws;
}

WeightStore WeightStore::from_buffer_source(std::shared_ptr<ByteSource> bytes, const std::string& name) {
  WeightStore ws;
  ws.add(tensor_file(std::move(bytes), shown_name(name)));
  return ws;
}

WeightStore WeightStore::from_shards(const std::string& index_json,
                                     std::map<std::string, std::vector<uint8_t>> shards) {
  std::map<std::string, std::shared_ptr<ByteSource>> sources;
  for (auto& [name, bytes] : shards) sources[name] = ByteSource::from_buffer(std::move(bytes));
  return from_shard_sources(index_json, sources);
}

WeightStore WeightStore::from_shard_sources(const std::string& index_json,
                                            const std::map<std::string, std::shared_ptr<ByteSource>>& shards) {
  const auto map = parse_index(index_json);
  WeightStore ws;
  std::set<std::string> files;
  for (auto& [k, v] : map) files.insert(v);
  for (const auto& f : files) {
    auto it = shards.find(f);
    if (it == shards.end()) throw Error("shard '" + f + "' is missing");
    try {
      ws.add(SafetensorsFile(it->second));
    } catch (const Error& e) {
      throw Error("shard '" + f + "': " + e.what());
    }
  }
  for (auto& [k, v] : map)
    if (!ws.has(k)) throw Error("shard index names tensor '" + k + "' but shard '" + v + "' does not hold it");
  return ws;
}

void WeightStore::add(SafetensorsFile file) {
  files_.push_back(std::move(file));
  // Re-index everything: push_back may have moved earlier files (their entries live inside them).
  where_.clear();
  for (std::size_t i = 0; i < files_.size(); ++i) {
    for (const auto& e : files_[i].tensors()) {
      if (where_.count(e.name)) throw Error("tensor '" + e.name + "' appears in more than one shard");
      where_[e.name] = {i, &e};
    }
  }
  for (const auto& [k, v] : files_.back().metadata()) metadata_.emplace(k, v);
}

const TensorEntry* WeightStore::find(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? nullptr : it->second.second;
}

Tensor WeightStore::read(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("weights have no tensor '" + name + "'");
  Tensor t = files_[it->second.first].read(*it->second.second);
  const DType dt = it->second.second->dtype;
  if (dt == DType::I8 || dt == DType::U8) {
    // int8 weights with one float scale per output channel ("<name>_scale", written by `lrpscope convert`)
    auto sc = where_.find(name + "_scale");
    if (sc == where_.end()) throw Error("tensor '" + name + "' is int8 but has no '" + name + "_scale' tensor");
    Tensor scale = files_[sc->second.first].read(*sc->second.second);
    const int rows = t.rank() > 0 ? t.dim(0) : 1;
    if (static_cast<int>(scale.size()) != rows)
      throw Error("tensor '" + name + "_scale' needs one scale per output channel (" + std::to_string(rows) + ")");
    const std::size_t per = t.size() / static_cast<std::size_t>(std::max(1, rows));
    for (int r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < per; ++i) t[r * per + i] *= scale[static_cast<std::size_t>(r)];
  }
  return t;
}

bool WeightStore::read_compressed(const std::string& name, CompressedFc& out) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error("weights have no tensor '" + name + "'");
  const TensorEntry& e = *it->second.second;
  FcFormat format;
  switch (e.dtype) {
    case DType::F16: format = FcFormat::F16; break;
    case DType::BF16: format = FcFormat::BF16; break;
    case DType::I8: format = FcFormat::I8; break;
    default: return false;
  }
  std::vector<float> scale;
  if (format == FcFormat::I8) {
    auto sc = where_.find(name + "_scale");
    if (sc == where_.end()) throw Error("tensor '" + name + "' is int8 but has no '" + name + "_scale' tensor");
    Tensor s = files_[sc->second.first].read(*sc->second.second);
    const int rows = e.shape.empty() ? 1 : e.shape[0];
    if (static_cast<int>(s.size()) != rows)
      throw Error("tensor '" + name + "_scale' needs one scale per output channel (" + std::to_string(rows) + ")");
    scale.assign(s.data(), s.data() + s.size());
  }
  out.format = format;
  out.shape = e.shape;
  out.owner = files_[it->second.first].source();
  out.data = files_[it->second.first].raw(e);
  out.size = e.end - e.begin;
  out.scale = std::move(scale);
  // a header of odd length leaves 2-byte values at odd addresses, which the kernels may not read in place
  if (fc_format_size(format) > 1 && reinterpret_cast<std::uintptr_t>(out.data) % fc_format_size(format) != 0) {
    auto* copy = static_cast<uint8_t*>(std::malloc(out.size ? out.size : 1));
    if (!copy) throw std::bad_alloc();
    std::memcpy(copy, out.data, out.size);
    out.owner = ByteSource::from_malloc(copy, out.size);
    out.data = copy;
  }
  return true;
}

std::vector<const TensorEntry*> WeightStore::entries() const {
  std::vector<const TensorEntry*> out;
  for (auto& [k, v] : where_) out.push_back(v.second);
  return out;
}

std::string WeightStore::format_summary() const {
  auto get = [&](const char* k) { auto it = metadata_.find(k); return it == metadata_.end() ? std::string() : it->second; };
  if (get("lrpscope.format") == "onnx") return "ONNX (" + get("lrpscope.onnx") + ")";
  if (get("lrpscope.format") != "pytorch")
    return files_.size() > 1 ? "safetensors (" + std::to_string(files_.size()) + " shards)" : "safetensors";
  std::string s = "PyTorch (torch.save zip";
  const std::string c = get("lrpscope.pytorch_container");
  if (get("lrpscope.pytorch_whole_model") == "1")
    s += "; a whole model" + (c.empty() ? std::string() : " under '" + c + "'") + ": its parameters and buffers read from its records";
  else if (!c.empty()) s += "; the state dict under '" + c + "'";
  if (!get("lrpscope.pytorch_prefix").empty()) s += "; '" + get("lrpscope.pytorch_prefix") + "' removed from the keys";
  return s + ")";
}

std::string WeightStore::dtype_summary() const {
  std::set<std::string> d;
  for (auto& [k, v] : where_)
    if (!ends_with(k, ".num_batches_tracked"))  // (a batch norm's training counter: no weight)
      d.insert(dtype_name(v.second->dtype));
  std::string s;
  for (auto& x : d) s += (s.empty() ? "" : "+") + x;
  return s;
}

}  // namespace lrp
