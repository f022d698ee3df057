#include "model/vgg_spec.h"

#include <cstdlib>
#include <unistd.h>

#include <cmath>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/error.h"
#include "engine/tensor.h"
#include "model/weight_store.h"

namespace lrp {

VggSpec VggSpec::vgg16() { return by_name("vgg16"); }

VggSpec VggSpec::by_name(const std::string& name) {
  VggSpec s;
  if (name == "vgg11") s.blocks = {{64}, {128}, {256, 256}, {512, 512}, {512, 512}};
  else if (name == "vgg13") s.blocks = {{64, 64}, {128, 128}, {256, 256}, {512, 512}, {512, 512}};
  else if (name == "vgg16") s.blocks = {{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}};
  else if (name == "vgg19")
    s.blocks = {{64, 64}, {128, 128}, {256, 256, 256, 256}, {512, 512, 512, 512}, {512, 512, 512, 512}};
  else throw Error("unknown architecture '" + name + "' (vgg11, vgg13, vgg16 or vgg19)");
  s.fc = {4096, 4096, 1000};
  s.avgpool = 7;
  return s;
}

VggSpec VggSpec::scaled(int div, int classes) const {
  VggSpec s = *this;
  for (auto& b : s.blocks)
    for (auto& w : b) w = std::max(1, w / div);
  for (std::size_t i = 0; i + 1 < s.fc.size(); ++i) s.fc[i] = std::max(1, s.fc[i] / div);
  s.fc.back() = classes;
  return s;
}

int VggSpec::conv_count() const {
  int n = 0;
  for (auto& b : blocks) n += static_cast<int>(b.size());
  return n;
}

std::string VggSpec::arch_name() const {
  std::vector<int> sizes;
  for (auto& b : blocks) sizes.push_back(static_cast<int>(b.size()));
  const char* bn = batch_norm ? "_bn" : "";
  if (sizes == std::vector<int>{1, 1, 2, 2, 2}) return std::string("vgg11") + bn;
  if (sizes == std::vector<int>{2, 2, 2, 2, 2}) return std::string("vgg13") + bn;
  if (sizes == std::vector<int>{2, 2, 3, 3, 3}) return std::string("vgg16") + bn;
  if (sizes == std::vector<int>{2, 2, 4, 4, 4}) return std::string("vgg19") + bn;
  return std::string("vgg-custom") + bn;
}

int VggSpec::feature_height() const { return in_height >> blocks.size(); }
int VggSpec::feature_width() const { return in_width >> blocks.size(); }

int VggSpec::fc_in_features() const {
  const int c = blocks.empty() ? in_channels : blocks.back().back();
  return avgpool > 0 ? c * avgpool * avgpool : c * feature_height() * feature_width();
}

std::vector<int> VggSpec::conv_indices() const {
  std::vector<int> idx;
  int i = 0;
  for (auto& b : blocks) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      idx.push_back(i);
      i += batch_norm ? 3 : 2;  // conv, (bn,) relu
    }
    i += 1;  // pool
  }
  return idx;
}

std::vector<int> VggSpec::bn_indices() const {
  std::vector<int> idx;
  if (batch_norm)
    for (int c : conv_indices()) idx.push_back(c + 1);
  return idx;
}

std::vector<int> VggSpec::fc_indices() const {
  std::vector<int> idx;
  for (std::size_t i = 0; i < fc.size(); ++i) idx.push_back(static_cast<int>(3 * i));
  return idx;
}

void VggSpec::validate() const {
  require(in_channels > 0, "VGG: input channels must be positive");
  require(!blocks.empty() && blocks.size() <= 8, "VGG: needs between 1 and 8 conv blocks");
  for (auto& b : blocks) {
    require(!b.empty(), "VGG: empty conv block");
    for (int w : b) require(w > 0 && w <= 65536, "VGG: conv width out of range");
  }
  require(!fc.empty(), "VGG: needs at least one fully connected layer");
  for (int w : fc) require(w > 0 && w <= 1 << 20, "VGG: fc width out of range");
  require(avgpool >= 0 && avgpool <= 64, "VGG: avgpool size out of range");
  require(in_channels <= 65536 && in_height > 0 && in_height <= 131072 && in_width > 0 && in_width <= 131072,
          "VGG: input " + std::to_string(in_channels) + "x" + std::to_string(in_height) + "x" + std::to_string(in_width) +
              " out of range");
  // every layer's multiply-adds (and their sum) fit the 64-bit counts the kernels and progress bars use
  require(weight_values() * std::max(1.0, static_cast<double>(in_height) * in_width) < 1e18,
          "VGG: the network is too large to count its work");
  require(feature_height() >= 1 && feature_width() >= 1,
          "VGG: input " + std::to_string(in_height) + "x" + std::to_string(in_width) + " is too small for " +
              std::to_string(blocks.size()) + " pooling stages");
}

namespace {

struct Found {
  int index;
  std::vector<int> shape;
};

std::vector<Found> collect(const WeightStore& w, const std::string& prefix, const std::string& suffix) {
  std::vector<Found> out;
  for (const TensorEntry* e : w.entries()) {
    const std::string& n = e->name;
    if (n.size() <= prefix.size() + suffix.size() || n.compare(0, prefix.size(), prefix) != 0 ||
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string mid = n.substr(prefix.size(), n.size() - prefix.size() - suffix.size());
    if (mid.empty() || mid.size() > 6 || !std::all_of(mid.begin(), mid.end(), ::isdigit)) continue;
    out.push_back({std::stoi(mid), e->shape});
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.index < b.index; });
  return out;
}

}  // namespace

double VggSpec::weight_values() const {
  double n = 0, c = in_channels;
  for (const auto& b : blocks)
    for (int w : b) {
      n += (c * 9.0 + 1.0) * w;
      c = w;
    }
  double in = static_cast<double>(c) * (avgpool ? avgpool * avgpool : static_cast<double>(feature_height()) * feature_width());
  for (int f : fc) {
    n += (in + 1.0) * f;
    in = f;
  }
  return n;
}

double VggSpec::activation_values() const {
  double n = 0, h = in_height, w = in_width;
  for (const auto& b : blocks) {
    for (int c : b) n += 2.0 * c * h * w;  // convolution and ReLU
    h = std::floor(h / 2);
    w = std::floor(w / 2);
    n += static_cast<double>(b.empty() ? 0 : b.back()) * h * w;  // max-pool
  }
  for (int f : fc) n += 2.0 * f;
  return n;
}

double VggSpec::explanation_bytes(double weight_bytes) const {
  return weight_bytes * 1.6 + activation_values() * 4.0 * 3.5;
}

double memory_limit_bytes() {
#ifdef __EMSCRIPTEN__
  return 4096.0 * 1024 * 1024;  // -sMAXIMUM_MEMORY
#else
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * page : 1e18;
#endif
}

namespace {

// Every dimension is checked before any arithmetic on it: a width of 0 would divide by zero, a huge one overflow.
constexpr long long kMaxDim = 1 << 17;  // no VGG has a layer wider than this (fc6 of VGG16 takes 25088 inputs)

void check_dims(const std::string& key, const std::vector<int>& shape) {
  for (int d : shape)
    if (d <= 0 || d > kMaxDim)
      throw Error("weights do not form a VGG: '" + key + "' has shape " + shape_string(shape) + " (every dimension must be 1 to " +
                  std::to_string(kMaxDim) + ")");
}

}  // namespace

VggSpec infer_vgg_spec(const WeightStore& w, int in_height, int in_width) {
  VggSpec s;
  s.in_height = in_height;
  s.in_width = in_width;
  // (a batch-norm VGG's features.N.weight are the convolutions' and, 1-D, the BatchNorm2d's scales)
  auto convs = collect(w, "features.", ".weight");
  const bool bn = !convs.empty() && w.has("features." + std::to_string(convs[0].index + 1) + ".running_mean");
  if (bn) convs.erase(std::remove_if(convs.begin(), convs.end(), [&](const Found& f) {
                        return w.has("features." + std::to_string(f.index) + ".running_mean"); }), convs.end());
  if (convs.empty()) throw Error("weights do not form a VGG: no 'features.N.weight' tensors");
  s.batch_norm = bn;
  if (bn) {  // (an ONNX model's BatchNormalization says its epsilon; a state dict does not)
    auto it = w.metadata().find("lrpscope.bn_eps");
    if (it != w.metadata().end()) {
      char* end = nullptr;
      const double e = std::strtod(it->second.c_str(), &end);
      if (end == it->second.c_str() || *end || !(e > 0 && e < 1))
        throw Error("metadata 'lrpscope.bn_eps' is '" + it->second + "', not an epsilon in (0, 1)");
      s.bn_eps = static_cast<float>(e);
    }
  }
  const int step = bn ? 3 : 2;  // conv, (bn,) relu
  std::vector<int> block;
  int prev_out = -1;
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const auto& c = convs[i];
    const std::string name = "features." + std::to_string(c.index) + ".weight";
    check_dims(name, c.shape);
    if (c.shape.size() != 4)
      throw Error("weights do not form a VGG: '" + name + "' has shape " + shape_string(c.shape) +
                  ", expected [out, in, 3, 3]");
    if (c.shape[2] != 3 || c.shape[3] != 3)
      throw Error("weights do not form a VGG: '" + name + "' is a " + std::to_string(c.shape[2]) + "x" +
                  std::to_string(c.shape[3]) + " convolution, VGG uses 3x3");
    if (prev_out < 0) {
      s.in_channels = c.shape[1];
      if (c.index != 0) throw Error("weights do not form a VGG: the first convolution is not 'features.0'");
    } else {
      if (c.shape[1] != prev_out)
        throw Error("weights do not form a VGG: '" + name + "' takes " + std::to_string(c.shape[1]) +
                    " channels but the previous convolution gives " + std::to_string(prev_out));
    }
    if (i > 0 && prev_out >= 0) {
      int prev_index = -1;
      for (std::size_t j = i; j-- > 0;)
        if (convs[j].shape.size() == 4) {
          prev_index = convs[j].index;
          break;
        }
      const int gap = c.index - prev_index;
      if (gap == step + 1) {
        s.blocks.push_back(block);
        block.clear();
      } else if (gap != step) {
        throw Error("weights do not form a VGG: unexpected layer index gap before '" + name + "'");
      }
    }
    const std::string bias = "features." + std::to_string(c.index) + ".bias";
    if (!bn && !w.has(bias)) throw Error("weights do not form a VGG: missing '" + bias + "'");
    if (bn) {
      const std::string n = "features." + std::to_string(c.index + 1) + ".";
      for (const char* part : {"weight", "bias", "running_mean", "running_var"}) {
        const TensorEntry* e = w.find(n + part);
        if (!e) throw Error("weights do not form a batch-norm VGG: missing '" + n + part + "' (the BatchNorm2d after '" + name + "')");
        if (e->shape != std::vector<int>{c.shape[0]})
          throw Error("weights do not form a batch-norm VGG: '" + n + part + "' has shape " + shape_string(e->shape) +
                      ", expected [" + std::to_string(c.shape[0]) + "] (the channels of '" + name + "')");
      }
    }
    block.push_back(c.shape[0]);
    prev_out = c.shape[0];
  }
  s.blocks.push_back(block);

  // Classifier: torchvision names (classifier.0/3/6) or timm names (pre_logits.fc1/fc2 as convs, head.fc).
  std::vector<std::vector<int>> fcs;
  const auto cls = collect(w, "classifier.", ".weight");
  if (!cls.empty()) {
    for (const auto& c : cls) {
      if (c.shape.size() != 2)
        throw Error("weights do not form a VGG: 'classifier." + std::to_string(c.index) + ".weight' is not 2-D");
      check_dims("classifier." + std::to_string(c.index) + ".weight", c.shape);
      fcs.push_back(c.shape);
    }
  } else if (w.has("pre_logits.fc1.weight") && w.has("head.fc.weight")) {
    const auto* f1 = w.find("pre_logits.fc1.weight");
    const auto* f2 = w.find("pre_logits.fc2.weight");
    const auto* hd = w.find("head.fc.weight");
    if (f1->shape.size() != 4 || !f2 || f2->shape.size() != 4 || hd->shape.size() != 2)
      throw Error("weights do not form a VGG: unexpected timm pre_logits/head shapes");
    check_dims("pre_logits.fc1.weight", f1->shape);
    check_dims("pre_logits.fc2.weight", f2->shape);
    check_dims("head.fc.weight", hd->shape);
    // inputs of a 'conv-shaped' fully connected layer: in x kh x kw, in 64 bits before it may become an int
    auto inputs = [](const std::string& key, const std::vector<int>& sh) {
      const long long n = static_cast<long long>(sh[1]) * sh[2] * sh[3];
      if (n > kMaxDim) throw Error("weights do not form a VGG: '" + key + "' " + shape_string(sh) + " takes " +
                                   std::to_string(n) + " inputs, more than " + std::to_string(kMaxDim));
      return static_cast<int>(n);
    };
    fcs.push_back({f1->shape[0], inputs("pre_logits.fc1.weight", f1->shape)});
    fcs.push_back({f2->shape[0], inputs("pre_logits.fc2.weight", f2->shape)});
    fcs.push_back(hd->shape);
  } else {
    throw Error("weights do not form a VGG: no classifier ('classifier.N.weight' or timm 'head.fc.weight')");
  }
  const int c_last = prev_out;
  const int in0 = fcs[0][1];
  if (in0 % c_last != 0)
    throw Error("weights do not form a VGG: fc6 takes " + std::to_string(in0) + " inputs, not a multiple of " +
                std::to_string(c_last) + " channels");
  const int area = in0 / c_last;
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(area))));
  if (side * side != area) throw Error("weights do not form a VGG: fc6 input is not a square feature map");
  s.avgpool = (side == s.feature_height() && side == s.feature_width()) ? 0 : side;
  for (std::size_t i = 0; i < fcs.size(); ++i) {
    if (i > 0 && fcs[i][1] != fcs[i - 1][0])
      throw Error("weights do not form a VGG: fully connected layer " + std::to_string(i + 1) + " takes " +
                  std::to_string(fcs[i][1]) + " inputs but the previous gives " + std::to_string(fcs[i - 1][0]));
    s.fc.push_back(fcs[i][0]);
  }
  s.validate();
  return s;
}

}  // namespace lrp
