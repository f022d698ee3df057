#include "model/onnx_file.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "model/protobuf_wire.h"

namespace lrp {

namespace {

constexpr std::size_t kMaxItems = 1 << 16;  // nodes, initializers, inputs, attributes: a VGG has about a hundred

// onnx.TensorProto.DataType
enum : int64_t { kFloat = 1, kInt32 = 6, kInt64 = 7, kFloat16 = 10, kDouble = 11, kBFloat16 = 16 };

const char* onnx_type_name(int64_t t) {
  static const char* names[] = {"UNDEFINED", "FLOAT", "UINT8",  "INT8",   "UINT16",    "INT16",     "INT32",
                                "INT64",     "STRING", "BOOL",  "FLOAT16", "DOUBLE",   "UINT32",    "UINT64",
                                "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  return t >= 0 && t <= 16 ? names[t] : "an unknown type";
}

struct OTensor {
  std::string name;
  int64_t type = 0;
  std::vector<int64_t> dims;
  const uint8_t* bytes = nullptr;  // raw_data (of `type`), or packed float_data / double_data: in the file
  std::size_t nbytes = 0;
  int64_t bytes_type = 0;          // the type of `bytes`: 0 for raw_data (the tensor's own)
  std::vector<float> floats;       // float_data written field by field
  std::vector<int64_t> ints;       // int32_data (also FLOAT16/BFLOAT16 bits) and int64_data
  bool external = false;
};

struct OAttr {
  std::string name;
  bool has_i = false, has_f = false, has_t = false;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::string s;
  OTensor t;
};

struct ONode {
  std::string name, op, domain;
  std::vector<std::string> in, out;
  std::vector<OAttr> attrs;
  const OAttr* attr(const char* n) const {
    for (const OAttr& a : attrs)
      if (a.name == n) return &a;
    return nullptr;
  }
  std::string label() const { return "node '" + (name.empty() ? (out.empty() ? op : out[0]) : name) + "' (" + op + ")"; }
};

struct OValue {
  std::string name;
  std::vector<int64_t> dims;  // -1: not fixed
};

struct OModel {
  int64_t ir = 0, opset = -1;
  std::string producer, producer_version;
  std::vector<ONode> nodes;
  std::vector<OTensor> inits;
  std::vector<OValue> inputs, outputs;
  std::map<std::string, std::string> props;
  std::vector<std::string> other_domains;
};

template <class T>
void push_bounded(std::vector<T>& v, T x, const std::string& what, const char* of) {
  if (v.size() >= kMaxItems) throw Error(what + " has more than " + std::to_string(kMaxItems) + " " + of + ": not a VGG");
  v.push_back(std::move(x));
}

OTensor parse_tensor(const uint8_t* b, std::size_t n, const std::string& what) {
  OTensor t;
  PbReader r(b, n, what);
  PbField f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: pb_varints(f, t.dims, what); break;
      case 2: t.type = f.as_int64(); break;
      case 4:  // float_data
        if (f.wire == 2 && !t.bytes && t.floats.empty()) {
          if (f.size % 4) throw Error(what + " is damaged (a float_data field of " + std::to_string(f.size) + " bytes)");
          t.bytes = f.data, t.nbytes = f.size, t.bytes_type = kFloat;
        } else {
          if (t.bytes && t.bytes_type == kFloat) {  // packed in several runs: gather them
            t.floats.resize(t.nbytes / 4);
            std::memcpy(t.floats.data(), t.bytes, t.nbytes);
            t.bytes = nullptr, t.nbytes = 0;
          }
          pb_floats(f, t.floats, what);
        }
        break;
      case 5:
      case 7: pb_varints(f, t.ints, what); break;
      case 8: t.name = f.str(); break;
      case 9:
        if (f.wire != 2) throw Error(what + " is damaged (raw_data of wire type " + std::to_string(f.wire) + ")");
        t.bytes = f.data, t.nbytes = f.size, t.bytes_type = 0;
        break;
      case 10:  // double_data
        if (f.wire != 2 || t.bytes || f.size % 8) throw Error(what + ": tensor '" + t.name + "' has double_data in a form lrpscope does not read");
        t.bytes = f.data, t.nbytes = f.size, t.bytes_type = kDouble;
        break;
      case 13: t.external = true; break;
      case 14:
        if (f.as_int64() == 1) t.external = true;
        break;
      default: break;
    }
  }
  return t;
}

OAttr parse_attr(const uint8_t* b, std::size_t n, const std::string& what) {
  OAttr a;
  PbReader r(b, n, what);
  PbField f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: a.name = f.str(); break;
      case 2:
        if (f.wire != 5) throw Error(what + " is damaged (an attribute's float of wire type " + std::to_string(f.wire) + ")");
        a.f = f.as_float(), a.has_f = true;
        break;
      case 3: a.i = f.as_int64(), a.has_i = true; break;
      case 4: a.s = f.str(); break;
      case 5:
        if (f.wire != 2) throw Error(what + " is damaged (an attribute's tensor of wire type " + std::to_string(f.wire) + ")");
        a.t = parse_tensor(f.data, f.size, what), a.has_t = true;
        break;
      case 8:
        pb_varints(f, a.ints, what);
        if (a.ints.size() > 64) throw Error(what + ": attribute '" + a.name + "' has more than 64 values: not a VGG layer's");
        break;
      default: break;
    }
  }
  return a;
}

ONode parse_node(const uint8_t* b, std::size_t n, const std::string& what) {
  ONode d;
  PbReader r(b, n, what);
  PbField f;
  while (r.next(f)) {
    if (f.wire != 2 && (f.number >= 1 && f.number <= 5)) throw Error(what + " is damaged (a node field of wire type " + std::to_string(f.wire) + ")");
    switch (f.number) {
      case 1: push_bounded(d.in, f.str(), what, "node inputs"); break;
      case 2: push_bounded(d.out, f.str(), what, "node outputs"); break;
      case 3: d.name = f.str(); break;
      case 4: d.op = f.str(); break;
      case 5: push_bounded(d.attrs, parse_attr(f.data, f.size, what), what, "attributes"); break;
      case 7: d.domain = f.str(); break;
      default: break;
    }
  }
  return d;
}

OValue parse_value(const uint8_t* b, std::size_t n, const std::string& what) {
  OValue v;
  PbReader r(b, n, what);
  PbField f;
  while (r.next(f)) {
    if (f.number == 1 && f.wire == 2) v.name = f.str();
    if (f.number != 2 || f.wire != 2) continue;
    PbReader tr(f.data, f.size, what);  // TypeProto
    PbField tf;
    while (tr.next(tf)) {
      if (tf.number != 1 || tf.wire != 2) continue;
      PbReader ttr(tf.data, tf.size, what);  // TypeProto.Tensor
      PbField ttf;
      while (ttr.next(ttf)) {
        if (ttf.number != 2 || ttf.wire != 2) continue;
        PbReader sr(ttf.data, ttf.size, what);  // TensorShapeProto
        PbField sf;
        while (sr.next(sf)) {
          if (sf.number != 1 || sf.wire != 2) continue;
          int64_t dim = -1;
          PbReader dr(sf.data, sf.size, what);  // Dimension
          PbField df;
          while (dr.next(df))
            if (df.number == 1 && df.wire == 0) dim = df.as_int64() > 0 ? df.as_int64() : -1;
          push_bounded(v.dims, dim, what, "dimensions");
        }
      }
    }
  }
  return v;
}

OModel parse_model(const uint8_t* b, std::size_t n, const std::string& what) {
  OModel m;
  PbReader r(b, n, what);
  PbField f;
  bool graph = false;
  while (r.next(f)) {
    switch (f.number) {
      case 1: m.ir = f.as_int64(); break;
      case 2: m.producer = f.str(); break;
      case 3: m.producer_version = f.str(); break;
      case 7: {
        if (f.wire != 2) throw Error(what + " is damaged (the graph field has wire type " + std::to_string(f.wire) + ")");
        graph = true;
        PbReader gr(f.data, f.size, what);
        PbField g;
        while (gr.next(g)) {
          if (g.wire != 2) continue;
          switch (g.number) {
            case 1: push_bounded(m.nodes, parse_node(g.data, g.size, what), what, "nodes"); break;
            case 5: push_bounded(m.inits, parse_tensor(g.data, g.size, what), what, "initializers"); break;
            case 11: push_bounded(m.inputs, parse_value(g.data, g.size, what), what, "graph inputs"); break;
            case 12: push_bounded(m.outputs, parse_value(g.data, g.size, what), what, "graph outputs"); break;
            case 15: throw Error(what + " has sparse initializers, which lrpscope does not read");
            default: break;
          }
        }
        break;
      }
      case 8: {  // OperatorSetIdProto
        if (f.wire != 2) break;
        std::string domain;
        int64_t version = -1;
        PbReader orr(f.data, f.size, what);
        PbField o;
        while (orr.next(o)) {
          if (o.number == 1 && o.wire == 2) domain = o.str();
          if (o.number == 2 && o.wire == 0) version = o.as_int64();
        }
        if (domain.empty() || domain == "ai.onnx") m.opset = version;
        else push_bounded(m.other_domains, domain, what, "operator sets");
        break;
      }
      case 14: {  // StringStringEntryProto
        if (f.wire != 2) break;
        std::string k, v;
        PbReader er(f.data, f.size, what);
        PbField e;
        while (er.next(e)) {
          if (e.number == 1 && e.wire == 2) k = e.str();
          if (e.number == 2 && e.wire == 2) v = e.str();
        }
        if (k.rfind("lrpscope.", 0) == 0) m.props[k] = v;
        break;
      }
      default: break;
    }
  }
  if (!graph) throw Error(what + " is not an ONNX model (no graph in it)");
  return m;
}

// ---- tensors ----

std::size_t type_size(int64_t t) {
  switch (t) {
    case kFloat: case kInt32: return 4;
    case kInt64: case kDouble: return 8;
    case kFloat16: case kBFloat16: return 2;
    default: return 0;
  }
}

std::string dims_text(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

uint64_t numel_of(const OTensor& t, const std::string& what) {
  if (t.dims.size() > 8) throw Error(what + ": tensor '" + t.name + "' has " + std::to_string(t.dims.size()) + " dimensions");
  uint64_t n = 1;
  for (int64_t d : t.dims) {
    if (d < 0 || d >= (1ll << 31)) throw Error(what + ": tensor '" + t.name + "' has dimension " + std::to_string(d));
    if (d != 0 && n > (1ull << 40) / static_cast<uint64_t>(d))
      throw Error(what + ": tensor '" + t.name + "' has more than 2^40 elements");
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

// A weight's values as a safetensors entry would hold them: in place in the file when stored so, else copied.
struct Piece {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int> shape;
  const uint8_t* at = nullptr;  // in the file...
  std::vector<uint8_t> own;     // ... or here
  std::size_t size() const { return at ? bytes : own.size(); }
  std::size_t bytes = 0;
};

DType dtype_of(int64_t t) {
  switch (t) {
    case kFloat: return DType::F32;
    case kFloat16: return DType::F16;
    case kBFloat16: return DType::BF16;
    case kDouble: return DType::F64;
    default: return DType::Unknown;
  }
}

// The values of `t` as a piece of dtype dtype_of(t.type). `role`: what it is, for messages.
Piece weight_piece(const OTensor& t, const std::string& role, const std::string& what) {
  if (t.external)
    throw Error(what + " keeps tensor '" + t.name + "' (" + role + ") in an external data file, which lrpscope does not "
                "read: save the model as one file (onnx.save_model(model, path, save_as_external_data=False))");
  Piece p;
  p.dtype = dtype_of(t.type);
  if (p.dtype == DType::Unknown)
    throw Error(what + ": tensor '" + t.name + "' (" + role + ") is " + onnx_type_name(t.type) +
                "; lrpscope reads FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights");
  const uint64_t n = numel_of(t, what);
  const std::size_t es = type_size(t.type);
  for (int64_t d : t.dims) p.shape.push_back(static_cast<int>(d));
  if (t.bytes) {
    const int64_t bt = t.bytes_type ? t.bytes_type : t.type;
    if (bt != t.type)
      throw Error(what + ": tensor '" + t.name + "' is " + onnx_type_name(t.type) + " but holds " + onnx_type_name(bt) + " values");
    if (t.nbytes != n * es)
      throw Error(what + ": tensor '" + t.name + "' (" + role + ") holds " + std::to_string(t.nbytes) + " bytes; its shape " +
                  dims_text(t.dims) + " of " + onnx_type_name(t.type) + " needs " + std::to_string(n * es));
    p.at = t.bytes, p.bytes = t.nbytes;
    return p;
  }
  if (t.type == kFloat && t.floats.size() == n) {
    p.own.resize(n * 4);
    if (n) std::memcpy(p.own.data(), t.floats.data(), n * 4);
    return p;
  }
  if ((t.type == kFloat16 || t.type == kBFloat16) && t.ints.size() == n) {  // 16-bit values in int32_data
    p.own.resize(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
      const uint16_t u = static_cast<uint16_t>(t.ints[i]);
      std::memcpy(p.own.data() + 2 * i, &u, 2);
    }
    return p;
  }
  throw Error(what + ": tensor '" + t.name + "' (" + role + ") holds " +
              std::to_string(t.floats.size() + t.ints.size()) + " values; its shape " + dims_text(t.dims) + " needs " +
              std::to_string(n));
}

// An INT64 (or INT32) tensor's values (Reshape's shape).
std::vector<int64_t> int_values(const OTensor& t, const std::string& what) {
  const uint64_t n = numel_of(t, what);
  if (n > 64) throw Error(what + ": tensor '" + t.name + "' is a shape of " + std::to_string(n) + " values");
  if (t.type != kInt64 && t.type != kInt32) throw Error(what + ": tensor '" + t.name + "' is " + onnx_type_name(t.type) + ", not INT64");
  if (!t.bytes) {
    if (t.ints.size() != n) throw Error(what + ": tensor '" + t.name + "' holds the wrong number of values");
    return t.ints;
  }
  const std::size_t es = type_size(t.type);
  if (t.nbytes != n * es) throw Error(what + ": tensor '" + t.name + "' holds the wrong number of bytes");
  std::vector<int64_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (es == 8) std::memcpy(&v[i], t.bytes + 8 * i, 8);
    else {
      int32_t x;
      std::memcpy(&x, t.bytes + 4 * i, 4);
      v[i] = x;
    }
  }
  return v;
}

// ---- the graph as a VGG ----

struct ConvL {
  const OTensor* w = nullptr;
  const OTensor* b = nullptr;
  const OTensor* bn[4] = {nullptr, nullptr, nullptr, nullptr};  // scale, bias, mean, var
  bool relu = false;
  std::string node;
};

struct FcL {
  const OTensor* w = nullptr;
  const OTensor* b = nullptr;
  bool transposed = false;  // stored [in, out] (Gemm transB = 0, MatMul)
  bool conv_shaped = false; // a convolution over the whole feature map ([out, c, kh, kw])
  bool awaits_bias = false; // a MatMul before its Add
  bool relu = false;
  std::string node;
};

int64_t attr_i(const ONode& n, const char* name, int64_t dflt) {
  const OAttr* a = n.attr(name);
  return a && a->has_i ? a->i : dflt;
}

float attr_f(const ONode& n, const char* name, float dflt) {
  const OAttr* a = n.attr(name);
  return a && a->has_f ? a->f : dflt;
}

std::vector<int64_t> attr_ints(const ONode& n, const char* name) {
  const OAttr* a = n.attr(name);
  return a ? a->ints : std::vector<int64_t>{};
}

bool all_are(const std::vector<int64_t>& v, int64_t x) {
  for (int64_t e : v)
    if (e != x) return false;
  return true;
}

struct Walk {
  Walk(const OModel& model, const std::string& name) : m(model), what(name) {}
  const OModel& m;
  const std::string& what;
  std::map<std::string, const OTensor*> known;  // initializers, Constant outputs, their Identity aliases
  std::vector<std::vector<ConvL>> blocks;
  std::vector<ConvL> block;
  std::vector<FcL> fcs;
  std::string last;  // the last layer-like op: Conv, BatchNormalization, Relu, MaxPool, Fc
  int stage = 0;     // 0 features, 1 pooled after the features, 2 flattened
  int64_t h = -1, w = -1;
  bool softmax = false;
  std::vector<float> eps;
  std::vector<std::string> eps_at;
  std::vector<std::string> left_out;
  std::deque<OTensor> const_store;  // Constant nodes' values (stable addresses)

  [[noreturn]] void refuse(const ONode& n, const std::string& why) const {
    throw Error(what + " is not a VGG lrpscope can read: " + n.label() + " " + why);
  }

  const OTensor& weight(const ONode& n, std::size_t i, const char* role) const {
    if (i >= n.in.size() || n.in[i].empty()) refuse(n, std::string("has no ") + role);
    auto it = known.find(n.in[i]);
    if (it == known.end()) refuse(n, std::string("takes its ") + role + " '" + n.in[i] + "' from the graph, not from an initializer");
    return *it->second;
  }

  void need_relu_done(const ONode& n) const {
    if (!block.empty() && !block.back().relu) refuse(n, "follows a convolution without a Relu after it");
    if (!fcs.empty() && !fcs.back().relu) refuse(n, "follows a fully connected layer without a Relu after it");
  }

  void end_features(const ONode& n) {
    if (!block.empty()) refuse(n, "comes after convolutions that no MaxPool ends (a VGG ends every block with one)");
    if (blocks.empty()) refuse(n, "comes before any convolution");
  }

  void conv(const ONode& n) {
    const OTensor& wt = weight(n, 1, "weight");
    const auto k = attr_ints(n, "kernel_shape");
    const auto pads = attr_ints(n, "pads");
    const auto strides = attr_ints(n, "strides");
    const auto dil = attr_ints(n, "dilations");
    const std::string pad_mode = n.attr("auto_pad") ? n.attr("auto_pad")->s : "NOTSET";
    if (attr_i(n, "group", 1) != 1) refuse(n, "is a grouped convolution (group " + std::to_string(attr_i(n, "group", 1)) + ")");
    if (!all_are(strides, 1)) refuse(n, "has strides " + dims_text(strides) + "; a VGG's convolutions have stride 1");
    if (!all_are(dil, 1)) refuse(n, "has dilations " + dims_text(dil));
    if (wt.dims.size() != 4) refuse(n, "has a weight of shape " + dims_text(wt.dims) + ", not [out, in, kh, kw]");
    const int64_t kh = wt.dims[2], kw = wt.dims[3];
    if (!k.empty() && k != std::vector<int64_t>{kh, kw}) refuse(n, "has kernel_shape " + dims_text(k) + " but a weight of shape " + dims_text(wt.dims));
    const OTensor* b = n.in.size() > 2 && !n.in[2].empty() ? &weight(n, 2, "bias") : nullptr;
    const bool same = pad_mode == "SAME_UPPER" || pad_mode == "SAME_LOWER";
    const bool pad1 = (kh == 3 && kw == 3) && ((pads.size() == 4 && all_are(pads, 1)) || same);
    const bool pad0 = (pads.empty() || all_are(pads, 0)) && !same;
    if (stage == 0 && pad1) {
      need_relu_done(n);
      if (!fcs.empty()) refuse(n, "comes after a fully connected layer");
      ConvL c;
      c.w = &wt, c.b = b, c.node = n.label();
      block.push_back(c);
      last = "Conv";
      return;
    }
    if (pad0 && (stage > 0 || (block.empty() && !blocks.empty()))) {  // timm's pre_logits: fc6/fc7 as convolutions
      need_relu_done(n);
      if (h > 0 && (kh != h || kw != w))
        refuse(n, "is a " + std::to_string(kh) + "x" + std::to_string(kw) + " convolution over a " + std::to_string(h) + "x" +
                  std::to_string(w) + " map: as a fully connected layer it must cover the whole map");
      if (h < 0 && (kh != 1 || kw != 1) && !fcs.empty()) refuse(n, "is a " + std::to_string(kh) + "x" + std::to_string(kw) + " convolution after a fully connected layer");
      FcL f;
      f.w = &wt, f.b = b, f.conv_shaped = true, f.node = n.label();
      fcs.push_back(f);
      h = w = 1;
      stage = 1;  // (a 1x1 map: a Flatten after it changes nothing)
      last = "Fc";
      return;
    }
    refuse(n, "is a " + std::to_string(kh) + "x" + std::to_string(kw) + " convolution with pads " + dims_text(pads) +
              "; a VGG's are 3x3 with pads [1, 1, 1, 1]");
  }

  void batch_norm(const ONode& n) {
    if (last != "Conv" || block.empty()) refuse(n, "does not follow a convolution");
    if (attr_i(n, "training_mode", 0) != 0) refuse(n, "is in training mode");
    // (spatial = 0 with one value per channel is how MXNet's exporter wrote the model zoo's -bn models: the same
    // per-channel batch norm; statistics per position would not have the channels' shape and are refused below)
    ConvL& c = block.back();
    const char* roles[] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; ++i) c.bn[i] = &weight(n, static_cast<std::size_t>(i + 1), roles[i]);
    eps.push_back(attr_f(n, "epsilon", 1e-5f));
    eps_at.push_back(n.label());
    last = "BatchNormalization";
  }

  void relu(const ONode& n) {
    if ((last == "Conv" || last == "BatchNormalization") && !block.empty() && !block.back().relu) block.back().relu = true;
    else if (last == "Fc" && !fcs.empty() && !fcs.back().relu && !fcs.back().awaits_bias) fcs.back().relu = true;
    else refuse(n, "does not follow a convolution or a fully connected layer");
    last = "Relu";
  }

  void max_pool(const ONode& n) {
    if (stage != 0 || block.empty() || !block.back().relu) refuse(n, "does not end a block of convolutions, each with its Relu");
    const auto k = attr_ints(n, "kernel_shape");
    const auto s = attr_ints(n, "strides");
    const auto pads = attr_ints(n, "pads");
    const std::string pad_mode = n.attr("auto_pad") ? n.attr("auto_pad")->s : "NOTSET";
    if (k != std::vector<int64_t>{2, 2} || s != std::vector<int64_t>{2, 2})
      refuse(n, "has kernel_shape " + dims_text(k) + " and strides " + dims_text(s) + "; a VGG pools 2x2 with stride 2");
    if (!all_are(pads, 0) || (pad_mode != "NOTSET" && pad_mode != "VALID")) refuse(n, "pads its input");
    if (!all_are(attr_ints(n, "dilations"), 1)) refuse(n, "has dilations");
    if (attr_i(n, "ceil_mode", 0) != 0 && ((h > 0 && h % 2) || (w > 0 && w % 2) || h < 0))
      refuse(n, "rounds up (ceil_mode 1) on a map of odd or unknown size");
    blocks.push_back(std::move(block));
    block.clear();
    if (h > 0) h /= 2, w /= 2;
    last = "MaxPool";
  }

  void avg_pool(const ONode& n, bool global) {
    end_features(n);
    if (stage != 0 || !fcs.empty()) refuse(n, "is not right after the convolutions");
    if (global) {
      h = w = 1;
    } else {
      const auto k = attr_ints(n, "kernel_shape");
      const auto s = attr_ints(n, "strides");
      if (k.size() != 2 || s != k || !all_are(attr_ints(n, "pads"), 0))
        refuse(n, "has kernel_shape " + dims_text(k) + " and strides " + dims_text(s) + " (pads " + dims_text(attr_ints(n, "pads")) +
                  "): lrpscope reads an adaptive average pool exported as a kernel that tiles the map");
      if (h > 0 && (h % k[0] || w % k[1]))
        refuse(n, "does not tile the " + std::to_string(h) + "x" + std::to_string(w) + " map with " + dims_text(k));
      if (h < 0 && !(k[0] == 1 && k[1] == 1)) refuse(n, "needs the map's size, and the graph's input has none");
      if (h > 0) h /= k[0], w /= k[1];
    }
    stage = 1;
    last = "AveragePool";
  }

  void flatten(const ONode& n) {
    if (stage < 2 && fcs.empty()) end_features(n);
    if (n.op == "Flatten") {
      if (attr_i(n, "axis", 1) != 1) refuse(n, "flattens from axis " + std::to_string(attr_i(n, "axis", 1)) + ", not 1");
    } else {
      const std::vector<int64_t> shape = int_values(weight(n, 1, "shape"), what);
      if (shape.size() != 2 || shape[1] == 0 || shape[1] < -1 || (shape[0] != 0 && shape[0] != 1 && shape[0] != -1))
        refuse(n, "reshapes to " + dims_text(shape) + ", not [batch, features]");
    }
    stage = 2;
  }

  void fc(const ONode& n, bool matmul) {
    if (stage < 2) refuse(n, "comes before the feature map is flattened");
    need_relu_done(n);
    const OTensor& wt = weight(n, 1, "weight");
    if (wt.dims.size() != 2) refuse(n, "has a weight of shape " + dims_text(wt.dims) + ", not a matrix");
    FcL f;
    f.w = &wt, f.node = n.label();
    if (matmul) {
      f.transposed = true, f.awaits_bias = true;
    } else {
      if (attr_i(n, "transA", 0) != 0) refuse(n, "transposes its input (transA 1)");
      if (attr_f(n, "alpha", 1.0f) != 1.0f || attr_f(n, "beta", 1.0f) != 1.0f)
        refuse(n, "scales its terms (alpha " + std::to_string(attr_f(n, "alpha", 1.0f)) + ", beta " +
                  std::to_string(attr_f(n, "beta", 1.0f)) + ")");
      f.transposed = attr_i(n, "transB", 0) == 0;
      if (n.in.size() > 2 && !n.in[2].empty()) f.b = &weight(n, 2, "bias");
    }
    fcs.push_back(f);
    last = "Fc";
  }

  void add(const ONode& n, const std::string& cur) {
    if (last != "Fc" || fcs.empty() || !fcs.back().awaits_bias) refuse(n, "is not the bias of a MatMul");
    const std::size_t other = n.in[0] == cur ? 1 : 0;
    fcs.back().b = &weight(n, other, "bias");
    fcs.back().awaits_bias = false;
  }

  void run() {
    for (const OTensor& t : m.inits) known[t.name] = &t;
    // the data input: the graph input that no initializer gives
    std::vector<const OValue*> data;
    for (const OValue& v : m.inputs)
      if (!known.count(v.name)) data.push_back(&v);
    if (data.size() != 1)
      throw Error(what + " is not a VGG lrpscope can read: the graph has " + std::to_string(data.size()) +
                  " data inputs, a VGG one (a picture)");
    std::string cur = data[0]->name;
    const auto& d = data[0]->dims;
    if (d.size() == 4 && d[2] > 0 && d[3] > 0) h = d[2], w = d[3];
    for (const ONode& n : m.nodes) {
      if (!n.domain.empty() && n.domain != "ai.onnx") refuse(n, "is from the operator set '" + n.domain + "'");
      if (n.op == "Constant") {
        const OAttr* a = n.attr("value");
        if (!a || !a->has_t || n.out.empty()) refuse(n, "has no tensor value");
        const_store.push_back(a->t);
        const_store.back().name = n.out[0];
        known[n.out[0]] = &const_store.back();
        continue;
      }
      if (n.op == "Identity" && !n.in.empty() && known.count(n.in[0]) && !n.out.empty()) {
        known[n.out[0]] = known[n.in[0]];
        continue;
      }
      if (n.in.empty() || n.out.empty()) refuse(n, "has no input or no output");
      const bool takes = n.in[0] == cur || (n.op == "Add" && n.in.size() == 2 && n.in[1] == cur);
      if (!takes) refuse(n, "does not take the output of the layer before it ('" + cur + "'): the graph is not a chain of layers");
      if (softmax) refuse(n, "comes after the Softmax");
      const std::string& op = n.op;
      if (op == "Conv") conv(n);
      else if (op == "BatchNormalization") batch_norm(n);
      else if (op == "Relu") relu(n);
      else if (op == "MaxPool") max_pool(n);
      else if (op == "AveragePool") avg_pool(n, false);
      else if (op == "GlobalAveragePool") {
        if (stage == 1 && h == 1) {}  // (after timm's pre_logits: the map is 1x1 already)
        else avg_pool(n, true);
      } else if (op == "Flatten" || op == "Reshape") flatten(n);
      else if (op == "Gemm") fc(n, false);
      else if (op == "MatMul") fc(n, true);
      else if (op == "Add") add(n, cur);
      else if (op == "Dropout" || op == "Identity") {}
      else if (op == "Softmax" || op == "LogSoftmax") {
        if (fcs.empty()) refuse(n, "comes before any fully connected layer");
        softmax = true;
        left_out.push_back("the final " + op);
      } else if (op == "QuantizeLinear" || op == "DequantizeLinear" || op == "QLinearConv" || op == "QLinearMatMul" ||
                 op == "ConvInteger" || op == "MatMulInteger")
        refuse(n, "belongs to a quantised model: lrpscope reads float ONNX models (lrpscope convert --dtype int8 quantises one)");
      else
        refuse(n, "is an operator a VGG does not have (lrpscope reads Conv, BatchNormalization, Relu, MaxPool, AveragePool, "
                  "GlobalAveragePool, Flatten, Reshape, Gemm, MatMul, Add, Dropout, Identity, Softmax)");
      cur = n.out[0];
    }
    if (m.outputs.size() != 1 || m.outputs[0].name != cur)
      throw Error(what + " is not a VGG lrpscope can read: the graph's output is not the end of its chain of layers ('" + cur + "')");
    if (blocks.empty()) throw Error(what + " is not a VGG lrpscope can read: it has no convolutions ended by a MaxPool");
    if (fcs.empty()) throw Error(what + " is not a VGG lrpscope can read: it has no fully connected layers");
    if (!block.empty()) throw Error(what + " is not a VGG lrpscope can read: convolutions after the last MaxPool");
    for (std::size_t i = 0; i < fcs.size(); ++i) {
      if (fcs[i].awaits_bias) throw Error(what + ": " + fcs[i].node + " has no Add of its bias after it");
      const bool last_fc = i + 1 == fcs.size();
      if (fcs[i].relu == last_fc)
        throw Error(what + " is not a VGG lrpscope can read: " + fcs[i].node +
                    (last_fc ? " has a Relu after it (the last layer gives the logits)" : " has no Relu after it"));
    }
    std::size_t with_bn = 0, convs = 0;
    for (auto& b : blocks)
      for (auto& c : b) convs++, with_bn += c.bn[0] != nullptr;
    if (with_bn != 0 && with_bn != convs)
      throw Error(what + " is not a VGG lrpscope can read: " + std::to_string(with_bn) + " of its " + std::to_string(convs) +
                  " convolutions have a BatchNormalization (a batch-norm VGG has one after each)");
    for (std::size_t i = 1; i < eps.size(); ++i)
      if (eps[i] != eps[0])
        throw Error(what + ": its batch norms' epsilons differ (" + std::to_string(eps[0]) + " at " + eps_at[0] + ", " +
                    std::to_string(eps[i]) + " at " + eps_at[i] + "); lrpscope folds them with one");
  }

};

std::string float_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

// `p` reshaped to `shape` (same values), checking the count.
void reshape_piece(Piece& p, std::vector<int> shape, const std::string& role, const std::string& what) {
  uint64_t a = 1, b = 1;
  for (int d : p.shape) a *= static_cast<uint64_t>(d);
  for (int d : shape) b *= static_cast<uint64_t>(d);
  if (a != b) {
    std::vector<int64_t> want(shape.begin(), shape.end()), have(p.shape.begin(), p.shape.end());
    throw Error(what + ": " + role + " has shape " + dims_text(have) + ", expected " + dims_text(want));
  }
  p.shape = std::move(shape);
}

Piece zeros(int n) {
  Piece p;
  p.shape = {n};
  p.own.assign(static_cast<std::size_t>(n) * 4, 0);
  return p;
}

// [rows, cols] stored -> [cols, rows]
void transpose_piece(Piece& p) {
  const std::size_t es = dtype_size(p.dtype);
  const std::size_t rows = static_cast<std::size_t>(p.shape[0]), cols = static_cast<std::size_t>(p.shape[1]);
  const uint8_t* src = p.at ? p.at : p.own.data();
  std::vector<uint8_t> out(rows * cols * es);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) std::memcpy(out.data() + (c * rows + r) * es, src + (r * cols + c) * es, es);
  p.at = nullptr;
  p.own = std::move(out);
  p.shape = {static_cast<int>(cols), static_cast<int>(rows)};
}

std::vector<Piece> pieces_of(const Walk& wk, const std::string& what) {
  std::vector<Piece> out;
  auto add = [&](Piece p, std::string name) {
    p.name = std::move(name);
    out.push_back(std::move(p));
  };
  int i = 0, prev = -1;  // (prev: the channels or features the layer before gives)
  const bool bn = !wk.eps.empty();
  for (const auto& block : wk.blocks) {
    for (const ConvL& c : block) {
      const std::string n = "features." + std::to_string(i);
      Piece wp = weight_piece(*c.w, "the weight of " + c.node, what);
      if (prev >= 0 && wp.shape[1] != prev)
        throw Error(what + ": the weight '" + c.w->name + "' of " + c.node + " has shape " + dims_text(c.w->dims) + ": it takes " +
                    std::to_string(wp.shape[1]) + " channels, but the convolution before gives " + std::to_string(prev));
      const int oc = wp.shape[0];
      prev = oc;
      add(std::move(wp), n + ".weight");
      if (c.b) {
        Piece bp = weight_piece(*c.b, "the bias of " + c.node, what);
        reshape_piece(bp, {oc}, "the bias of " + c.node, what);
        add(std::move(bp), n + ".bias");
      } else if (!bn) {
        add(zeros(oc), n + ".bias");
      }
      if (bn) {
        const char* parts[] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; ++k) {
          const std::string role = "the " + std::string(parts[k]) + " of the BatchNormalization after " + c.node;
          Piece p = weight_piece(*c.bn[k], role, what);
          reshape_piece(p, {oc}, role, what);
          add(std::move(p), "features." + std::to_string(i + 1) + "." + parts[k]);
        }
      }
      i += bn ? 3 : 2;
    }
    i += 1;
  }
  for (std::size_t j = 0; j < wk.fcs.size(); ++j) {
    const FcL& f = wk.fcs[j];
    const std::string n = "classifier." + std::to_string(3 * j);
    Piece wp = weight_piece(*f.w, "the weight of " + f.node, what);
    if (f.conv_shaped) {
      long long in = 1;
      for (std::size_t d = 1; d < wp.shape.size(); ++d) in *= wp.shape[d];
      if (in > (1ll << 31)) throw Error(what + ": the weight of " + f.node + " is too large");
      wp.shape = {wp.shape[0], static_cast<int>(in)};
    } else if (f.transposed) {
      transpose_piece(wp);
    }
    const int64_t takes = f.conv_shaped ? f.w->dims[1] : wp.shape[1];
    if (j > 0 && takes != prev)
      throw Error(what + ": the weight '" + f.w->name + "' of " + f.node + " has shape " + dims_text(f.w->dims) + ": it takes " +
                  std::to_string(takes) + " inputs, but the layer before gives " + std::to_string(prev));
    if (j == 0 && f.conv_shaped && takes != prev)
      throw Error(what + ": the weight '" + f.w->name + "' of " + f.node + " has shape " + dims_text(f.w->dims) + ": it takes " +
                  std::to_string(takes) + " channels, but the last convolution gives " + std::to_string(prev));
    const int oc = wp.shape[0];
    prev = oc;
    add(std::move(wp), n + ".weight");
    if (f.b) {
      Piece bp = weight_piece(*f.b, "the bias of " + f.node, what);
      reshape_piece(bp, {oc}, "the bias of " + f.node, what);
      add(std::move(bp), n + ".bias");
    } else {
      add(zeros(oc), n + ".bias");
    }
  }
  return out;
}

}  // namespace

bool looks_like_onnx(const uint8_t* b, std::size_t n) {
  if (n < 3 || b[0] != 0x08 || b[1] == 0 || b[1] >= 0x80) return false;  // ir_version, a small varint
  static const uint8_t next[] = {0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72};  // ModelProto's other fields
  if (!std::memchr(next, b[2], sizeof next)) return false;
  return !(n > 8 && b[8] == '{');  // (a safetensors file whose header length starts so)
}

SafetensorsFile read_onnx_file(std::shared_ptr<ByteSource> src, const std::string& what) {
  const OModel m = parse_model(src->data(), src->size(), what);
  if (m.opset < 0) throw Error(what + " is not an ONNX model lrpscope can read: it names no version of the default operator set");
  if (m.opset < 7)
    throw Error(what + " uses ONNX opset " + std::to_string(m.opset) + ", older than 7, the oldest lrpscope reads "
                "(onnx.version_converter converts it)");
  Walk wk(m, what);
  wk.run();
  std::vector<Piece> pieces = pieces_of(wk, what);
  std::map<std::string, std::string> meta;
  meta["lrpscope.format"] = "onnx";
  std::string about = "opset " + std::to_string(m.opset) + ", IR " + std::to_string(m.ir);
  if (!m.producer.empty()) about += ", from " + m.producer + (m.producer_version.empty() ? "" : " " + m.producer_version);
  for (const std::string& l : wk.left_out) about += "; " + l + " left out (the logits are explained)";
  meta["lrpscope.onnx"] = about;
  if (!wk.eps.empty()) meta["lrpscope.bn_eps"] = float_text(wk.eps[0]);
  for (const OValue& v : m.inputs)
    if (!wk.known.count(v.name) && v.dims.size() == 4 && v.dims[2] > 0 && v.dims[3] > 0)
      meta["lrpscope.input_size"] = std::to_string(v.dims[2]) + "x" + std::to_string(v.dims[3]);
  for (const auto& [k, v] : m.props) meta.emplace(k, v);
  std::vector<TensorEntry> entries;
  bool in_place = true;
  for (const Piece& p : pieces) in_place = in_place && p.at;
  const uint8_t* base = src->data();
  if (in_place) {
    for (const Piece& p : pieces) {
      TensorEntry e;
      e.name = p.name, e.dtype = p.dtype, e.shape = p.shape;
      e.begin = static_cast<uint64_t>(p.at - base);
      e.end = e.begin + p.size();
      entries.push_back(std::move(e));
    }
    return SafetensorsFile::from_entries(std::move(src), std::move(entries), std::move(meta));
  }
  // something copied (a transposed matrix, values written field by field, a zero bias): one buffer for all
  std::size_t total = 0;
  for (const Piece& p : pieces) total += p.size();
  std::vector<uint8_t> buf;
  buf.reserve(total);
  for (const Piece& p : pieces) {
    TensorEntry e;
    e.name = p.name, e.dtype = p.dtype, e.shape = p.shape;
    e.begin = buf.size();
    if (p.at) buf.insert(buf.end(), p.at, p.at + p.size());
    else buf.insert(buf.end(), p.own.begin(), p.own.end());
    e.end = buf.size();
    entries.push_back(std::move(e));
  }
  return SafetensorsFile::from_entries(ByteSource::from_buffer(std::move(buf)), std::move(entries), std::move(meta));
}

}  // namespace lrp
