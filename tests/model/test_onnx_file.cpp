// ONNX models of a VGG (fixtures from tools/make_checkpoints.py: torch.onnx.export's layout and, written by hand,
// the model zoo's, timm's and a MatMul one): the logits equal PyTorch's eval forward; the checkpoint matrix
// (safetensors, .pth, ONNX x plain, batch norm x torchvision, timm layouts) opens everywhere; graphs that are not
// a VGG, old opsets, external data, quantised models, wrong shapes and cut or damaged files are refused with a
// sentence that names the file and the node or tensor.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <functional>
#include <iterator>

#include "model/convert.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/onnx_file.h"
#include "model/safetensors.h"
#include "model/weight_store.h"
#include "checkpoint_util.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

// tools/make_checkpoints.py's input224: ((31c + 17h + 7w) mod 97) / 48.5 - 1
Tensor input224() {
  Tensor x({3, 224, 224});
  for (int c = 0; c < 3; ++c)
    for (int h = 0; h < 224; ++h)
      for (int w = 0; w < 224; ++w)
        x[static_cast<std::size_t>((c * 224 + h) * 224 + w)] = static_cast<float>((31 * c + 17 * h + 7 * w) % 97) / 48.5f - 1.0f;
  return x;
}

struct Cell {
  const char* file;
  const char* logits;  // the key of reference.safetensors
  int size;            // the input: 32 (the reference's input) or 224 (input224)
  const char* arch;
};

void expect_pytorchs_logits(const Cell& c) {
  SCOPED_TRACE(c.file);
  static const SafetensorsFile ref = SafetensorsFile::open(fixture("reference.safetensors"));
  // a 224x224 ONNX model's input size comes from its graph (the call gives none)
  auto net = Network::from_weights(WeightStore::open(fixture(c.file)), c.file, c.size == 224 ? 0 : c.size);
  ASSERT_EQ(net->spec().in_height, c.size);
  EXPECT_EQ(net->spec().arch_name(), c.arch);
  const Tensor want = ref.read(std::string("logits/") + c.logits);
  const Tensor got = forward_logits(net, c.size == 224 ? input224() : ref.read("input"));
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LT(max_abs_diff(got.data(), want.data(), want.size()), 1e-4 * max_abs(want.data(), want.size()));
}

}  // namespace

TEST(OnnxFile, LogitsEqualPyTorchsForEveryLayout) {
  for (const Cell& c : {Cell{"vgg11_tv.onnx", "vgg11_tv.onnx", 224, "vgg11"},       // torch.onnx.export
                        Cell{"vgg16_bn_tv.onnx", "vgg16_bn_tv.onnx", 224, "vgg16"}, // (its BNs folded by the exporter)
                        Cell{"vgg11_bn_zoo.onnx", "vgg11_bn_zoo.onnx", 32, "vgg11_bn"},
                        Cell{"vgg11_timm.onnx", "vgg11_timm.onnx", 224, "vgg11"},
                        Cell{"vgg11_bn_timm.onnx", "vgg11_bn_timm.onnx", 224, "vgg11_bn"},
                        Cell{"vgg11_matmul.onnx", "vgg11_matmul.onnx", 32, "vgg11"}})
    expect_pytorchs_logits(c);
}

// Every format x {plain, batch norm} x {torchvision, timm} (ONNX has no key names: its layouts stand for them)
TEST(OnnxFile, TheCheckpointMatrixOpensAndEqualsPyTorch) {
  const Cell cells[] = {
      {"vgg11_tv.safetensors", "vgg11_whole.pt", 32, "vgg11"},
      {"vgg11_timm.safetensors", "vgg11_whole.pt", 32, "vgg11"},
      {"vgg16_bn_tv.safetensors", "vgg16_bn_tv", 32, "vgg16_bn"},
      {"vgg11_bn_timm.safetensors", "vgg11_bn_timm", 32, "vgg11_bn"},
      {"vgg11_whole.pt", "vgg11_whole.pt", 32, "vgg11"},
      {"vgg11_timm.pth", "vgg11_whole.pt", 32, "vgg11"},
      {"vgg16_bn_tv.pth", "vgg16_bn_tv", 32, "vgg16_bn"},
      {"vgg11_bn_timm.pth", "vgg11_bn_timm", 32, "vgg11_bn"},
      {"vgg11_tv.onnx", "vgg11_tv.onnx", 224, "vgg11"},
      {"vgg11_timm.onnx", "vgg11_timm.onnx", 224, "vgg11"},
      {"vgg11_bn_zoo.onnx", "vgg11_bn_zoo.onnx", 32, "vgg11_bn"},
      {"vgg11_bn_timm.onnx", "vgg11_bn_timm.onnx", 224, "vgg11_bn"},
  };
  for (const Cell& c : cells) expect_pytorchs_logits(c);
}

TEST(OnnxFile, InfoSaysTheFormatWhatWasLeftOutAndTheCanonisation) {
  auto zoo = Network::from_weights(WeightStore::open(fixture("vgg11_bn_zoo.onnx")), "zoo", 0);
  const std::string d = zoo->describe();
  EXPECT_NE(d.find("format: ONNX (opset 7, IR 3"), std::string::npos) << d;
  EXPECT_NE(d.find("the final Softmax left out"), std::string::npos) << d;
  EXPECT_NE(d.find("canonised: each BatchNorm2d folded into the convolution before it (8 layers, eps 0.001)"), std::string::npos) << d;
  EXPECT_NE(d.find("architecture: vgg11_bn"), std::string::npos) << d;
  EXPECT_EQ(zoo->spec().bn_eps, 1e-3f);
  // torchvision's module names, as for the same model's state dict
  EXPECT_EQ(zoo->layer(0).name, "features.0");
  EXPECT_EQ(zoo->layer(2).name, "features.3");
  auto exported = Network::from_weights(WeightStore::open(fixture("vgg11_tv.onnx")), "tv", 0);
  EXPECT_NE(exported->info().format.find("from pytorch 1.13.0"), std::string::npos) << exported->info().format;
  auto mm = Network::from_weights(WeightStore::open(fixture("vgg11_matmul.onnx")), "mm", 32);
  EXPECT_EQ(mm->info().dtype, "F16+F32");
  // the page's way: bytes in memory, known by their first bytes
  auto mem = Network::from_weights(WeightStore::from_buffer(bytes_of(fixture("vgg11_bn_zoo.onnx"))), "mem", 0);
  EXPECT_EQ(mem->info().format, zoo->info().format);
}

TEST(OnnxFile, ConvertWritesSafetensorsThatPredictTheSame) {
  const std::string out = binary_path("onnx-converted.safetensors");
  for (const char* type : {"f32", "f16"}) {
    SCOPED_TRACE(type);
    convert_weights(WeightStore::open(fixture("vgg11_bn_zoo.onnx")), out, parse_store_type(type), 0);
    auto a = Network::from_weights(WeightStore::open(fixture("vgg11_bn_zoo.onnx")), "a", 32);
    auto b = Network::from_weights(WeightStore::open(out), "b", 32);
    EXPECT_EQ(b->info().format, "safetensors");
    EXPECT_EQ(b->spec().bn_eps, 1e-3f);  // the epsilon travels with the copy
    const Tensor x = SafetensorsFile::open(fixture("reference.safetensors")).read("input");
    const Tensor la = forward_logits(a, x), lb = forward_logits(b, x);
    EXPECT_LT(max_abs_diff(la.data(), lb.data(), la.size()), (type[1] == '3' ? 1e-6 : 2e-2) * max_abs(la.data(), la.size()));
  }
  std::remove(out.c_str());
}

TEST(OnnxFile, WhatIsNotAVggIsRefusedNamingTheNode) {
  struct Bad {
    const char* file;
    const char* says;
  };
  for (const Bad& b : {Bad{"bad_opset6.onnx", "uses ONNX opset 6, older than 7"},
                       Bad{"bad_branch.onnx", "node 'c1' (Conv) does not take the output of the layer before it ('r0')"},
                       Bad{"bad_external.onnx", "keeps tensor 'dense0_weight' (the weight of node 'gemm22' (Gemm)) in an external data file"},
                       Bad{"bad_quantised.onnx", "(DequantizeLinear) belongs to a quantised model"},
                       Bad{"bad_wrong_shape.onnx", "the weight 'conv3_weight' of node 'conv3' (Conv) has shape [8, 3, 3, 3]: it takes 3 channels, but the convolution before gives 4"}}) {
    SCOPED_TRACE(b.file);
    const std::string e = error_of([&] { Network::from_weights(WeightStore::open(fixture(b.file)), b.file, 32); });
    EXPECT_NE(e.find(b.says), std::string::npos) << e;
    EXPECT_NE(e.find(b.file), std::string::npos) << "the message names the file: " << e;
  }
}

TEST(OnnxFile, CutOrDamagedFilesGiveASentenceNeverACrash) {
  const std::vector<uint8_t> whole = bytes_of(fixture("vgg11_bn_zoo.onnx"));
  ASSERT_TRUE(looks_like_onnx(whole.data(), whole.size()));
  int refused = 0;
  for (double keep : {0.001, 0.01, 0.1, 0.5, 0.9, 0.999}) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() * keep));
    const std::string e = error_of([&] { Network::from_weights(WeightStore::from_buffer(cut), "cut", 32); });
    EXPECT_FALSE(e.empty()) << keep;
    refused += e.find("is cut short") != std::string::npos;
  }
  EXPECT_GE(refused, 5);  // (the graph field's length says how much is missing)
  // every byte of the first kilobyte flipped in turn: an error or a model, never a crash (the fuzz target goes on)
  for (std::size_t i = 0; i < 1024; i += 7) {
    std::vector<uint8_t> bad = whole;
    bad[i] ^= 0x5a;
    (void)error_of([&] { Network::from_weights(WeightStore::from_buffer(bad), "bad", 32); });
  }
  // a named .onnx file that is something else
  const std::string path = binary_path("not-a-model.onnx");
  {
    std::ofstream f(path, std::ios::binary);
    f << "hello, world: not protobuf at all";
  }
  const std::string e = error_of([&] { WeightStore::open(path); });
  EXPECT_NE(e.find("not-a-model.onnx"), std::string::npos) << e;
  std::remove(path.c_str());
}
