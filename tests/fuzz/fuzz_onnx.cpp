// Fuzz target: ONNX models — the protobuf reader, the graph walk that maps a VGG's nodes to torchvision's
// layers, the tensors' data (raw, packed, field by field, 16-bit in int32_data), and the network built from them.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/error.h"
#include "model/network.h"
#include "model/onnx_file.h"
#include "model/weight_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = lrp::read_onnx_file(lrp::ByteSource::from_buffer(std::vector<uint8_t>(data, data + size)), "fuzz.onnx");
    for (const lrp::TensorEntry& e : file.tensors()) (void)file.read(e);
    lrp::WeightStore ws;
    ws.add(std::move(file));
    auto net = lrp::Network::from_weights(ws, "fuzz", 32);
    (void)net;
  } catch (const lrp::Error&) {
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
