// Fuzz target: the safetensors reader, the architecture inference and the network builder.
#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "model/network.h"
#include "model/weight_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    std::vector<uint8_t> bytes(data, data + size);
    auto file = lrp::SafetensorsFile(lrp::ByteSource::from_buffer(bytes));
    for (const auto& e : file.tensors()) {
      try {
        lrp::Tensor t = file.read(e);
        (void)t;
      } catch (const lrp::Error&) {
      }
    }
    auto ws = lrp::WeightStore::from_buffer(std::move(bytes));
    auto net = lrp::Network::from_weights(ws);
    (void)net;
  } catch (const lrp::Error&) {
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
