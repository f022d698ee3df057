#include "app/wire.h"

#include <cstring>
#include <type_traits>

#include "engine/error.h"

namespace lrp::app {

namespace {

// ---- the two archives: each struct below is described once, by a function that both of them run ----

constexpr std::size_t kMaxText = 1 << 24, kMaxList = 1 << 24;

class Writer {
 public:
  static constexpr bool reading = false;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    if (n) out.insert(out.end(), b, b + n);
  }
  std::size_t count(std::size_t n, std::size_t /*elem*/, std::size_t /*max*/) {
    const int64_t c = static_cast<int64_t>(n);
    bytes(&c, sizeof c);
    return n;
  }
  template <class T>
  void num(T& v) {
    bytes(&v, sizeof v);
  }
  void flag(bool& b) {
    const uint8_t x = b;
    bytes(&x, 1);
  }
  template <class E>
  void choice(E& e, int /*last*/) {
    const uint8_t x = static_cast<uint8_t>(e);
    bytes(&x, 1);
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  static constexpr bool reading = true;
  Reader(const uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  void bytes(void* dst, std::size_t n) {
    if (n > n_ - pos_) throw Error("engine message: cut short");
    if (n) std::memcpy(dst, p_ + pos_, n);
    pos_ += n;
  }
  // a length prefix, checked against what is left of the message and against `max`
  std::size_t count(std::size_t /*n*/, std::size_t elem, std::size_t max) {
    int64_t c = 0;
    bytes(&c, sizeof c);
    if (c < 0 || static_cast<uint64_t>(c) > max || static_cast<uint64_t>(c) > (n_ - pos_) / (elem ? elem : 1))
      throw Error("engine message: a length past its end");
    return static_cast<std::size_t>(c);
  }
  template <class T>
  void num(T& v) {
    bytes(&v, sizeof v);
  }
  void flag(bool& b) {
    uint8_t x = 0;
    bytes(&x, 1);
    if (x > 1) throw Error("engine message: a bad flag");
    b = x != 0;
  }
  template <class E>
  void choice(E& e, int last) {
    uint8_t x = 0;
    bytes(&x, 1);
    if (x > last) throw Error("engine message: a value out of its range");
    e = static_cast<E>(x);
  }
  bool done() const { return pos_ == n_; }

 private:
  const uint8_t* p_;
  std::size_t n_, pos_ = 0;
};

template <class A>
void io(A& a, std::string& s) {
  const std::size_t n = a.count(s.size(), 1, kMaxText);
  if (A::reading) s.resize(n);
  a.bytes(s.data(), n);
}
// vectors of numbers: their bytes (both sides are little-endian: x86, ARM, WebAssembly)
template <class A, class T>
void values(A& a, std::vector<T>& v, std::size_t max = kMaxList * 16) {
  const std::size_t n = a.count(v.size(), sizeof(T), max);
  if (A::reading) v.resize(n);
  a.bytes(v.data(), n * sizeof(T));
}
template <class A, class T, class F>
void list(A& a, std::vector<T>& v, std::size_t max, F each) {
  const std::size_t n = a.count(v.size(), 1, max);
  if (A::reading) v.resize(n);
  for (auto& x : v) each(x);
}
template <class A>
void size(A& a, std::size_t& v) {
  int64_t x = static_cast<int64_t>(v);
  a.num(x);
  if (x < 0) throw Error("engine message: a negative size");
  v = static_cast<std::size_t>(x);
}
template <class A>
void io(A& a, Tensor& t) {
  std::vector<int> shape = t.shape();
  values(a, shape, 8);
  const std::size_t n = a.count(t.empty() ? 0 : t.size(), sizeof(float), kMaxList * 16);
  if (A::reading) {
    if (shape.empty()) {
      if (n) throw Error("engine message: a tensor without a shape");
      t = Tensor();
      return;
    }
    // the shape must account for the values the message holds, before anything is allocated for it
    std::size_t want = 1;
    for (int d : shape) {
      if (d <= 0 || want > n / static_cast<std::size_t>(d) + 1) throw Error("engine message: a tensor's values do not match its shape");
      want *= static_cast<std::size_t>(d);
    }
    if (want != n) throw Error("engine message: a tensor's values do not match its shape");
    t = Tensor(shape);
  }
  a.bytes(t.empty() ? nullptr : t.data(), n * sizeof(float));
}
template <class A>
void io(A& a, Image& img) {
  for (int* v : {&img.width, &img.height, &img.source_width, &img.source_height}) a.num(*v);
  values(a, img.rgb);
  values(a, img.alpha);
  if (A::reading) {
    const std::size_t px = img.width > 0 && img.height > 0 ? static_cast<std::size_t>(img.width) * img.height : 0;
    if (img.width < 0 || img.height < 0 || img.rgb.size() != px * 3 || (!img.alpha.empty() && img.alpha.size() != px))
      throw Error("engine message: a picture's pixels do not match its size");
  }
}

// ---- the structs ----

template <class A>
void io(A& a, Target& t) {
  a.choice(t.kind, static_cast<int>(Target::Kind::Contrast));
  a.num(t.a);
  a.num(t.b);
}
template <class A>
void io(A& a, Rule& r) {
  a.choice(r.kind, kRuleKinds - 1);
  for (float* v : {&r.epsilon, &r.epsilon_rms, &r.gamma, &r.alpha, &r.beta, &r.mu, &r.beta_smooth}) a.num(*v);
  a.flag(r.gamma_classic);
  values(a, r.low, 64);
  values(a, r.high, 64);
  a.flag(r.bias);
}
template <class A>
void io(A& a, Composite& c) {
  io(a, c.name);
  a.choice(c.seed, static_cast<int>(Seed::One));
  a.flag(c.times_input);
  list(a, c.rules, 4096, [&](Rule& r) { io(a, r); });
}
template <class A>
void io(A& a, Settings& s) {
  io(a, s.preset);
  io(a, s.composite);
  io(a, s.target);
  a.num(s.graph_k);
  a.flag(s.graph_k_auto);
  a.num(s.graph_cap);
  values(a, s.graph_layers, 4096);
  a.num(s.tolerance);
}
template <class A>
void io(A& a, Session::Download& d) {
  a.flag(d.active);
  for (double* v : {&d.loaded, &d.total, &d.speed}) a.num(*v);
  io(a, d.what);
}
template <class A>
void io(A& a, DeconvResult& d) {
  io(a, d.reconstruction);
  a.num(d.y);
  a.num(d.x);
  a.num(d.max_activation);
  a.num(d.mean_activation);
  for (int* v : {&d.field.y0, &d.field.x0, &d.field.y1, &d.field.x1}) a.num(*v);
}
template <class A>
void io(A& a, FlipResult& f) {
  a.num(f.patch);
  a.num(f.patches);
  values(a, f.flipped);
  values(a, f.lrp);
  values(a, f.random);
  a.num(f.aopc_lrp);
  a.num(f.aopc_random);
  a.num(f.columns);
  values(a, f.order);
  values(a, f.fill_byte);
}
template <class A>
void io(A& a, LayerCurve& c) {
  a.num(c.layer);
  a.num(c.width);
  values(a, c.k);
  for (auto* v : {&c.backward_mse, &c.backward_smape, &c.forward_mse, &c.forward_smape, &c.forward_logit}) values(a, *v);
  a.num(c.chosen_k);
}
// The model's outline travels as its description; the receiver builds the same layers (Network::outline_of).
template <class A>
void io(A& a, ModelView& m) {
  VggSpec sp;
  std::string config;
  bool from_metadata = false;
  NetworkInfo info;
  if (!A::reading) {
    sp = m.net->spec();
    config = m.net->config().to_json();
    from_metadata = m.net->config().from_metadata;
    info = m.net->info();
  }
  for (int* v : {&sp.in_channels, &sp.in_height, &sp.in_width, &sp.avgpool}) a.num(*v);
  list(a, sp.blocks, 64, [&](std::vector<int>& b) { values(a, b, 64); });
  values(a, sp.fc, 64);
  a.flag(sp.batch_norm);  // (the layers' torchvision names follow it)
  a.num(sp.bn_eps);
  io(a, config);
  a.flag(from_metadata);
  io(a, info.source);
  io(a, info.dtype);
  io(a, info.canonized);
  io(a, info.format);
  a.num(info.params);
  size(a, info.file_bytes);
  io(a, m.name);
  io(a, m.source);
  size(a, m.bytes);
  if (A::reading) {
    ModelConfig c = ModelConfig::from_json(config);
    c.from_metadata = from_metadata;
    m.net = Network::outline_of(sp, c, info);
  }
}
template <class A>
void io(A& a, PictureView& p) {
  io(a, p.image);
  io(a, p.view);
  a.num(p.kept_width);
  a.num(p.kept_height);
  a.flag(p.inverted);
  a.flag(p.edited);
  a.num(p.background);
  io(a, p.name);
  io(a, p.source);
}
template <class A>
void io(A& a, ExplanationView& e) {
  a.num(e.target_class);
  a.num(e.target_logit);
  a.num(e.input_sum);
  values(a, e.layer_sums);
  io(a, e.input_relevance);
  io(a, e.summary);
}
template <class A>
void io(A& a, GraphView& v) {
  NeuronGraph& g = v.graph;
  values(a, g.layers, 4096);
  list(a, g.column_nodes, 4096, [&](std::vector<int>& c) { values(a, c); });
  if (A::reading) {
    v.node_maps.clear();
    v.node_map_size.clear();
  }
  std::size_t i = 0;
  list(a, g.nodes, 1 << 20, [&](GraphNode& n) {
    io(a, n.id);
    for (int* x : {&n.layer, &n.index, &n.column}) a.num(*x);
    a.num(n.relevance);
    a.num(n.activation);
    a.num(n.share);
    if (A::reading) {
      v.node_maps.emplace_back();
      v.node_map_size.emplace_back();
    }
    values(a, v.node_maps[i]);
    a.num(v.node_map_size[i].first);
    a.num(v.node_map_size[i].second);
    ++i;
  });
  list(a, g.edges, kMaxList, [&](GraphEdge& e) {
    a.num(e.from);
    a.num(e.to);
    a.num(e.relevance);
  });
  values(a, g.path);
  a.num(g.path_relevance);
  io(a, v.path_heat);
  if (A::reading) {  // every index names a node
    const int nn = static_cast<int>(g.nodes.size());
    auto bad = [&](int x) { return x < 0 || x >= nn; };
    for (const GraphEdge& e : g.edges)
      if (bad(e.from) || bad(e.to)) throw Error("engine message: a graph edge to no node");
    for (int p : g.path)
      if (bad(p)) throw Error("engine message: a graph path through no node");
    for (const auto& c : g.column_nodes)
      for (int p : c)
        if (bad(p)) throw Error("engine message: a graph column of no node");
  }
}
template <class A>
void io(A& a, DetailView& v) {
  NeuronDetail& d = v.detail;
  a.num(d.layer);
  a.num(d.index);
  io(a, d.conditional);
  io(a, d.deconv);
  io(a, d.guided);
  a.flag(d.has_deconv);
  for (double* x : {&d.relevance, &d.share, &d.mean_activation, &d.max_activation}) a.num(*x);
  values(a, v.activation);
  a.num(v.act_h);
  a.num(v.act_w);
  if (A::reading && static_cast<long long>(v.act_h) * v.act_w != static_cast<long long>(v.activation.size()))
    throw Error("engine message: a feature map that does not match its size");
}
template <class A>
void io(A& a, std::vector<LayerCurve>& cs) {
  list(a, cs, 4096, [&](LayerCurve& c) { io(a, c); });
}
template <class A>
void io(A& a, SanityView& v) {
  SanityResult& r = v.result;
  a.num(r.target);
  a.num(r.height);
  a.num(r.width);
  if (A::reading && (r.height < 0 || r.width < 0 || r.height > 1 << 14 || r.width > 1 << 14))
    throw Error("engine message: a sanity check of a bad size");
  list(a, r.steps, 4096, [&](SanityStep& st) {
    io(a, st.layer);
    values(a, st.heatmap);
    if (A::reading && st.heatmap.size() != static_cast<std::size_t>(r.height) * static_cast<std::size_t>(r.width))
      throw Error("engine message: a sanity heatmap that does not match its size");
    for (double* d : {&st.spearman, &st.spearman_abs, &st.ssim, &st.target_logit}) a.num(*d);
    a.num(st.predicted);
  });
  values(a, v.scale);
  if (A::reading && v.scale.size() != r.steps.size()) throw Error("engine message: a sanity check without its scales");
  a.flag(v.done);
  a.num(v.seed);
  io(a, v.method);
}
template <class A>
void io(A& a, FlipView& f) {
  io(a, f.result[0]);
  io(a, f.result[1]);
  io(a, f.compare);
}
template <class A>
void io(A& a, LayerMaps& m) {
  a.num(m.layer);
  io(a, m.activation);
  io(a, m.relevance);
  a.num(m.forward_version);
  a.num(m.explanation_version);
}
template <class A>
void io(A& a, NodeHeat& n) {
  a.num(n.graph_version);
  for (int* x : {&n.h, &n.w, &n.done, &n.total}) a.num(*x);
  list(a, n.maps, 1 << 20, [&](std::vector<float>& m) { values(a, m); });
  values(a, n.scale, 1 << 20);
  if (A::reading && n.scale.size() != n.maps.size()) throw Error("engine message: node heatmap scales do not match");
  if (A::reading)
    for (const auto& m : n.maps)
      if (!m.empty() && m.size() != static_cast<std::size_t>(n.h) * static_cast<std::size_t>(n.w))
        throw Error("engine message: a node heatmap of the wrong size");
}
template <class A>
void io(A& a, Box& b) {
  for (int* v : {&b.y0, &b.x0, &b.y1, &b.x1}) a.num(*v);
}
template <class A>
void io(A& a, AtlasInfo& i) {
  for (std::string* t : {&i.source, &i.model_name, &i.set_kind, &i.composite, &i.mismatch}) io(a, *t);
  for (int* v : {&i.layers, &i.top, &i.set_count}) a.num(*v);
  a.flag(i.is_default);
  list(a, i.layer_names, 4096, [&](std::string& t) { io(a, t); });
}
template <class A>
void io(A& a, ConceptsView& c) {
  a.num(c.layer);
  a.num(c.by);
  list(a, c.best, 1 << 16, [&](Image& img) { io(a, img); });
  list(a, c.best_name, 1 << 16, [&](std::string& t) { io(a, t); });
  values(a, c.map_x, 1 << 16);
  values(a, c.map_y, 1 << 16);
  values(a, c.relevance, 1 << 16);
  a.num(c.explanation_version);
  a.num(c.version);
  if (A::reading && (c.best_name.size() != c.best.size() || c.map_x.size() != c.map_y.size() ||
                     (!c.map_x.empty() && c.map_x.size() != c.best.size()) ||
                     (!c.relevance.empty() && c.relevance.size() != c.best.size())))
    throw Error("engine message: a layer's concepts do not match its channels");
}
template <class A>
void io(A& a, NodeRefsView& r) {
  a.num(r.graph_version);
  a.num(r.by);
  list(a, r.best, 1 << 16, [&](Image& img) { io(a, img); });
  list(a, r.name, 1 << 16, [&](std::string& t) { io(a, t); });
  a.num(r.version);
  if (A::reading && r.name.size() != r.best.size())
    throw Error("engine message: the graph's references do not match its nodes");
}
template <class A>
void io(A& a, ReferencesView& r) {
  a.num(r.layer);
  a.num(r.channel);
  for (auto& refs : r.by)
    list(a, refs, 256, [&](ReferenceView& v) {
      a.num(v.image);
      io(a, v.name);
      a.num(v.score);
      io(a, v.box);
      io(a, v.crop);
      a.flag(v.masked);
    });
  for (int* v : {&r.done, &r.total}) a.num(*v);
  a.num(r.version);
}
template <class A>
void io(A& a, HoverView& h) {
  a.num(h.layer);
  a.num(h.index);
  io(a, h.conditional);
  a.num(h.version);
}
// what every message carries
template <class A>
void status(A& a, Snapshot& s) {
  a.num(s.hover_progress);
  io(a, s.settings);
  a.choice(s.invert, static_cast<int>(InvertMode::Off));
  a.num(s.wanted_neuron.first);
  a.num(s.wanted_neuron.second);
  a.flag(s.busy);
  a.flag(s.working);
  a.num(s.progress);
  a.num(s.budget_ms);
  io(a, s.progress_label);
  io(a, s.error);
  for (double* t : {&s.timings.forward_ms, &s.timings.lrp_ms, &s.timings.graph_ms, &s.timings.detail_ms}) a.num(*t);
  io(a, s.download);
  for (auto& v : s.versions) a.num(v);
  a.num(s.generation);
  a.num(s.applied);
  a.num(s.heap_mb);
  a.num(s.heap_used_mb);
}
template <class A>
void io(A& a, Command& c) {
  a.choice(c.kind, static_cast<int>(Command::Kind::kCount) - 1);
  for (std::string* s : {&c.path, &c.name, &c.source, &c.text}) io(a, *s);
  a.num(c.a);
  a.num(c.b);
  a.flag(c.flag);
  a.num(c.x);
  io(a, c.target);
  values(a, c.layers, 4096);
  list(a, c.list, 1024, [&](std::string& s) { io(a, s); });
  io(a, c.download);
  // the shared parts: a presence flag, then the value
  auto shared = [&](auto& ptr) {
    bool present = ptr != nullptr;
    a.flag(present);
    if (!present) return;
    using T = typename std::remove_const<typename std::remove_reference<decltype(*ptr)>::type>::type;
    if (A::reading) {
      auto p = std::make_shared<T>();
      io(a, *p);
      ptr = std::move(p);
    } else {
      io(a, const_cast<T&>(*ptr));
    }
  };
  shared(c.composite);
  shared(c.picture);
}

// The parts, each tagged; a part that is gone (null) is sent as its tag with a false flag.
enum class Part : uint8_t { Model, Picture, Logits, Explanation, Graph, Detail, Curves, Flip, LayerMaps, Hover, NodeHeat,
                            Atlas, References, Concepts, NodeRefs, Sanity, Status };
template <class F>
void each_part(F f) {
  f(Part::Model, &Snapshot::model);
  f(Part::Picture, &Snapshot::picture);
  f(Part::Logits, &Snapshot::logits);
  f(Part::Explanation, &Snapshot::explanation);
  f(Part::Graph, &Snapshot::graph);
  f(Part::Detail, &Snapshot::detail);
  f(Part::Curves, &Snapshot::curves);
  f(Part::Flip, &Snapshot::flip);
  f(Part::LayerMaps, &Snapshot::layer_maps);
  f(Part::Hover, &Snapshot::hover);
  f(Part::NodeHeat, &Snapshot::node_heat);
  f(Part::Atlas, &Snapshot::atlas);
  f(Part::References, &Snapshot::references);
  f(Part::Concepts, &Snapshot::concepts);
  f(Part::NodeRefs, &Snapshot::node_refs);
  f(Part::Sanity, &Snapshot::sanity);
}

}  // namespace

std::vector<uint8_t> encode_command(const Command& c) {
  if (c.kind == Command::Kind::LoadNetwork || c.kind == Command::Kind::LoadModelStore ||
      c.kind == Command::Kind::LoadAtlasBytes)
    throw Error("this command cannot be sent to another module");
  Writer w;
  io(w, const_cast<Command&>(c));
  return std::move(w.out);
}

Command decode_command(const uint8_t* p, std::size_t n) {
  Reader r(p, n);
  Command c;
  io(r, c);
  if (!r.done()) throw Error("engine message: bytes after the command");
  return c;
}

std::vector<uint8_t> encode_snapshot(const Snapshot& now, const Snapshot* sent) {
  Writer w;
  each_part([&](Part tag, auto member) {
    const auto& part = now.*member;
    if (sent && part == sent->*member) return;
    uint8_t t = static_cast<uint8_t>(tag);
    w.num(t);
    bool present = part != nullptr;
    w.flag(present);
    using T = typename std::remove_const<typename std::remove_reference<decltype(*part)>::type>::type;
    if (present) io(w, const_cast<T&>(*part));
  });
  uint8_t t = static_cast<uint8_t>(Part::Status);
  w.num(t);
  status(w, const_cast<Snapshot&>(now));
  return std::move(w.out);
}

void decode_snapshot(const uint8_t* p, std::size_t n, Snapshot& into) {
  Reader r(p, n);
  Snapshot s = into;  // a bad message leaves `into` as it was
  for (;;) {
    Part tag = Part::Status;
    r.choice(tag, static_cast<int>(Part::Status));
    if (tag == Part::Status) break;
    bool present = false;
    r.flag(present);
    each_part([&](Part t, auto member) {
      if (t != tag) return;
      auto& slot = s.*member;
      using T = typename std::remove_const<typename std::remove_reference<decltype(*slot)>::type>::type;
      if (!present) {
        slot = nullptr;
        return;
      }
      auto v = std::make_shared<T>();
      io(r, *v);
      slot = std::move(v);
    });
  }
  status(r, s);
  if (!r.done()) throw Error("engine message: bytes after the snapshot");
  into = std::move(s);
}

}  // namespace lrp::app
