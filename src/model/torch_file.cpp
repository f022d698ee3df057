#include "model/torch_file.h"

#include <cstring>
#include <map>

#include "engine/error.h"
#include "model/torch_pickle.h"
#include "model/zip_reader.h"

namespace lrp {

namespace {

// torch.save before 1.6: a pickle that starts with PROTO 2 and LONG1 of the magic number 0x1950a86a20f9469cfc6c
const uint8_t kLegacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// A tensor's bytes gathered from its strided view, row-major.
void gather(const uint8_t* src, const TorchTensor& t, std::size_t es, uint8_t* out) {
  const std::size_t dims = t.shape.size();
  std::vector<int64_t> idx(dims, 0);
  std::size_t numel = 1;
  for (int64_t d : t.shape) numel *= static_cast<std::size_t>(d);
  for (std::size_t k = 0; k < numel; ++k) {
    uint64_t at = t.offset;
    for (std::size_t d = 0; d < dims; ++d) at += static_cast<uint64_t>(idx[d]) * static_cast<uint64_t>(t.stride[d]);
    std::memcpy(out + k * es, src + at * es, es);
    for (std::size_t d = dims; d-- > 0;) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

bool looks_like_torch_file(const uint8_t* b, std::size_t n) {
  return (n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) ||
         (n >= sizeof kLegacy && std::memcmp(b, kLegacy, sizeof kLegacy) == 0);
}

SafetensorsFile read_torch_file(std::shared_ptr<ByteSource> src, const std::string& what) {
  const uint8_t* b = src->data();
  const std::size_t n = src->size();
  if (n >= sizeof kLegacy && std::memcmp(b, kLegacy, sizeof kLegacy) == 0)
    throw Error(what + " is a PyTorch checkpoint in the legacy format of torch before 1.6, which lrpscope does not "
                "read: open it in Python and save it again with torch.save (the zip format of torch 1.6 and later)");
  const std::vector<ZipEntry> entries = read_zip_directory(b, n, what);
  // the pickle: <archive>/data.pkl (one archive folder; torch names it after the file)
  const ZipEntry* pkl = nullptr;
  bool script = false;
  for (const ZipEntry& e : entries) {
    const std::size_t slash = e.name.find('/');
    if (slash == std::string::npos) continue;
    const std::string rest = e.name.substr(slash + 1);
    if (rest == "data.pkl") {
      if (pkl) throw Error(what + ": a zip archive with two checkpoints in it ('" + pkl->name + "' and '" + e.name + "')");
      pkl = &e;
    }
    if (rest.rfind("code/", 0) == 0 || rest == "constants.pkl") script = true;
  }
  if (script)
    throw Error(what + " is a TorchScript archive (torch.jit.save), not a checkpoint: save the model's state_dict "
                "with torch.save instead");
  if (!pkl) throw Error(what + ": a zip archive without a PyTorch pickle (<name>/data.pkl): not a torch.save checkpoint");
  const std::string root = pkl->name.substr(0, pkl->name.size() - std::string("data.pkl").size());
  std::vector<uint8_t> scratch;
  const uint8_t* pb = zip_entry_bytes(b, *pkl, scratch, what);
  const TorchStateDict sd = read_torch_pickle(pb, static_cast<std::size_t>(pkl->size), what);
  std::map<std::string, const ZipEntry*> storages;
  for (const ZipEntry& e : entries)
    if (e.name.rfind(root + "data/", 0) == 0) storages[e.name.substr(root.size() + 5)] = &e;
  // each tensor: in place when it is a contiguous view of a stored entry, else copied out
  struct Plan {
    TensorEntry entry;
    const TorchTensor* t;
    const ZipEntry* z;
    bool in_place;
  };
  std::vector<Plan> plans;
  std::size_t copied = 0;
  for (const TorchTensor& t : sd.tensors) {
    auto it = storages.find(t.storage);
    if (it == storages.end())
      throw Error(what + ": tensor '" + t.name + "' is in storage '" + t.storage + "', which the archive does not have (" +
                  root + "data/" + t.storage + ")");
    const ZipEntry& z = *it->second;
    const std::size_t es = dtype_size(t.dtype);
    if (z.size / es < t.storage_numel)
      throw Error(what + ": the storage of tensor '" + t.name + "' holds " + std::to_string(z.size) + " bytes, not the " +
                  std::to_string(t.storage_numel * es) + " its pickle says");
    Plan p{TensorEntry{}, &t, &z, z.method == 0};
    p.entry.name = t.name;
    p.entry.dtype = t.dtype;
    uint64_t numel = 1, expect = 1;
    bool contiguous = true;
    for (std::size_t d = t.shape.size(); d-- > 0;) {
      if (t.shape[d] != 1 && t.stride[d] != static_cast<int64_t>(expect)) contiguous = false;
      expect *= static_cast<uint64_t>(t.shape[d]);
    }
    for (int64_t d : t.shape) {
      p.entry.shape.push_back(static_cast<int>(d));
      if (d != 0 && numel > (1ull << 40) / static_cast<uint64_t>(d))
        throw Error(what + ": tensor '" + t.name + "' has more than 2^40 elements");
      numel *= static_cast<uint64_t>(d);
    }
    if (numel == 0) contiguous = true;
    p.in_place = p.in_place && contiguous;
    if (p.in_place) {
      p.entry.begin = z.data + t.offset * es;
      p.entry.end = p.entry.begin + numel * es;
    } else {
      p.entry.begin = copied;
      p.entry.end = copied + numel * es;
      copied += static_cast<std::size_t>(numel * es);
    }
    plans.push_back(std::move(p));
  }
  std::map<std::string, std::string> meta;
  meta["lrpscope.format"] = "pytorch";
  if (!sd.container.empty()) meta["lrpscope.pytorch_container"] = sd.container;
  if (sd.stripped_module_prefix) meta["lrpscope.pytorch_prefix"] = "module.";
  if (sd.whole_model) meta["lrpscope.pytorch_whole_model"] = "1";
  std::vector<TensorEntry> out;
  if (copied == 0) {
    for (Plan& p : plans) out.push_back(std::move(p.entry));
    return SafetensorsFile::from_entries(std::move(src), std::move(out), std::move(meta));
  }
  // something to copy: the copies first, then (offset past them) the tensors read in place, all in one buffer
  std::vector<uint8_t> buf(copied);
  std::map<const ZipEntry*, std::vector<uint8_t>> inflated;
  for (Plan& p : plans) {
    if (p.in_place) continue;
    const uint8_t* s = p.z->method == 0 ? b + p.z->data : nullptr;
    if (!s) {
      auto& v = inflated[p.z];
      if (v.empty()) zip_entry_bytes(b, *p.z, v, what);
      s = v.data();
    }
    gather(s, *p.t, dtype_size(p.t->dtype), buf.data() + p.entry.begin);
  }
  for (Plan& p : plans)
    if (p.in_place) {
      const std::size_t at = buf.size();
      buf.insert(buf.end(), b + p.entry.begin, b + p.entry.end);
      p.entry.end = at + (p.entry.end - p.entry.begin);
      p.entry.begin = at;
    }
  for (Plan& p : plans) out.push_back(std::move(p.entry));
  return SafetensorsFile::from_entries(ByteSource::from_buffer(std::move(buf)), std::move(out), std::move(meta));
}

}  // namespace lrp
