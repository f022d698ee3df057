// Fuzz target: PyTorch checkpoints — the zip directory, the restricted unpickler (also fed the bytes as a bare
// pickle), the tensors' views, and the network built from them.
#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "model/network.h"
#include "model/torch_pickle.h"
#include "model/weight_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lrp::read_torch_pickle(data, size, "fuzz.pkl");
  } catch (const lrp::Error&) {
  } catch (const std::bad_alloc&) {
  }
  try {
    auto ws = lrp::WeightStore::from_buffer(std::vector<uint8_t>(data, data + size));
    for (const lrp::TensorEntry* e : ws.entries()) {
      try {
        (void)ws.read(e->name);
      } catch (const lrp::Error&) {
      }
    }
    auto net = lrp::Network::from_weights(ws, "fuzz", 32);
    (void)net;
  } catch (const lrp::Error&) {
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
