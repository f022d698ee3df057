// ONNX models of a VGG (the ONNX model zoo's vgg16/vgg19 with and without batch norm, torch.onnx.export of a
// torchvision or timm VGG), opset 7 and later, read with our own protobuf reader (protobuf_wire.h: Debian's
// libprotobuf has no WebAssembly build here). The graph must be a chain of VGG layers: Conv 3x3 (pad 1, stride 1)
// [BatchNormalization] Relu ... MaxPool 2x2, an optional average pool, Flatten or Reshape, then Gemm, MatMul + Add
// or a convolution over the whole map (timm's pre_logits) as the fully connected layers, with Relu between them;
// Dropout and Identity pass through, and a final Softmax is left out (lrpscope explains the logits). Its weights
// become a SafetensorsFile with torchvision's key names (features.N, classifier.N), so the rest of the loader is
// shared; any other graph is refused with the node that does not fit named.
#pragma once

#include <memory>
#include <string>

#include "model/safetensors.h"

namespace lrp {

// Whether the bytes start like an ONNX ModelProto (field 1, ir_version, then another ModelProto field).
bool looks_like_onnx(const uint8_t* bytes, std::size_t n);
// The model's weights under torchvision names. Metadata: "lrpscope.format" = "onnx", "lrpscope.onnx" (opset,
// producer, what was left out), "lrpscope.bn_eps" when it has batch norms, "lrpscope.input_size" ("HxW") when the
// graph's input has a fixed size, and the model's own "lrpscope.*" metadata_props.
SafetensorsFile read_onnx_file(std::shared_ptr<ByteSource> bytes, const std::string& what);

}  // namespace lrp
