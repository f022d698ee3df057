// PyTorch checkpoints (.pth, .pt) as torch.save writes them since torch 1.6: a zip archive holding the pickle
// (<archive>/data.pkl, read by the restricted unpickler of torch_pickle.h) and one entry per storage
// (<archive>/data/<key>). The tensors become entries of a SafetensorsFile over the archive's own bytes: a
// contiguous tensor in a stored entry is read in place; a strided view, or an entry compressed with deflate, is
// copied out once. The legacy format (torch < 1.6) and TorchScript archives are named and refused.
#pragma once

#include <memory>
#include <string>

#include "model/safetensors.h"

namespace lrp {

// Whether the bytes start like a zip archive or like a legacy torch.save pickle.
bool looks_like_torch_file(const uint8_t* bytes, std::size_t n);
// The checkpoint's tensors (throws Error naming the file and what is wrong). The metadata notes the format
// ("lrpscope.format": "pytorch") and where the state dict was found.
SafetensorsFile read_torch_file(std::shared_ptr<ByteSource> bytes, const std::string& what);

}  // namespace lrp
