#include "app/engine.h"

#include "engine/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>
#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

#include "engine/error.h"
#include "engine/timer.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "explain/summary.h"
#include "model/forward.h"
#include "model/weight_store.h"

namespace lrp::app {

namespace {

// One channel of a C,H,W tensor as an H*W map (empty when the tensor is not C,H,W or the channel is out of range).
std::vector<float> channel_map(const Tensor& t, int c, int* h, int* w) {
  *h = *w = 0;
  if (t.rank() != 3 || c < 0 || c >= t.dim(0)) return {};
  *h = t.dim(1);
  *w = t.dim(2);
  const std::size_t n = static_cast<std::size_t>(*h) * static_cast<std::size_t>(*w);
  const float* p = t.data() + static_cast<std::size_t>(c) * n;
  return std::vector<float>(p, p + n);
}

// The picture as the interface shows it ("as you gave it"): at most kShownPixels, with the picture's own size.
Image display_copy(const Image& img) {
  constexpr long long kShownPixels = 512 * 512;
  if (static_cast<long long>(img.width) * img.height <= kShownPixels) return img;
  const double f = std::sqrt(static_cast<double>(kShownPixels) / (static_cast<double>(img.width) * img.height));
  Image r = reduce_image(img, std::max(1, static_cast<int>(img.width * f)), std::max(1, static_cast<int>(img.height * f)));
  r.source_width = img.shown_width();
  r.source_height = img.shown_height();
  return r;
}

}  // namespace

Engine::Engine(Mode mode) : mode_(mode) {
  next_.versions.fill(-1);  // the first publish copies every part
  publish();
  if (mode_ == Mode::Thread) thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
}

bool Engine::apply(const Command& c) {
  bool ok = false;
  try {
    ok = execute(c);
  } catch (const std::bad_alloc&) {
    session_.report_error("not enough memory for this request");
  } catch (const std::exception& e) {
    session_.report_error(std::string("the request failed: ") + e.what());
  }
  ++applied_;
  return ok;
}

bool Engine::send(Command c) {
  if (mode_ == Mode::Inline) {
    ++posted_;
    const bool ok = apply(c);
    publish();
    return ok;
  }
  // queued: what the command points to must outlive the caller's copy
  if (c.picture) c.picture = std::make_shared<const Image>(*c.picture);
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(std::move(c));
    ++posted_;
  }
  cv_.notify_all();
  return true;
}

void Engine::run() {
  compute_in_background();  // the interface's thread gets a core when it needs one
  for (;;) {
    std::deque<Command> batch;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty() || session_.working(); });
      if (stop_) return;
      batch.swap(queue_);
    }
    for (const Command& c : batch) apply(c);
    if (!batch.empty()) publish();
    if (session_.working()) {
      // Each slice is about kSliceMs of work; new commands are read between slices.
      Timer t;
      session_.update(kSliceMs);
      publish();
      if (t.ms() < 1.0) {  // nothing to do yet (waiting for the user to stop dragging): do not spin
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait_for(lk, std::chrono::milliseconds(5), [&] { return stop_ || !queue_.empty(); });
      }
    }
  }
}

bool Engine::pump(double budget_ms) {
  if (mode_ != Mode::Inline) return false;
  const bool more = session_.update(budget_ms);
  publish();
  return more || session_.working();
}

std::shared_ptr<const Snapshot> Engine::snapshot() const {
  std::lock_guard<std::mutex> lk(mu_);
  return published_;
}

bool Engine::wait_idle(double timeout_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<long long>(timeout_s * 1e6));
  if (mode_ == Mode::Inline) {
    while (pump(kSliceMs))
      if (std::chrono::steady_clock::now() > until) return false;
    return true;
  }
  std::unique_lock<std::mutex> lk(mu_);
  return idle_cv_.wait_until(lk, until, [&] {
    return published_ && published_->applied >= posted_ && queue_.empty() && !published_->working;
  });
}

// Builds the next snapshot from the session: a part is copied again only when its result's version changed.
void Engine::publish() {
  Session& s = session_;
  Snapshot& n = next_;
  const auto old = n.versions;

  for (int r = 0; r < Session::kResults; ++r) n.versions[static_cast<std::size_t>(r)] = s.version(static_cast<Session::Result>(r));
  auto changed = [&](Session::Result r) {
    return n.versions[static_cast<std::size_t>(r)] != old[static_cast<std::size_t>(r)];
  };
  const auto net = s.network();
  if (net.get() != net_seen_ || (net && (!n.model || n.model->name != s.model_name() || n.model->source != s.model_source()))) {
    net_seen_ = net.get();
    if (net) {
      auto m = std::make_shared<ModelView>();
      m->net = net->outline();
      m->name = s.model_name();
      m->source = s.model_source();
      m->bytes = s.model_bytes();
      n.model = std::move(m);
    } else {
      n.model.reset();
    }
  }
  if (changed(Session::Result::Picture)) {
    if (!s.image().empty()) {
      auto p = std::make_shared<PictureView>();
      p->image = display_copy(s.image());
      p->kept_width = s.image().width;
      p->kept_height = s.image().height;
      p->view = s.preprocessed().view;
      p->inverted = s.preprocessed().inverted;
      p->background = s.preprocessed().background;
      p->edited = s.view_edited();
      p->name = s.image_name();
      p->source = s.image_source();
      n.picture = std::move(p);
    } else {
      n.picture.reset();
    }
  }
  const ForwardPass* fwd = s.forward();
  const Explanation* ex = s.explanation();
  if (changed(Session::Result::Forward)) n.logits = fwd ? std::make_shared<const Tensor>(fwd->logits()) : nullptr;
  if (changed(Session::Result::Explanation)) {
    if (ex) {
      auto e = std::make_shared<ExplanationView>();
      e->target_class = ex->target_class();
      e->target_logit = ex->target_logit();
      e->input_sum = ex->input_sum();
      e->layer_sums = ex->layer_sums();
      e->input_relevance = ex->input_relevance();
      if (net) e->summary = summarize(*ex, *net).text();
      n.explanation = std::move(e);
    } else {
      n.explanation.reset();
    }
  }
  if (changed(Session::Result::Graph)) {
    const NeuronGraph* g = s.graph();
    if (g && fwd && net) {
      auto v = std::make_shared<GraphView>();
      v->graph = *g;
      if (const Tensor* ph = s.path_heatmap()) v->path_heat = *ph;
      for (const GraphNode& node : g->nodes) {
        int h = 0, w = 0;
        v->node_maps.push_back(channel_map(fwd->output(activation_layer(*net, node.layer)), node.index, &h, &w));
        v->node_map_size.emplace_back(h, w);
      }
      n.graph = std::move(v);
    } else {
      n.graph.reset();
    }
  }
  if (changed(Session::Result::Detail)) {
    const NeuronDetail* d = s.detail();
    if (d && fwd && net) {
      auto v = std::make_shared<DetailView>();
      v->detail = *d;
      v->activation = channel_map(fwd->output(activation_layer(*net, d->layer)), d->index, &v->act_h, &v->act_w);
      n.detail = std::move(v);
    } else {
      n.detail.reset();
    }
  }
  if (changed(Session::Result::Curves)) n.curves = std::make_shared<const std::vector<LayerCurve>>(s.curves());
  if (changed(Session::Result::Flip)) {
    if (s.flip(0)) {
      auto f = std::make_shared<FlipView>();
      f->result[0] = *s.flip(0);
      f->result[1] = *s.flip(1);
      f->compare = s.flip_compare();
      n.flip = std::move(f);
    } else {
      n.flip.reset();
    }
  }
  if (changed(Session::Result::Sanity)) {
    if (const SanityResult* r = s.sanity()) {
      auto v = std::make_shared<SanityView>();
      v->result = *r;
      for (const SanityStep& st : r->steps) v->scale.push_back(symmetric_scale(st.heatmap, 99.5f));
      v->done = s.sanity_done();
      v->seed = s.sanity_seed();
      v->method = s.sanity_method();
      n.sanity = std::move(v);
    } else {
      n.sanity.reset();
    }
  }
  // the layer explorer's maps: the layer asked for, from the current forward pass and explanation
  {
    const long long fv = n.version(Session::Result::Forward), ev = n.version(Session::Result::Explanation);
    if (want_layer_ < 0 || !fwd || !ex || !net || want_layer_ >= net->size()) {
      n.layer_maps.reset();
    } else if (!n.layer_maps || n.layer_maps->layer != want_layer_ || n.layer_maps->forward_version != fv ||
               n.layer_maps->explanation_version != ev) {
      auto m = std::make_shared<LayerMaps>();
      m->layer = want_layer_;
      m->activation = fwd->output(activation_layer(*net, want_layer_));
      m->relevance = ex->relevance(want_layer_);
      m->forward_version = fv;
      m->explanation_version = ev;
      n.layer_maps = std::move(m);
    }
  }
  // the graph's heatmap thumbnails
  if (s.node_heat_version() != node_heat_seen_) {
    node_heat_seen_ = s.node_heat_version();
    n.node_heat = s.node_heat().graph_version >= 0 ? std::make_shared<const NodeHeat>(s.node_heat()) : nullptr;
  }
  // the atlas and the asked-for neuron's references
  if (s.references().info_version() != atlas_seen_) {
    atlas_seen_ = s.references().info_version();
    n.atlas = s.references().info() ? std::make_shared<const AtlasInfo>(*s.references().info()) : nullptr;
  }
  if (s.references().version() != refs_seen_) {
    refs_seen_ = s.references().version();
    n.references = s.references().view() ? std::make_shared<const ReferencesView>(*s.references().view()) : nullptr;
  }
  // the graph's nodes as their best references
  if (const NodeRefsView& r = s.node_refs(); r.version != node_refs_seen_) {
    node_refs_seen_ = r.version;
    n.node_refs = r.graph_version >= 0 ? std::make_shared<const NodeRefsView>(r) : nullptr;
  }
  // the Concepts tab's layer, with each channel's relevance in the current explanation
  {
    const ConceptsView* cv = s.references().concepts();
    const long long ev = n.version(Session::Result::Explanation);
    if (!cv) {
      n.concepts.reset();
    } else if (s.references().concepts_version() != concepts_seen_ || !n.concepts ||
               (ex && n.concepts->explanation_version != ev)) {
      concepts_seen_ = s.references().concepts_version();
      auto c = std::make_shared<ConceptsView>(*cv);
      if (ex && net && cv->layer < net->size()) {
        const Tensor& r = ex->relevance(cv->layer);
        const std::size_t ch = c->best.size(), per = ch ? r.size() / ch : 0;
        if (per > 0 && per * ch == r.size()) {
          c->relevance.assign(ch, 0.0f);
          for (std::size_t k = 0; k < ch; ++k) {
            double sum = 0;
            for (std::size_t i = 0; i < per; ++i) sum += r[k * per + i];
            c->relevance[k] = static_cast<float>(sum);
          }
          c->explanation_version = ev;
        }
      }
      n.concepts = std::move(c);
    }
  }
  // the tooltip's conditional heatmap
  n.hover_progress = 0;
  if (hover_layer_ < 0) {
    n.hover.reset();
  } else if (!n.hover || n.hover->layer != hover_layer_ || n.hover->index != hover_index_ ||
             hover_seen_ != s.hover_generation() || changed(Session::Result::Explanation)) {
    double p = 0;
    const Tensor* c = s.hover_conditional(hover_layer_, hover_index_, &p);
    n.hover_progress = p;
    if (c) {
      auto h = std::make_shared<HoverView>();
      h->layer = hover_layer_;
      h->index = hover_index_;
      h->conditional = *c;
      h->version = ++hover_views_;
      n.hover = std::move(h);
      hover_seen_ = s.hover_generation();
    } else {
      n.hover.reset();
    }
  }
  n.settings = s.settings();
  n.invert = s.invert();
  n.wanted_neuron = s.wanted_neuron();
  n.busy = s.busy();
  n.working = s.working();
  n.progress = s.progress();
  n.budget_ms = s.budget_ms();
  n.progress_label = s.progress_label();
  n.error = s.error();
  n.timings = s.timings();
  n.download = s.download();
  n.generation = s.generation();
  n.applied = applied_;
#ifdef __EMSCRIPTEN__
  n.heap_mb = static_cast<double>(emscripten_get_heap_size()) / (1024.0 * 1024.0);
  n.heap_used_mb = static_cast<double>(mallinfo().uordblks) / (1024.0 * 1024.0);
#endif
  auto snap = std::make_shared<const Snapshot>(n);
  {
    std::lock_guard<std::mutex> lk(mu_);
    published_ = std::move(snap);
  }
  idle_cv_.notify_all();
  if (mode_ == Mode::Thread && on_publish_) on_publish_();
}

// ---- commands ----

bool Engine::execute(const Command& c) {
  Session& s = session_;
  using K = Command::Kind;
  switch (c.kind) {
    case K::LoadModelFile: return s.load_model_file(c.path, c.name);
    case K::LoadModelStore: return c.store && s.load_model_store(*c.store, c.source, static_cast<std::size_t>(c.bytes_total));
    case K::LoadNetwork: return c.network && s.load_network(c.network, c.name);
    case K::LoadImageFile: return s.load_image_file(c.path, c.name, c.source);
    case K::LoadPicture: return c.picture && s.load_picture(*c.picture, c.name, c.source);
    case K::SetInvert:
      if (c.a < 0 || c.a > static_cast<int>(InvertMode::Off)) throw Error("invert: not a mode");
      s.set_invert(static_cast<InvertMode>(c.a));
      return true;
    case K::SetPreset: s.set_preset(c.text); return s.settings().preset == c.text;
    case K::SetComposite:
      if (!c.composite) return false;
      if (!c.text.empty()) s.settings().preset = c.text;
      s.set_composite(*c.composite);
      return true;
    case K::EditComposite:
      if (!c.composite) return false;
      s.settings().composite = *c.composite;
      s.composite_edited();
      return true;
    case K::SetTarget: s.set_target(c.target); return true;
    case K::SelectNeuron: s.select_neuron(c.a, c.b); return true;
    case K::SetGraph: s.set_graph(c.a, c.flag, c.layers, std::max(0, c.b)); return true;
    case K::SetTolerance: s.settings().tolerance = c.x; return true;
    case K::RunOptimizer: s.run_optimizer(c.a); return true;
    case K::RunFlipping: s.run_flipping(c.text); return true;
    case K::EditView: return c.picture && s.edit_view(*c.picture);
    case K::ResetView: s.reset_view(); return true;
    case K::RunSanity:
      if (!(c.x >= 0 && c.x < 9.007199254740992e15)) throw Error("sanity check: the seed must be a whole number of 0 or more");
      s.run_sanity(static_cast<uint64_t>(c.x));
      return true;
    case K::Cancel: s.cancel(); return true;
    case K::SetDownload: s.set_download(c.download); return true;
    case K::ReportError:
      if (c.flag) s.report_atlas_error(c.text);  // (the atlas' download: it stays on the line, see Session::error)
      else s.report_error(c.text);
      return true;
    case K::ClearError: s.clear_error(); return true;
    case K::ApplyState: {
      std::vector<std::string> errors = c.list;
      const AppState st = AppState::from_query(c.text, &errors);
      s.apply_state(st, &errors);
      if (errors.empty()) return true;
      std::string text = errors.size() == 1 ? "This link has a problem: "
                                            : "This link has " + std::to_string(errors.size()) + " problems: ";
      for (std::size_t i = 0; i < errors.size(); ++i) text += (i ? "; " : "") + errors[i];
      s.report_error(text + ". The rest of it was applied.");
      return false;
    }
    case K::Hover:
      hover_layer_ = c.a;
      hover_index_ = c.b;
      return true;
    case K::WantLayer: want_layer_ = c.a; return true;
    case K::WantNodeHeat: s.want_node_heat(c.flag); return true;
    case K::LoadAtlasFile: return s.load_atlas_file(c.path, c.source, c.flag);
    case K::LoadAtlasBytes: return c.bytes && s.load_atlas_bytes(c.bytes->data(), c.bytes->size(), c.source, c.flag);
    case K::WantReferences: s.want_references(c.a, c.b); return true;
    case K::WantConcepts: s.want_concepts(c.a, c.b); return true;
    case K::WantNodeRefs: s.want_node_refs(c.flag, c.b); return true;
    case K::OpenReference:
      if (c.a < 0) throw Error("open a reference: no such picture");
      return s.open_reference(static_cast<uint32_t>(c.a));
    case K::kCount: break;
  }
  return false;
}

// The named commands: each one a Command.

bool EngineApi::load_model_file(const std::string& path, const std::string& name) {
  Command c(Command::Kind::LoadModelFile);
  c.path = path;
  c.name = name;
  return send(std::move(c));
}
bool EngineApi::load_model_store(std::shared_ptr<const WeightStore> ws, const std::string& source, std::size_t bytes) {
  Command c(Command::Kind::LoadModelStore);
  c.store = std::move(ws);
  c.source = source;
  c.bytes_total = static_cast<double>(bytes);
  return send(std::move(c));
}
bool EngineApi::load_network(std::shared_ptr<Network> net, const std::string& name) {
  Command c(Command::Kind::LoadNetwork);
  c.network = std::move(net);
  c.name = name;
  return send(std::move(c));
}
bool EngineApi::load_image_file(const std::string& path, const std::string& name, const std::string& source) {
  Command c(Command::Kind::LoadImageFile);
  c.path = path;
  c.name = name;
  c.source = source;
  return send(std::move(c));
}
bool EngineApi::load_picture(const Image& img, const std::string& name, const std::string& source) {
  Command c(Command::Kind::LoadPicture);
  c.picture = std::shared_ptr<const Image>(std::shared_ptr<const Image>(), &img);  // not owned: send() copies if it queues
  c.name = name;
  c.source = source;
  return send(std::move(c));
}
bool EngineApi::set_invert(InvertMode m) {
  Command c(Command::Kind::SetInvert);
  c.a = static_cast<int>(m);
  return send(std::move(c));
}
bool EngineApi::set_preset(const std::string& name) {
  Command c(Command::Kind::SetPreset);
  c.text = name;
  return send(std::move(c));
}
bool EngineApi::set_composite(const Composite& comp, const std::string& preset) {
  Command c(Command::Kind::SetComposite);
  c.composite = std::make_shared<const Composite>(comp);
  c.text = preset;
  return send(std::move(c));
}
bool EngineApi::edit_composite(const Composite& comp) {
  Command c(Command::Kind::EditComposite);
  c.composite = std::make_shared<const Composite>(comp);
  return send(std::move(c));
}
bool EngineApi::set_target(const Target& t) {
  Command c(Command::Kind::SetTarget);
  c.target = t;
  return send(std::move(c));
}
bool EngineApi::select_neuron(int layer, int index) {
  Command c(Command::Kind::SelectNeuron);
  c.a = layer;
  c.b = index;
  return send(std::move(c));
}
bool EngineApi::set_graph(int k, bool k_auto, const std::vector<int>& layers, int cap) {
  Command c(Command::Kind::SetGraph);
  c.a = k;
  c.b = cap;
  c.flag = k_auto;
  c.layers = layers;
  return send(std::move(c));
}
bool EngineApi::set_tolerance(double tolerance) {
  Command c(Command::Kind::SetTolerance);
  c.x = tolerance;
  return send(std::move(c));
}
bool EngineApi::run_optimizer(int layer) {
  Command c(Command::Kind::RunOptimizer);
  c.a = layer;
  return send(std::move(c));
}
bool EngineApi::run_flipping(const std::string& compare_preset) {
  Command c(Command::Kind::RunFlipping);
  c.text = compare_preset;
  return send(std::move(c));
}
bool EngineApi::run_sanity(uint64_t seed) {
  Command c(Command::Kind::RunSanity);
  c.x = static_cast<double>(seed);
  return send(std::move(c));
}
bool EngineApi::edit_view(const Image& view) {
  Command c(Command::Kind::EditView);
  c.picture = std::make_shared<const Image>(view);
  return send(std::move(c));
}
bool EngineApi::reset_view() { return send(Command(Command::Kind::ResetView)); }
bool EngineApi::cancel() { return send(Command(Command::Kind::Cancel)); }
bool EngineApi::set_download(const Session::Download& d) {
  Command c(Command::Kind::SetDownload);
  c.download = d;
  return send(std::move(c));
}
bool EngineApi::report_error(const std::string& text, bool about_atlas) {
  Command c(Command::Kind::ReportError);
  c.text = text;
  c.flag = about_atlas;
  return send(std::move(c));
}
bool EngineApi::clear_error() { return send(Command(Command::Kind::ClearError)); }
bool EngineApi::apply_state(const AppState& st, const std::vector<std::string>& view_errors) {
  Command c(Command::Kind::ApplyState);
  c.text = st.to_query();
  c.list = view_errors;
  return send(std::move(c));
}
bool EngineApi::hover(int layer, int index) {
  Command c(Command::Kind::Hover);
  c.a = layer;
  c.b = index;
  return send(std::move(c));
}
bool EngineApi::want_layer(int layer) {
  Command c(Command::Kind::WantLayer);
  c.a = layer;
  return send(std::move(c));
}
bool EngineApi::want_node_heat(bool on) {
  Command c(Command::Kind::WantNodeHeat);
  c.flag = on;
  return send(std::move(c));
}

bool EngineApi::want_node_refs(bool on, int by) {
  Command c(Command::Kind::WantNodeRefs);
  c.flag = on;
  c.b = by;
  return send(std::move(c));
}

bool EngineApi::load_atlas_file(const std::string& path, const std::string& source, bool quiet) {
  Command c(Command::Kind::LoadAtlasFile);
  c.path = path;
  c.source = source;
  c.flag = quiet;
  return send(std::move(c));
}
bool EngineApi::load_atlas_bytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& source, bool quiet) {
  Command c(Command::Kind::LoadAtlasBytes);
  c.bytes = std::move(bytes);
  c.source = source;
  c.flag = quiet;
  return send(std::move(c));
}
bool EngineApi::want_references(int layer, int channel) {
  Command c(Command::Kind::WantReferences);
  c.a = layer;
  c.b = channel;
  return send(std::move(c));
}
bool EngineApi::want_concepts(int layer, int by) {
  Command c(Command::Kind::WantConcepts);
  c.a = layer;
  c.b = by;
  return send(std::move(c));
}
bool EngineApi::open_reference(int image) {
  Command c(Command::Kind::OpenReference);
  c.a = image;
  return send(std::move(c));
}

}  // namespace lrp::app
