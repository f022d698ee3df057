#include "model/network.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include <sstream>

#include "engine/error.h"
#include "model/labels.h"
#include "model/weight_store.h"

namespace lrp {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::Conv: return "conv";
    case LayerKind::ReLU: return "relu";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::AvgPool: return "avgpool";
    case LayerKind::Flatten: return "flatten";
    default: return "linear";
  }
}

std::vector<std::pair<std::string, std::vector<int>>> vgg_tensor_shapes(const VggSpec& spec) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  const auto ci = spec.conv_indices();
  int cin = spec.in_channels, k = 0;
  for (auto& b : spec.blocks)
    for (int w : b) {
      const std::string n = "features." + std::to_string(ci[static_cast<std::size_t>(k++)]);
      out.push_back({n + ".weight", {w, cin, 3, 3}});
      out.push_back({n + ".bias", {w}});
      cin = w;
    }
  const auto fi = spec.fc_indices();
  int in = spec.fc_in_features();
  for (std::size_t i = 0; i < spec.fc.size(); ++i) {
    const std::string n = "classifier." + std::to_string(fi[i]);
    out.push_back({n + ".weight", {spec.fc[i], in}});
    out.push_back({n + ".bias", {spec.fc[i]}});
    in = spec.fc[i];
  }
  return out;
}

std::shared_ptr<Network> Network::load(const std::string& path, int input_size, const KernelPolicy& policy) {
  WeightStore w = WeightStore::open(path);
  auto slash = path.find_last_of('/');
  auto net = from_weights(w, slash == std::string::npos ? path : path.substr(slash + 1), input_size, policy);
  return net;
}

static ModelConfig config_from(const WeightStore& w) {
  auto it = w.metadata().find("lrpscope.config");
  if (it != w.metadata().end()) return ModelConfig::from_json(it->second);
  return ModelConfig::imagenet();
}

// timm stores fc6/fc7 as convolutions (pre_logits.fc1/fc2) and fc8 as head.fc.
static std::string timm_name(const std::string& tv) {
  if (tv == "classifier.0.weight") return "pre_logits.fc1.weight";
  if (tv == "classifier.0.bias") return "pre_logits.fc1.bias";
  if (tv == "classifier.3.weight") return "pre_logits.fc2.weight";
  if (tv == "classifier.3.bias") return "pre_logits.fc2.bias";
  if (tv == "classifier.6.weight") return "head.fc.weight";
  if (tv == "classifier.6.bias") return "head.fc.bias";
  return tv;
}

namespace {

// Weights that are NaN or infinite are refused at load, naming the tensor (they would turn every output into NaN).
void require_finite(const std::string& key, const float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      throw Error("tensor '" + key + "' holds a non-finite value (" + (std::isnan(v[i]) ? "NaN" : "infinity") +
                  " at element " + std::to_string(i) + "): the weights are broken");
}

void require_finite(const std::string& key, const CompressedFc& c) {
  const std::size_t n = c.size / fc_format_size(c.format);
  for (std::size_t i = 0; i < n; ++i) {
    bool bad = false;
    if (c.format == FcFormat::F16 || c.format == FcFormat::BF16) {
      uint16_t h;
      std::memcpy(&h, c.data + 2 * i, 2);  // the checkpoint's bytes need not be aligned
      bad = c.format == FcFormat::F16 ? (h & 0x7C00u) == 0x7C00u : (h & 0x7F80u) == 0x7F80u;
    } else if (c.format == FcFormat::F32) {
      float f;
      std::memcpy(&f, c.data + 4 * i, 4);
      bad = !std::isfinite(f);
    }
    if (bad)
      throw Error("tensor '" + key + "' holds a non-finite value (NaN or infinity at element " + std::to_string(i) +
                  "): the weights are broken");
  }
  for (std::size_t i = 0; i < c.scale.size(); ++i)
    if (!std::isfinite(c.scale[i]) || c.scale[i] < 0)
      throw Error("tensor '" + key + "': its int8 scale " + std::to_string(i) + " is not a finite positive number");
}

std::string eps_text(float eps) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", static_cast<double>(eps));
  return b;
}

// A BatchNorm2d in eval mode folded into the convolution before it (zennit's SequentialMergeBatchNorm):
// w' = w·γ/σ, b' = (b − μ)·γ/σ + β, σ = √(var + eps), in double.
void fold_batch_norm(const WeightStore& w, int bn_index, float eps, Tensor& weight, Tensor& bias) {
  const std::string n = "features." + std::to_string(bn_index) + ".";
  const int out = weight.dim(0);
  const std::size_t per = weight.size() / static_cast<std::size_t>(out);
  Tensor p[4];
  const char* parts[4] = {"weight", "bias", "running_mean", "running_var"};
  for (int k = 0; k < 4; ++k) {
    p[k] = w.read(n + parts[k]);
    require_finite(n + parts[k], p[k].data(), p[k].size());
    if (p[k].size() != static_cast<std::size_t>(out))
      throw Error("tensor '" + n + parts[k] + "' has shape " + p[k].shape_string() + ", expected [" + std::to_string(out) + "]");
  }
  for (int c = 0; c < out; ++c) {
    const double var = p[3][static_cast<std::size_t>(c)];
    if (var < 0)
      throw Error("tensor '" + n + "running_var' holds a negative variance (" + std::to_string(var) + " at element " +
                  std::to_string(c) + "): the weights are broken");
    const double k = p[0][static_cast<std::size_t>(c)] / std::sqrt(var + eps);
    float* wc = weight.data() + static_cast<std::size_t>(c) * per;
    for (std::size_t i = 0; i < per; ++i) wc[i] = static_cast<float>(wc[i] * k);
    bias[static_cast<std::size_t>(c)] =
        static_cast<float>((bias[static_cast<std::size_t>(c)] - p[2][static_cast<std::size_t>(c)]) * k + p[1][static_cast<std::size_t>(c)]);
  }
}

}  // namespace

std::shared_ptr<Network> Network::from_weights(const WeightStore& w, const std::string& source, int input_size,
                                               const KernelPolicy& policy) {
  ModelConfig config = config_from(w);
  if (input_size > 0) {
    require(input_size >= 32 && input_size <= 4096, "input size must be between 32 and 4096");
    config.height = config.width = input_size;
    if (config.resize == ResizeMode::ShorterCrop) config.resize_shorter = input_size * 8 / 7;
  } else if (!config.from_metadata) {  // an ONNX model's input of a fixed size
    auto it = w.metadata().find("lrpscope.input_size");
    int ih = 0, iw = 0;
    if (it != w.metadata().end() && std::sscanf(it->second.c_str(), "%dx%d", &ih, &iw) == 2 && ih >= 32 && iw >= 32 &&
        ih <= 4096 && iw <= 4096 && (ih != config.height || iw != config.width)) {
      config.height = ih, config.width = iw;
      if (config.resize == ResizeMode::ShorterCrop) config.resize_shorter = std::min(ih, iw) * 8 / 7;
    }
  }
  VggSpec spec = infer_vgg_spec(w, config.height, config.width);
  if (!config.from_metadata) config.name = spec.arch_name();  // (not ImageNet's "vgg16" for any file without a config)
  if (!config.from_metadata && spec.in_channels != config.channels) {
    config.channels = spec.in_channels;
    if (spec.in_channels == 1) {
      config.color = ColorOrder::Gray;
      config.mean = {0.0f};
      config.stdev = {1.0f};
      config.resize = ResizeMode::Stretch;
    }
  }
  if (spec.in_channels != config.channels)
    throw Error("the model config says " + std::to_string(config.channels) + " input channels but the first "
                "convolution takes " + std::to_string(spec.in_channels));
  // refused before anything is allocated when one explanation cannot fit in memory
  {
    const double bytes = spec.weight_values() * (w.dtype_summary() == "F32" ? 4.0 : 2.0);
    const double need = spec.explanation_bytes(bytes), limit = memory_limit_bytes();
    if (need > limit)
      throw Error("not enough memory: explaining with this model (" + spec.arch_name() + ", input " + std::to_string(spec.in_height) + "x" +
                  std::to_string(spec.in_width) + ") needs about " + std::to_string(static_cast<long long>(need / 1e6)) +
                  " MB, more than the " + std::to_string(static_cast<long long>(limit / 1e6)) + " MB available");
  }
  std::vector<std::pair<std::string, Tensor>> tensors;
  long long params = 0;
  std::map<std::string, CompressedFc> compressed;
  for (auto& [name, shape] : vgg_tensor_shapes(spec)) {
    std::string key = w.has(name) ? name : timm_name(name);
    const bool folded = spec.batch_norm && name.rfind("features.", 0) == 0;  // (made float32 to fold)
    if (folded && shape.size() == 1 && !w.has(key)) {  // a convolution without bias before its batch norm
      tensors.emplace_back(name, Tensor(shape));
      continue;
    }
    // Weights stored as F16, BF16 or int8 stay so in memory (fc6 of VGG16 alone is 411 MB in float32); the
    // kernels expand the classifier's as they stream, and convolutions are packed from a float32 expansion.
    CompressedFc c;
    if (!folded &&
        ((name.rfind("classifier.", 0) == 0 && shape.size() == 2) || (name.rfind("features.", 0) == 0 && shape.size() == 4)) &&
        w.read_compressed(key, c)) {
      if (Tensor::count(c.shape) != Tensor::count(shape))
        throw Error("tensor '" + key + "' has shape " + shape_string(c.shape) + ", expected " + shape_string(shape));
      if (c.size != static_cast<std::size_t>(Tensor::count(shape)) * fc_format_size(c.format))
        throw Error("tensor '" + key + "' has the wrong number of bytes for its shape");
      c.shape = shape;
      require_finite(key, c);
      params += static_cast<long long>(Tensor::count(shape));
      compressed.emplace(name, std::move(c));
      continue;
    }
    Tensor t = w.read(key);
    require_finite(key, t.data(), t.size());
    if (Tensor::count(t.shape()) != Tensor::count(shape))
      throw Error("tensor '" + key + "' has shape " + t.shape_string() + ", expected " + shape_string(shape));
    t.reshape(shape);
    params += static_cast<long long>(t.size());
    tensors.emplace_back(name, std::move(t));
  }
  if (spec.batch_norm) {
    const auto ci = spec.conv_indices();
    auto find = [&](const std::string& n) -> Tensor& {
      for (auto& [k, t] : tensors)
        if (k == n) return t;
      throw Error("internal: no tensor '" + n + "' to fold");
    };
    for (int c : ci) {
      const std::string n = "features." + std::to_string(c);
      fold_batch_norm(w, c + 1, spec.bn_eps, find(n + ".weight"), find(n + ".bias"));
    }
  }
  auto net = from_tensors(spec, config, tensors, std::move(compressed), policy);
  if (spec.batch_norm)
    net->info_.canonized = "each BatchNorm2d folded into the convolution before it (" + std::to_string(spec.conv_count()) +
                           " layers, eps " + eps_text(spec.bn_eps) + ")";
  net->info_.source = source;
  net->info_.dtype = w.dtype_summary();
  net->info_.format = w.format_summary();
  net->info_.params = params;
  return net;
}

std::shared_ptr<Network> Network::from_tensors(const VggSpec& spec, const ModelConfig& config,
                                               const std::vector<std::pair<std::string, Tensor>>& tensors,
                                               std::map<std::string, CompressedFc> compressed, const KernelPolicy& policy) {
  spec.validate();
  auto net = std::shared_ptr<Network>(new Network());
  net->spec_ = spec;
  net->config_ = config;
  net->config_.channels = spec.in_channels;
  net->config_.height = spec.in_height;
  net->config_.width = spec.in_width;
  if (net->config_.labels.empty() && spec.num_classes() == 1000) net->config_.labels = imagenet_labels();
  if (!net->config_.labels.empty() && static_cast<int>(net->config_.labels.size()) != spec.num_classes())
    throw Error("the model config lists " + std::to_string(net->config_.labels.size()) + " class labels but the "
                "model has " + std::to_string(spec.num_classes()) + " classes");
  net->policy_ = policy;
  net->build(tensors, std::move(compressed));
  long long params = 0;
  for (auto& [n, t] : tensors) params += static_cast<long long>(t.size());
  net->info_.params = params;
  net->info_.dtype = "F32";
  return net;
}

void Network::build(const std::vector<std::pair<std::string, Tensor>>& tensors,
                    std::map<std::string, CompressedFc> compressed, bool weights) {
  auto get = [&](const std::string& name, const std::vector<int>& shape) -> const Tensor& {
    for (auto& [n, t] : tensors)
      if (n == name) {
        if (t.shape() != shape)
          throw Error("tensor '" + name + "' has shape " + t.shape_string() + ", expected " + shape_string(shape));
        return t;
      }
    throw Error("weights have no tensor '" + name + "'");
  };
  // weight (kept compressed when the checkpoint stores F16, BF16 or int8) and bias of a conv or fc layer
  auto set_weights = [&](Layer& l, const std::vector<int>& shape) {
    if (!weights) return;
    auto cw = compressed.find(l.name + ".weight");
    if (cw != compressed.end()) {
      l.fc_format = cw->second.format;
      l.fc_owner = std::move(cw->second.owner);
      l.fc_data = cw->second.data;
      l.fc_scale = std::move(cw->second.scale);
    } else {
      l.weight = std::make_shared<const Tensor>(get(l.name + ".weight", shape));
    }
    l.bias = get(l.name + ".bias", {shape[0]});
  };
  layers_.clear();
  const auto ci = spec_.conv_indices();
  int c = spec_.in_channels, h = spec_.in_height, w = spec_.in_width;
  int k = 0;
  for (std::size_t b = 0; b < spec_.blocks.size(); ++b) {
    for (std::size_t j = 0; j < spec_.blocks[b].size(); ++j) {
      const int idx = ci[static_cast<std::size_t>(k++)];
      const int out = spec_.blocks[b][j];
      const std::string suffix = std::to_string(b + 1) + "_" + std::to_string(j + 1);
      Layer conv;
      conv.kind = LayerKind::Conv;
      conv.name = "features." + std::to_string(idx);
      conv.nick = "conv" + suffix;
      conv.in_shape = {c, h, w};
      conv.conv = ConvShape{c, h, w, out, 3, 3, 1, 1};
      conv.out_shape = {out, h, w};
      set_weights(conv, {out, c, 3, 3});
      // the transposed packing is made by the WeightCache when LRP needs it
      Tensor expanded;
      if (weights)
        conv.packed = std::make_shared<const ConvWeights>(
            pack_conv(conv.conv, conv.float_weights(expanded).data(), ConvParts::Forward, policy_));
      conv.macs = conv.conv.macs();
      layers_.push_back(std::move(conv));
      Layer relu;
      relu.kind = LayerKind::ReLU;
      relu.name = "features." + std::to_string(idx + (spec_.batch_norm ? 2 : 1));  // (after the batch norm's)
      relu.nick = "relu" + suffix;
      relu.in_shape = relu.out_shape = {out, h, w};
      layers_.push_back(std::move(relu));
      c = out;
    }
    Layer pool;
    pool.kind = LayerKind::MaxPool;
    pool.name = "features." + std::to_string(ci[static_cast<std::size_t>(k - 1)] + (spec_.batch_norm ? 3 : 2));
    pool.nick = "pool" + std::to_string(b + 1);
    pool.pool = PoolShape{c, h, w, 2, 2};
    pool.pool.validate();
    pool.in_shape = {c, h, w};
    h = pool.pool.oh();
    w = pool.pool.ow();
    pool.out_shape = {c, h, w};
    layers_.push_back(std::move(pool));
  }
  if (spec_.avgpool > 0) {
    Layer ap;
    ap.kind = LayerKind::AvgPool;
    ap.name = "avgpool";
    ap.nick = "avgpool";
    ap.avg_out = spec_.avgpool;
    ap.in_shape = {c, h, w};
    h = w = spec_.avgpool;
    ap.out_shape = {c, h, w};
    layers_.push_back(std::move(ap));
  }
  Layer flat;
  flat.kind = LayerKind::Flatten;
  flat.name = flat.nick = "flatten";
  flat.in_shape = {c, h, w};
  int in = c * h * w;
  flat.out_shape = {in};
  layers_.push_back(std::move(flat));
  const auto fi = spec_.fc_indices();
  for (std::size_t i = 0; i < spec_.fc.size(); ++i) {
    const int out = spec_.fc[i];
    Layer fc;
    fc.kind = LayerKind::Linear;
    fc.name = "classifier." + std::to_string(fi[i]);
    fc.nick = "fc" + std::to_string(6 + i);
    fc.in_shape = {in};
    fc.out_shape = {out};
    set_weights(fc, {out, in});
    fc.macs = 1LL * out * in;
    layers_.push_back(std::move(fc));
    if (i + 1 < spec_.fc.size()) {
      Layer relu;
      relu.kind = LayerKind::ReLU;
      relu.name = "classifier." + std::to_string(fi[i] + 1);
      relu.nick = "relu" + std::to_string(6 + i);
      relu.in_shape = relu.out_shape = {out};
      layers_.push_back(std::move(relu));
    }
    in = out;
  }
}

FcMatrix Layer::fc() const {
  // rows: outputs; columns: inputs (Linear) or input channels x kernel (Conv, [cout][cin*kh*kw])
  const int rows = out_shape[0];
  const int cols = kind == LayerKind::Conv ? conv.cin * conv.kh * conv.kw : in_shape[0];
  if (fc_format == FcFormat::F32) return FcMatrix::f32(weight ? weight->data() : nullptr, rows, cols);
  return FcMatrix{fc_format, fc_data, fc_scale.empty() ? nullptr : fc_scale.data(), rows, cols};
}

Tensor Layer::dense_weight() const {
  if (fc_format == FcFormat::F32) return weight ? *weight : Tensor();
  const FcMatrix m = fc();
  Tensor t(kind == LayerKind::Conv ? std::vector<int>{conv.cout, conv.cin, conv.kh, conv.kw} : std::vector<int>{m.rows, m.cols});
  for (int r = 0; r < m.rows; ++r) {
    float* dst = t.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(m.cols);
    const float* src = m.row(r, 0, m.cols, dst);
    if (src != dst) std::copy(src, src + m.cols, dst);
  }
  return t;
}

std::size_t Layer::weight_bytes() const {
  if (fc_format != FcFormat::F32) return fc().bytes() + bias.size() * 4;
  return ((weight ? weight->size() : 0) + bias.size()) * 4;
}

std::shared_ptr<Network> Network::with_layer_weights(int layer, Tensor weight, Tensor bias) const {
  require(has_weights_, "a network outline has no weights to replace");
  auto net = std::make_shared<Network>(*this);
  Layer& l = net->layers_.at(static_cast<std::size_t>(layer));
  require(l.has_weights(), "layer " + l.name + " has no weights");
  const std::vector<int> shape = l.kind == LayerKind::Conv
                                     ? std::vector<int>{l.conv.cout, l.conv.cin, l.conv.kh, l.conv.kw}
                                     : std::vector<int>{l.out_shape[0], l.in_shape[0]};
  weight.reshape(shape);  // (throws when the counts differ)
  require(bias.size() == static_cast<std::size_t>(shape[0]), "layer " + l.name + ": a bias of " +
                                                                 std::to_string(bias.size()) + " values, expected " +
                                                                 std::to_string(shape[0]));
  bias.reshape({shape[0]});
  l.fc_format = FcFormat::F32;
  l.fc_owner.reset();
  l.fc_data = nullptr;
  l.fc_scale.clear();
  l.weight = std::make_shared<const Tensor>(std::move(weight));
  l.bias = std::move(bias);
  if (l.kind == LayerKind::Conv)
    l.packed = std::make_shared<const ConvWeights>(pack_conv(l.conv, l.weight->data(), ConvParts::Forward, policy_));
  return net;
}

int Network::find(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].name == name || layers_[i].nick == name) return static_cast<int>(i);
  return -1;
}

int Network::require_layer(const std::string& name) const {
  int i = find(name);
  if (i >= 0) return i;
  std::string names;
  for (auto& l : layers_)
    if (l.has_weights() || l.kind == LayerKind::MaxPool) names += (names.empty() ? "" : ", ") + l.name + " (" + l.nick + ")";
  throw Error("unknown layer '" + name + "'; layers with neurons: " + names);
}

std::string Network::label(int cls) const {
  if (cls >= 0 && cls < static_cast<int>(config_.labels.size())) return config_.labels[static_cast<std::size_t>(cls)];
  return "class " + std::to_string(cls);
}

std::shared_ptr<const Network> Network::outline() const { return outline_of(spec_, config_, info_); }

std::shared_ptr<const Network> Network::outline_of(const VggSpec& spec, const ModelConfig& config,
                                                   const NetworkInfo& info) {
  spec.validate();
  auto o = std::shared_ptr<Network>(new Network());
  o->spec_ = spec;
  o->config_ = config;
  o->info_ = info;
  o->has_weights_ = false;
  o->build({}, {}, false);
  return o;
}

long long Network::total_macs() const {
  long long m = 0;
  for (auto& l : layers_) m += l.macs;
  return m;
}

std::string Network::describe() const {
  std::ostringstream s;
  s << "architecture: " << spec_.arch_name() << " (" << spec_.conv_count() << " conv, " << spec_.fc.size()
    << " fc), input " << spec_.in_channels << "x" << spec_.in_height << "x" << spec_.in_width << ", "
    << num_classes() << " classes\n";
  std::string kept;
  for (auto& l : layers_)
    if (l.kind == LayerKind::Linear && l.fc_format != FcFormat::F32) kept = fc_format_name(l.fc_format);
  s << "format: " << info_.format << "\n";
  if (!info_.canonized.empty()) s << "canonised: " << info_.canonized << "\n";
  s << "parameters: " << info_.params << " (" << info_.dtype << " on disk, "
    << (kept.empty() ? std::string("float32 in memory") : "classifier kept as " + kept + " in memory, the rest float32")
    << ")\n";
  s << "multiply-adds per image: " << total_macs() << "\n";
  s << "preprocessing: " << config_.describe() << "\n";
  if (!config_.note.empty()) s << "note: " << config_.note << "\n";
  s << "layers:\n";
  for (auto& l : layers_) {
    s << "  " << l.name << " (" << l.nick << ") " << layer_kind_name(l.kind) << " " << shape_string(l.in_shape)
      << " -> " << shape_string(l.out_shape);
    if (l.macs) s << ", " << l.macs << " MACs";
    s << "\n";
  }
  return s.str();
}

}  // namespace lrp
