// A restricted unpickler for PyTorch checkpoints (the data.pkl inside a torch.save zip archive): it reads the
// pickle opcodes a tensor dictionary is made of and never runs anything. The only globals it accepts are those a
// state dict needs (collections.OrderedDict, torch._utils._rebuild_tensor_v2, _rebuild_parameter, the typed storage
// classes) and, for a whole model saved with torch.save(model), the module classes of torch.nn, torchvision and
// timm, which become inert records of their attributes (their code is not run: their parameters and buffers are
// read from those records). Any other global is refused, naming it. Every length and count is checked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace lrp {

// A tensor of the pickle: a view (offset, shape and strides in elements) into a storage of the archive.
struct TorchTensor {
  std::string name;     // its key in the state dict ("features.0.weight"), prefixes removed
  std::string storage;  // the storage's key: the archive entry <archive>/data/<storage>
  DType dtype = DType::F32;
  uint64_t storage_numel = 0;
  uint64_t offset = 0;
  std::vector<int64_t> shape, stride;
};

struct TorchStateDict {
  std::vector<TorchTensor> tensors;
  std::string container;  // where the state dict was found: "", "state_dict", "model" (a whole module), ...
  bool stripped_module_prefix = false;  // "module." (nn.DataParallel) removed from every key
  bool whole_model = false;  // torch.save(model): read from the records of its modules
};

// Reads the pickle `bytes[0, n)`; `what` names the file in messages. Throws Error on anything it does not read.
TorchStateDict read_torch_pickle(const uint8_t* bytes, std::size_t n, const std::string& what);

}  // namespace lrp
