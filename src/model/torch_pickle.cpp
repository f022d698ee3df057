#include "model/torch_pickle.h"

#include <cstdio>
#include <cstring>
#include <limits>

#include "engine/error.h"

namespace lrp {

namespace {

// The values a checkpoint's pickle is built from. Callables are `Global`s with a known meaning; a module of a
// whole-model pickle is a `Module` record of its attributes.
// (every value lives in the unpickler's arena: a pickle may make cycles, which owning pointers would leak)
struct Obj;
using P = Obj*;
struct Obj {
  enum class K { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Module } k = K::None;
  int64_t i = 0;
  double f = 0;
  std::string s;                       // Str, Bytes; Global: "module.name"; Storage: its key; Module: its class
  std::vector<P> items;                // Tuple, List
  std::vector<std::pair<P, P>> dict;   // Dict, in order
  DType dtype = DType::F32;            // Storage
  uint64_t numel = 0;                  // Storage
  P storage;                           // Tensor
  uint64_t offset = 0;                 // Tensor
  std::vector<int64_t> shape, stride;  // Tensor
  P state;                             // Module: its attributes (a Dict)
};

const char* kind_name(Obj::K k) {
  switch (k) {
    case Obj::K::None: return "None";
    case Obj::K::Bool: return "a boolean";
    case Obj::K::Int: return "an integer";
    case Obj::K::Float: return "a number";
    case Obj::K::Str: return "a string";
    case Obj::K::Bytes: return "bytes";
    case Obj::K::Tuple: return "a tuple";
    case Obj::K::List: return "a list";
    case Obj::K::Dict: return "a dictionary";
    case Obj::K::Global: return "a class or function";
    case Obj::K::Storage: return "a storage";
    case Obj::K::Tensor: return "a tensor";
    case Obj::K::Module: return "a module";
  }
  return "a value";
}

// The storage classes of torch.save (torch.<Type>Storage) and what their elements are.
bool storage_dtype(const std::string& g, DType* d) {
  static const std::map<std::string, DType> types = {
      {"torch.FloatStorage", DType::F32}, {"torch.HalfStorage", DType::F16},  {"torch.BFloat16Storage", DType::BF16},
      {"torch.DoubleStorage", DType::F64}, {"torch.LongStorage", DType::I64}, {"torch.IntStorage", DType::I32},
      {"torch.ShortStorage", DType::I16}, {"torch.CharStorage", DType::I8},   {"torch.ByteStorage", DType::U8},
      {"torch.BoolStorage", DType::Bool}};
  auto it = types.find(g);
  if (it == types.end()) return false;
  *d = it->second;
  return true;
}

bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// The module classes of a whole-model pickle: records of their attributes, never run.
bool module_class(const std::string& g) {
  return starts(g, "torch.nn.modules.") || starts(g, "torchvision.models.") || starts(g, "timm.models.") ||
         starts(g, "timm.layers.");
}

bool allowed_global(const std::string& g) {
  DType d;
  return g == "collections.OrderedDict" || g == "torch._utils._rebuild_tensor_v2" ||
         g == "torch._utils._rebuild_parameter" || g == "torch._utils._rebuild_parameter_with_state" ||
         g == "builtins.set" || g == "__builtin__.set" || g == "copyreg._reconstructor" || g == "builtins.object" || storage_dtype(g, &d) ||
         module_class(g);
}

constexpr std::size_t kMaxStack = 1u << 20, kMaxMemo = 1u << 22, kMaxValues = 1u << 23, kMaxDims = 8;

class Unpickler {
 public:
  Unpickler(const uint8_t* b, std::size_t n, const std::string& what) : b_(b), n_(n), what_(what) {}

  P make(Obj::K k) {
    if (arena_.size() >= kMaxValues) fail("more than " + std::to_string(kMaxValues) + " values");
    arena_.push_back(std::make_unique<Obj>());
    arena_.back()->k = k;
    return arena_.back().get();
  }

  P run() {
    while (true) {
      if (at_ >= n_) fail("it ends before its STOP opcode (the file may be cut off)");
      const std::size_t op_at = at_;
      const uint8_t op = b_[at_++];
      switch (op) {
        case 0x80: get(1); break;  // PROTO
        case 0x95: get(8); break;  // FRAME (protocol 4): frames are read as one stream
        case '.': {                // STOP
          if (stack_.size() != 1) fail("it ends with " + std::to_string(stack_.size()) + " values on its stack, not one");
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;
        case 'N': push(make(Obj::K::None)); break;
        case 0x88: case 0x89: {
          P v = make(Obj::K::Bool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'J': push(integer(static_cast<int32_t>(get(4)))); break;
        case 'K': push(integer(static_cast<int64_t>(get(1)))); break;
        case 'M': push(integer(static_cast<int64_t>(get(2)))); break;
        case 0x8a: {  // LONG1: a little-endian two's complement integer of up to 8 bytes
          const std::size_t k = static_cast<std::size_t>(get(1));
          if (k > 8) fail("an integer of " + std::to_string(k) + " bytes");
          uint64_t v = k ? get(static_cast<int>(k)) : 0;
          if (k > 0 && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~0ull << (8 * k);
          push(integer(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian double
          need(8);
          uint64_t v = 0;
          for (int i = 0; i < 8; ++i) v = (v << 8) | b_[at_ + static_cast<std::size_t>(i)];
          at_ += 8;
          P x = make(Obj::K::Float);
          std::memcpy(&x->f, &v, 8);
          push(x);
          break;
        }
        case 'X': push(text(Obj::K::Str, get(4))); break;     // BINUNICODE
        case 0x8c: push(text(Obj::K::Str, get(1))); break;    // SHORT_BINUNICODE
        case 'T': push(text(Obj::K::Str, get(4))); break;     // BINSTRING
        case 'U': push(text(Obj::K::Str, get(1))); break;     // SHORT_BINSTRING
        case 'B': push(text(Obj::K::Bytes, get(4))); break;   // BINBYTES
        case 'C': push(text(Obj::K::Bytes, get(1))); break;   // SHORT_BINBYTES
        case '}': push(make(Obj::K::Dict)); break;
        case ']': push(make(Obj::K::List)); break;
        case ')': push(make(Obj::K::Tuple)); break;
        case 't': {
          P t = make(Obj::K::Tuple);
          t->items = pop_mark();
          push(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: {
          const std::size_t k = static_cast<std::size_t>(op - 0x84);
          if (stack_.size() < k + floor()) fail("a tuple of " + std::to_string(k) + " with fewer values on its stack");
          P t = make(Obj::K::Tuple);
          t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
          stack_.resize(stack_.size() - k);
          push(t);
          break;
        }
        case 'q': memo(static_cast<uint32_t>(get(1))); break;   // BINPUT
        case 'r': memo(static_cast<uint32_t>(get(4))); break;   // LONG_BINPUT
        case 0x94: memo(static_cast<uint32_t>(memo_.size())); break;  // MEMOIZE
        case 'h': push(recall(static_cast<uint32_t>(get(1)))); break;  // BINGET
        case 'j': push(recall(static_cast<uint32_t>(get(4)))); break;  // LONG_BINGET
        case 'c': {  // GLOBAL "module\nname\n"
          const std::string m = line(), name = line();
          push(global(m + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          P name = pop(), m = pop();
          if (m->k != Obj::K::Str || name->k != Obj::K::Str) fail("STACK_GLOBAL without two names");
          push(global(m->s + "." + name->s));
          break;
        }
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        case 'R': {                                 // REDUCE
          P args = pop(), f = pop();
          push(call(f, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
          pop();  // (the arguments of __new__: a module's are empty)
          P cls = pop();
          if (cls->k != Obj::K::Global || !module_class(cls->s)) fail("it builds an object of " + describe(cls) + " with NEWOBJ");
          P m = make(Obj::K::Module);
          m->s = cls->s;
          push(m);
          break;
        }
        case 'b': {  // BUILD
          P state = pop();
          P& obj = top();
          if (obj->k == Obj::K::Module) obj->state = state;
          else if (obj->k != Obj::K::Dict && obj->k != Obj::K::Tensor)  // (a state dict's _metadata; a tensor's hooks)
            fail("it sets the state of " + describe(obj));
          break;
        }
        case 's': {  // SETITEM
          P v = pop(), k = pop();
          dict_of(top())->dict.emplace_back(k, v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<P> kv = pop_mark();
          if (kv.size() % 2) fail("SETITEMS with an odd number of values");
          Obj* d = dict_of(top());
          for (std::size_t i = 0; i < kv.size(); i += 2) d->dict.emplace_back(kv[i], kv[i + 1]);
          break;
        }
        case 'a': {  // APPEND
          P v = pop();
          list_of(top())->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<P> vs = pop_mark();
          Obj* l = list_of(top());
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case '0': pop(); break;  // POP
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(std::string("its opcode ") + hex + " at byte " + std::to_string(op_at) + " is not one a checkpoint needs");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(what_ + ": cannot read this PyTorch pickle: " + why); }
  void need(std::size_t k) const {
    if (at_ > n_ || n_ - at_ < k) fail("it ends inside a value (the file may be cut off)");
  }
  uint64_t get(int k) {
    need(static_cast<std::size_t>(k));
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; --i) v = (v << 8) | b_[at_ + static_cast<std::size_t>(i)];
    at_ += static_cast<std::size_t>(k);
    return v;
  }
  std::string line() {
    const std::size_t s = at_;
    while (at_ < n_ && b_[at_] != '\n' && at_ - s < 256) ++at_;
    if (at_ >= n_ || b_[at_] != '\n') fail("a GLOBAL whose name does not end");
    return std::string(reinterpret_cast<const char*>(b_ + s), (at_++) - s);
  }
  P text(Obj::K k, uint64_t len) {
    need(static_cast<std::size_t>(len));
    P v = make(k);
    v->s.assign(reinterpret_cast<const char*>(b_ + at_), static_cast<std::size_t>(len));
    at_ += static_cast<std::size_t>(len);
    return v;
  }
  P integer(int64_t i) {
    P v = make(Obj::K::Int);
    v->i = i;
    return v;
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(P v) {
    if (stack_.size() >= kMaxStack) fail("more than " + std::to_string(kMaxStack) + " values on its stack");
    stack_.push_back(std::move(v));
  }
  P pop() {
    if (stack_.size() <= floor()) fail("it takes a value from an empty stack");
    P v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  P& top() {
    if (stack_.size() <= floor()) fail("it works on an empty stack");
    return stack_.back();
  }
  std::vector<P> pop_mark() {
    if (marks_.empty()) fail("it closes a MARK it did not open");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<P> out(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  void memo(uint32_t k) {
    if (memo_.size() >= kMaxMemo && !memo_.count(k)) fail("more than " + std::to_string(kMaxMemo) + " remembered values");
    memo_[k] = top();
  }
  P recall(uint32_t k) const {
    auto it = memo_.find(k);
    if (it == memo_.end()) fail("it recalls value " + std::to_string(k) + ", which it never stored");
    return it->second;
  }
  Obj* dict_of(const P& p) const {
    if (p->k != Obj::K::Dict) fail("it sets an item of " + describe(p));
    return p;
  }
  Obj* list_of(const P& p) const {
    if (p->k != Obj::K::List) fail("it appends to " + describe(p));
    return p;
  }
  static std::string describe(const P& p) { return p->k == Obj::K::Global ? "'" + p->s + "'" : kind_name(p->k); }

  P global(const std::string& g) {
    if (!allowed_global(g))
      throw Error(what_ + ": refused: the pickle names the global '" + g + "', which a checkpoint does not need "
                  "(only tensors, dictionaries and model records are read; nothing in the file was run)");
    P v = make(Obj::K::Global);
    v->s = g;
    return v;
  }

  // ('storage', torch.<Type>Storage, key, location, numel)
  P persistent(const P& pid) {
    const auto& t = pid->items;
    if (pid->k != Obj::K::Tuple || t.size() < 5 || t[0]->k != Obj::K::Str || t[0]->s != "storage")
      fail("a persistent id that is not a storage");
    P s = make(Obj::K::Storage);
    if (t[1]->k != Obj::K::Global || !storage_dtype(t[1]->s, &s->dtype)) fail("a storage of " + describe(t[1]));
    if (t[2]->k != Obj::K::Str || t[2]->s.empty() || t[2]->s.size() > 64) fail("a storage without a key");
    if (t[4]->k != Obj::K::Int || t[4]->i < 0) fail("a storage without a size");
    s->s = t[2]->s;
    s->numel = static_cast<uint64_t>(t[4]->i);
    return s;
  }

  std::vector<int64_t> ints(const P& p, const char* what) const {
    if (p->k != Obj::K::Tuple || p->items.size() > kMaxDims) fail(std::string("a tensor whose ") + what + " is not a tuple of at most 8 integers");
    std::vector<int64_t> out;
    for (const P& x : p->items) {
      if (x->k != Obj::K::Int || x->i < 0 || x->i > std::numeric_limits<int>::max())
        fail(std::string("a tensor whose ") + what + " holds " + (x->k == Obj::K::Int ? std::to_string(x->i) : kind_name(x->k)));
      out.push_back(x->i);
    }
    return out;
  }

  P call(const P& f, const P& args) {
    if (f->k != Obj::K::Global) fail("it calls " + describe(f));
    if (args->k != Obj::K::Tuple) fail("it calls '" + f->s + "' without a tuple of arguments");
    const auto& a = args->items;
    const std::string& g = f->s;
    if (g == "collections.OrderedDict") {
      P d = make(Obj::K::Dict);
      if (!a.empty()) {
        if (a[0]->k != Obj::K::List) fail("an OrderedDict made from " + describe(a[0]));
        for (const P& kv : a[0]->items) {
          if (kv->k != Obj::K::Tuple || kv->items.size() != 2) fail("an OrderedDict made from something else than pairs");
          d->dict.emplace_back(kv->items[0], kv->items[1]);
        }
      }
      return d;
    }
    if (g == "builtins.set" || g == "__builtin__.set") {
      P l = make(Obj::K::List);
      if (!a.empty() && a[0]->k == Obj::K::List) l->items = a[0]->items;
      return l;
    }
    if (g == "torch._utils._rebuild_tensor_v2") {
      if (a.size() < 4 || a[0]->k != Obj::K::Storage || a[1]->k != Obj::K::Int || a[1]->i < 0)
        fail("_rebuild_tensor_v2 without (storage, offset, size, stride)");
      P t = make(Obj::K::Tensor);
      t->storage = a[0];
      t->offset = static_cast<uint64_t>(a[1]->i);
      t->shape = ints(a[2], "size");
      t->stride = ints(a[3], "stride");
      if (t->shape.size() != t->stride.size()) fail("a tensor whose size and stride differ in length");
      return t;
    }
    if (g == "torch._utils._rebuild_parameter" || g == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->k != Obj::K::Tensor) fail("a parameter that is not a tensor");
      return a[0];
    }
    if (g == "copyreg._reconstructor") {  // (cls, base, state): a module pickled by protocol 0 or 1
      if (a.empty() || a[0]->k != Obj::K::Global || !module_class(a[0]->s)) fail("copyreg._reconstructor of something else than a module");
      P m = make(Obj::K::Module);
      m->s = a[0]->s;
      return m;
    }
    if (module_class(g)) {
      P m = make(Obj::K::Module);
      m->s = g;
      return m;
    }
    fail("it calls '" + g + "'");
  }

  const uint8_t* b_;
  std::size_t n_, at_ = 0;
  const std::string& what_;
  std::vector<P> stack_;
  std::vector<std::size_t> marks_;
  std::map<uint32_t, P> memo_;
  std::vector<std::unique_ptr<Obj>> arena_;
};

const P* find(const P& dict, const std::string& key) {
  for (const auto& [k, v] : dict->dict)
    if (k->k == Obj::K::Str && k->s == key) return &v;
  return nullptr;
}

bool has_tensors(const P& d) {
  if (d->k != Obj::K::Dict) return false;
  for (const auto& kv : d->dict)
    if (kv.second->k == Obj::K::Tensor) return true;
  return false;
}

// A module record's parameters and buffers, and its children's under "name."
void walk_module(const P& m, const std::string& prefix, std::vector<std::pair<std::string, P>>& out, int depth,
                 std::size_t& visits, const std::string& what) {
  if (depth > 64) throw Error(what + ": a model nested more than 64 modules deep");
  if (++visits > (1u << 16)) throw Error(what + ": a model of more than 65536 modules");
  if (!m->state || m->state->k != Obj::K::Dict) return;
  for (const char* part : {"_parameters", "_buffers"})
    if (const P* d = find(m->state, part); d && (*d)->k == Obj::K::Dict)
      for (const auto& [k, v] : (*d)->dict)
        if (k->k == Obj::K::Str && v->k == Obj::K::Tensor) out.emplace_back(prefix + k->s, v);
  if (const P* d = find(m->state, "_modules"); d && (*d)->k == Obj::K::Dict)
    for (const auto& [k, v] : (*d)->dict)
      if (k->k == Obj::K::Str && v->k == Obj::K::Module) walk_module(v, prefix + k->s + ".", out, depth + 1, visits, what);
}

}  // namespace

TorchStateDict read_torch_pickle(const uint8_t* bytes, std::size_t n, const std::string& what) {
  Unpickler u(bytes, n, what);
  const P root = u.run();
  TorchStateDict sd;
  std::vector<std::pair<std::string, P>> named;
  std::size_t visits = 0;
  auto take = [&](const P& v) {
    if (v->k == Obj::K::Module) {
      walk_module(v, "", named, 0, visits, what);
      sd.whole_model = true;
      return true;
    }
    if (!has_tensors(v)) return false;
    for (const auto& [k, t] : v->dict)
      if (t->k == Obj::K::Tensor) {
        if (k->k != Obj::K::Str) throw Error(what + ": a tensor whose key is not a string");
        named.emplace_back(k->s, t);
      }
    return true;
  };
  bool found = take(root);
  if (!found && root->k == Obj::K::Dict)  // a training checkpoint: {"state_dict": ..., "epoch": ...}
    for (const char* key : {"state_dict", "model_state_dict", "model", "net", "network", "module", "params", "weights"})
      if (const P* v = find(root, key); v && take(*v)) {
        sd.container = key;
        found = true;
        break;
      }
  if (!found || named.empty())
    throw Error(what + ": no tensors found in this PyTorch file (it holds " + kind_name(root->k) +
                (root->k == Obj::K::Dict ? " without a state_dict" : "") + ")");
  bool all_module = true;
  for (const auto& [k, t] : named) all_module = all_module && starts(k, "module.");
  sd.stripped_module_prefix = all_module;
  for (const auto& [k, t] : named) {
    TorchTensor x;
    x.name = all_module ? k.substr(7) : k;
    x.storage = t->storage->s;
    x.dtype = t->storage->dtype;
    x.storage_numel = t->storage->numel;
    x.offset = t->offset;
    x.shape = t->shape;
    x.stride = t->stride;
    // every element the view reaches lies inside its storage
    uint64_t last = x.offset;
    bool empty = false;
    for (std::size_t d = 0; d < x.shape.size(); ++d) {
      if (x.shape[d] == 0) empty = true;
      else last += static_cast<uint64_t>(x.shape[d] - 1) * static_cast<uint64_t>(x.stride[d]);  // (< 2^62 each)
      if (last > (1ull << 62)) throw Error(what + ": tensor '" + x.name + "' is larger than any storage");
    }
    if (!empty && last >= x.storage_numel)
      throw Error(what + ": tensor '" + x.name + "' reaches element " + std::to_string(last) + " of a storage of " +
                  std::to_string(x.storage_numel));
    sd.tensors.push_back(std::move(x));
  }
  return sd;
}

}  // namespace lrp
