// PyTorch checkpoints (.pth/.pt, torch.save's zip format) read by the restricted unpickler: state dicts, whole
// models, F16, nn.DataParallel prefixes in {"state_dict": ...} containers, strided views; the logits equal
// PyTorch's eval forward (fixtures from tools/make_checkpoints.py). The legacy format, a pickle that would run a
// command, truncated archives and wrong shapes are refused with a sentence naming what is wrong.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iterator>

#include "model/forward.h"
#include "model/network.h"
#include "model/safetensors.h"
#include "model/torch_pickle.h"
#include "model/weight_store.h"
#include "checkpoint_util.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

TEST(TorchFile, LogitsEqualPyTorchsForEveryKindOfFile) {
  auto ref = SafetensorsFile::open(fixture("reference.safetensors"));
  const Tensor x = ref.read("input");
  struct Case {
    const char* file;
    const char* logits;
    const char* format;  // in info's format line
    const char* dtype;
  };
  for (const Case& c : {Case{"vgg16_bn_tv.pth", "vgg16_bn_tv", "PyTorch (torch.save zip)", "F32"},
                        Case{"vgg11_whole.pt", "vgg11_whole.pt", "a whole model: its parameters and buffers", "F32"},
                        Case{"vgg11_f16_dataparallel.pth", "vgg11_f16_dataparallel.pth",
                             "the state dict under 'state_dict'; 'module.' removed from the keys", "F16"},
                        Case{"vgg11_strided.pth", "vgg11_strided.pth", "PyTorch", "F32"}}) {
    SCOPED_TRACE(c.file);
    auto net = Network::from_weights(WeightStore::open(fixture(c.file)), c.file, 32);
    EXPECT_NE(net->info().format.find(c.format), std::string::npos) << net->info().format;
    EXPECT_EQ(net->info().dtype, c.dtype);
    EXPECT_NE(net->describe().find("format: PyTorch"), std::string::npos);
    const Tensor want = ref.read(std::string("logits/") + c.logits);
    const Tensor got = forward_logits(net, x);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_LT(max_abs_diff(got.data(), want.data(), want.size()), 1e-4 * max_abs(want.data(), want.size()));
  }
  // the batch-norm VGG as a .pth: canonised as its safetensors copy, the same names
  auto bn = Network::from_weights(WeightStore::open(fixture("vgg16_bn_tv.pth")), "bn", 32);
  EXPECT_EQ(bn->spec().arch_name(), "vgg16_bn");
  EXPECT_FALSE(bn->info().canonized.empty());
  EXPECT_EQ(bn->layer(2).name, "features.3");
  // the page's way: the bytes in memory
  auto mem = Network::from_weights(WeightStore::from_buffer(bytes_of(fixture("vgg11_whole.pt"))), "mem", 32);
  EXPECT_LT(max_abs_diff(forward_logits(mem, x).data(), ref.read("logits/vgg11_whole.pt").data(), 10), 1e-3);
}

TEST(TorchFile, ALegacyFileATorchScriptAndAPickleThatRunsSomethingAreRefused) {
  EXPECT_NE(error_of([] { WeightStore::open(fixture("vgg11_legacy.pth")); }).find("legacy format of torch before 1.6"),
            std::string::npos);
  ::unlink("/tmp/lrpscope-pickle-ran");
  const std::string evil = error_of([] { WeightStore::open(fixture("evil.pth")); });
  EXPECT_NE(evil.find("refused: the pickle names the global 'posix.system'"), std::string::npos) << evil;
  EXPECT_NE(evil.find("nothing in the file was run"), std::string::npos) << evil;
  struct stat st;
  EXPECT_NE(::stat("/tmp/lrpscope-pickle-ran", &st), 0) << "the pickle's command ran";
  // a hand-made pickle: GLOBAL builtins.eval, then a call
  const std::string p = std::string("\x80\x02") + "cbuiltins\neval\n" + "X\x04\x00\x00\x00" + "1+1" + "\x85R.";
  const std::string e2 = error_of([&] { read_torch_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size(), "hand.pkl"); });
  EXPECT_NE(e2.find("'builtins.eval'"), std::string::npos) << e2;
}

TEST(TorchFile, CutOrDamagedArchivesAndWrongShapesGiveASentence) {
  const std::vector<uint8_t> whole = bytes_of(fixture("vgg16_bn_tv.pth"));
  for (double keep : {0.0, 0.001, 0.3, 0.9, 0.999}) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() * keep));
    if (cut.size() < 4) cut = {'P', 'K', 3, 4};
    const std::string e = error_of([&] { WeightStore::from_buffer(cut); });
    EXPECT_NE(e.find("zip archive"), std::string::npos) << keep << ": " << e;
  }
  // a damaged directory entry: its local header offset points at the wrong place
  std::vector<uint8_t> bad = whole;
  for (std::size_t i = bad.size() - 22; i-- > 0;)
    if (bad[i] == 0x50 && bad[i + 1] == 0x4b && bad[i + 2] == 1 && bad[i + 3] == 2) {  // the last directory entry
      bad[i + 42] ^= 0x40;
      break;
    }
  EXPECT_NE(error_of([&] { WeightStore::from_buffer(bad); }).find("damaged zip archive"), std::string::npos);
  const std::string shape = error_of([] { Network::from_weights(WeightStore::open(fixture("vgg11_wrong_shape.pth")), "w", 32); });
  EXPECT_NE(shape.find("'features.3.weight' takes 3 channels but the previous convolution gives 4"), std::string::npos) << shape;
}
