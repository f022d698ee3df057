#include "app/session.h"

#include <unistd.h>

#include <algorithm>

#include "engine/error.h"
#include "engine/thread_pool.h"
#include "engine/timer.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "explain/selection.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/weight_store.h"
#include <new>

namespace lrp::app {

namespace {
// A step's work, adapted (Session::update) so that a step takes about a quarter of the budget: small steps inside a
// page's frame, large ones on an engine thread or in a worker (each step has a fixed cost, e.g. packing operands).
constexpr double kMinStepMacs = 1e7, kMaxStepMacs = 4e9;
std::string file_name(const std::string& path) {
  const auto s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}
// Messages name files as the user knows them, not by the page's internal copies ("/upload/3-photo.jpg").
std::string shown_as(std::string msg, const std::string& path, const std::string& shown) {
  if (path.empty() || shown.empty() || path == shown) return msg;
  for (std::size_t p = msg.find(path); p != std::string::npos; p = msg.find(path, p + shown.size()))
    msg.replace(p, path.size(), shown);
  // "'photo.jpg': ..." right after "could not open the image 'photo.jpg'" says the name twice
  const std::string twice = "'" + shown + "': '" + shown + "': ";
  if (const auto q = msg.find(twice); q != std::string::npos) msg.replace(q, twice.size(), "'" + shown + "': ");
  return msg;
}
}  // namespace

Session::Session() = default;

void Session::changed(std::initializer_list<Result> results) {
  ++generation_;
  for (Result r : results) versions_[static_cast<std::size_t>(r)] = generation_;
}

void Session::fail(const std::string& what, const std::exception& e) { fail(what + ": " + e.what()); }

void Session::fail(const std::string& message) {
  error_ = message;
  stage_ = Stage::Idle;
  progress_ = 1.0;
  progress_label_.clear();
}

bool Session::load_model_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  try {
    const std::size_t n = bytes.size();
    return load_model_store(WeightStore::from_buffer(std::move(bytes), name), name, n);
  } catch (const std::exception& e) {
    fail("could not load the model '" + name + "'", e);
    return false;
  }
}

namespace {

// The app's memory is bounded: a big checkpoint's forward pass packs Winograd F(2x2) at most (16/9 of the convolution
// weights instead of F(4x4)'s 4x: VGG16 105 instead of 235 MB), as its weight cache packs no Winograd at all
// (Workspace::set_model); F(4x4) is the faster forward pass in 128-bit builds.
constexpr std::size_t kBigCheckpointBytes = 100'000'000;
KernelPolicy app_policy(std::size_t checkpoint_bytes) {
  return checkpoint_bytes >= kBigCheckpointBytes ? KernelPolicy{}.at_most(2) : KernelPolicy{};
}

std::size_t file_size(const std::string& path) {
  std::size_t bytes = 0;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fseek(f, 0, SEEK_END);
    bytes = static_cast<std::size_t>(std::ftell(f));
    std::fclose(f);
  }
  return bytes;
}

}  // namespace

bool Session::load_model_store(const WeightStore& ws, const std::string& source, std::size_t bytes) {
  const std::string name = file_name(source);
  try {
    // the convolutions take the Winograd path whatever the checkpoint's storage: their weights are a tenth of
    // VGG16's (16/9 of 59 MB), and the forward pass is about twice as fast (an F16 or int8 checkpoint saves its
    // memory in the fully connected layers, which stay compressed)
    return adopt_model(Network::from_weights(ws, name, 0, app_policy(bytes)), name, source, bytes);
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory for the model '" + name + "' (" + std::to_string(bytes / 1000000) +
             " MB): try an F16 or int8 copy (lrpscope convert)";
    return false;
  } catch (const std::exception& e) {
    fail("could not load the model '" + name + "'", e);
    return false;
  }
}

bool Session::load_model_file(const std::string& path, const std::string& display_name) {
  const std::string shown = display_name.empty() ? file_name(path) : display_name;
  try {
    WeightStore ws = WeightStore::open(path);
    const std::size_t bytes = file_size(path);
    auto net = Network::from_weights(ws, file_name(path), 0, app_policy(bytes));
    // files the page wrote from a picker or a drop have no source worth sharing
    const std::string source = path.rfind("/upload/", 0) == 0 ? std::string() : display_name.empty() ? path : display_name;
    return adopt_model(std::move(net), shown, source, bytes);
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory for the model '" + shown + "': try an F16 or int8 copy (lrpscope convert)";
    return false;
  } catch (const std::exception& e) {
    fail("could not load the model '" + shown + "'", e);
    error_ = shown_as(error_, path, shown);
    return false;
  }
}

bool Session::load_network(std::shared_ptr<Network> net, const std::string& name) {
  try {
    return adopt_model(std::move(net), name, "", 0);
  } catch (const std::exception& e) {
    fail("could not use the model '" + name + "'", e);
    return false;
  }
}

// A freshly loaded network replaces the current one: the settings start over and the image is prepared for it.
bool Session::adopt_model(std::shared_ptr<Network> net, const std::string& shown, const std::string& source,
                          std::size_t bytes) {
  // (big models keep only what the explanations reuse: the forward packings of modified weights are re-made)
  bool prepared = true;
  try {
    ws_.set_model(std::move(net), false);
  } catch (const std::exception& e) {
    fail("could not prepare the image for this model", e);
    prepared = false;
  }
  model_name_ = ws_.net->config().from_metadata && !ws_.net->config().name.empty() ? ws_.net->config().name : shown;
  model_bytes_ = bytes;
  model_source_ = source;
  error_.clear();
  settings_.composite = Composite::preset(settings_.preset, *ws_.net);
  settings_.target = Target::top1();
  settings_.graph_layers.clear();
  want_layer_ = want_index_ = -1;
  refs_.model_changed(ws_.net.get());
  if (pending_atlas_) {
    const auto p = std::move(pending_atlas_);
    load_atlas_bytes(p->bytes.data(), p->bytes.size(), p->source, p->quiet);
  }
  if (!prepared) return false;
  if (!ws_.image.empty()) restart(Stage::Forward, false);
  changed({Result::Picture, Result::Forward, Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip,
             Result::Sanity});
  return true;
}

// Preprocesses the current image again (new model or inversion) and recomputes everything.
bool Session::edit_view(const Image& view) {
  if (!ws_.net || ws_.pre.tensor.empty()) return false;
  try {
    Preprocessed p = preprocess_view(view, ws_.net->config());  // (throws for another size)
    p.inverted = ws_.pre.inverted;
    p.background = ws_.pre.background;
    ws_.pre = std::move(p);  // (the picture as opened stays, for reset_view and another model)
    ws_.fwd.reset();
  } catch (const std::exception& e) {
    fail("could not use the painted picture", e);
    return false;
  }
  view_edited_ = true;
  restart(Stage::Forward, false);
  return true;
}

void Session::reset_view() {
  if (!view_edited_ || ws_.image.empty()) return;
  reprepare_image("could not prepare the image");
}

bool Session::reprepare_image(const std::string& what) {
  view_edited_ = false;
  try {
    ws_.set_image(ws_.image, ws_.invert);
    restart(Stage::Forward, false);
    return true;
  } catch (const std::exception& e) {
    fail(what, e);
    return false;
  }
}

bool Session::read_picture(const std::string& path, const std::string& shown, Image* out, std::string* error) {
  try {
    *out = load_image(path);
    return true;
  } catch (const std::bad_alloc&) {
    *error = "not enough memory to open the image '" + shown + "'";
  } catch (const std::exception& e) {
    *error = shown_as("could not open the image '" + shown + "': " + e.what(), path, shown);
  }
  return false;
}

std::string Session::shown_name(const std::string& path, const std::string& display_name) {
  return display_name.empty() ? file_name(path) : display_name;
}

bool Session::load_image_file(const std::string& path, const std::string& display_name, const std::string& source) {
  const std::string shown = shown_name(path, display_name);
  if (!ws_.net) {
    error_ = "load a model first";
    return false;
  }
  Image img;
  std::string why;
  if (!read_picture(path, shown, &img, &why)) {
    fail(why);
    return false;
  }
  return load_picture(img, shown, source);
}

bool Session::load_picture(const Image& img, const std::string& name, const std::string& source) {
  if (!ws_.net) {
    error_ = "load a model first";
    return false;
  }
  try {
    ws_.set_image(img, ws_.invert);  // (into the buffers of the previous picture, when they are large enough)
    image_name_ = name;
    image_source_ = source;
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory to prepare the image '" + name + "'";
    return false;
  } catch (const std::exception& e) {
    fail("could not open the image '" + name + "'", e);
    return false;
  }
  settings_.target = Target::top1();
  want_layer_ = want_index_ = -1;
  error_.clear();
  restart(Stage::Forward, false);
  return true;
}

bool Session::load_atlas_bytes(const uint8_t* data, std::size_t n, const std::string& source, bool quiet) {
  if (!ws_.net) {  // (checked against the model when it comes)
    pending_atlas_ = std::make_unique<PendingAtlas>(PendingAtlas{std::vector<uint8_t>(data, data + n), source, quiet});
    return true;
  }
  try {
    refs_.load(data, n, source, ws_.net.get(), quiet);
    atlas_error_.clear();
    return true;
  } catch (const std::bad_alloc&) {
    atlas_error_ = "not enough memory to open the atlas '" + shown_name(source, "") + "'";
  } catch (const std::exception& e) {
    atlas_error_ = "could not open the atlas '" + shown_name(source, "") + "': " + e.what();
  }
  return false;
}

bool Session::load_atlas_file(const std::string& path, const std::string& source, bool quiet) {
  if (quiet && access(path.c_str(), R_OK) != 0) return false;  // (no default atlas here: nothing to say)
  try {
    refs_.adopt(read_atlas_file(path), source.empty() ? path : source, ws_.net.get(), quiet);
    atlas_error_.clear();
    return true;
  } catch (const std::bad_alloc&) {
    atlas_error_ = "not enough memory to open the atlas '" + shown_name(path, "") + "'";
  } catch (const std::exception& e) {
    atlas_error_ = std::string("could not open the atlas: ") + e.what();
  }
  return false;
}

bool Session::open_reference(uint32_t image) {
  const Image* view = refs_.picture(image);
  if (!view || !ws_.net) {
    error_ = "the atlas has no picture " + std::to_string(image) + " for this model";
    return false;
  }
  try {
    ws_.set_view(*view);
  } catch (const std::exception& e) {
    fail("could not open the atlas picture " + refs_.picture_name(image), e);
    return false;
  }
  image_name_ = refs_.picture_name(image);
  image_source_ = "atlas:" + std::to_string(image);
  settings_.target = Target::top1();
  want_layer_ = want_index_ = -1;
  error_.clear();
  restart(Stage::Forward, false);
  return true;
}

void Session::set_invert(InvertMode m) {
  ws_.invert = m;
  if (ws_.image.empty() || !ws_.net) return;
  reprepare_image("could not prepare the image");
}

void Session::set_preset(const std::string& name) {
  if (!ws_.net) return;
  try {
    settings_.composite = Composite::preset(name, *ws_.net);
    settings_.preset = name;
  } catch (const std::exception& e) {
    fail("composite", e);
    return;
  }
  restart(Stage::Explain, false);
}

void Session::set_composite(const Composite& c) {
  if (!ws_.net) return;
  try {
    c.validate(*ws_.net);
  } catch (const std::exception& e) {
    fail("rules", e);
    return;
  }
  settings_.composite = c;
  restart(Stage::Explain, false);
}

void Session::composite_edited() {
  try {
    settings_.composite.validate(*ws_.net);
  } catch (const std::exception& e) {
    error_ = std::string("rules: ") + e.what();
    return;
  }
  error_.clear();
  restart(Stage::Explain, true);
}

void Session::set_target(const Target& t) {
  settings_.target = t;
  restart(Stage::Explain, false);
}

void Session::select_neuron(int layer, int index) {
  want_layer_ = layer;
  want_index_ = index;
  if (ex_ && ex_->done() && (stage_ == Stage::Idle || stage_ == Stage::Detail || stage_ == Stage::Optimize ||
                             stage_ == Stage::Flip || stage_ == Stage::Sanity)) {
    detail_ready_ = false;
    cond_job_.reset();
    deconv_job_.reset();
    guided_job_.reset();
    pending_ = NeuronDetail();
    stage_ = Stage::Detail;
    progress_ = 0.0;
  }
}

void Session::set_graph(int k, bool k_auto, const std::vector<int>& layers, int cap) {
  settings_.graph_k = std::max(1, k);
  settings_.graph_k_auto = k_auto;
  settings_.graph_cap = std::max(0, cap);
  settings_.graph_layers = layers;
  if (ex_ && ex_->done()) restart(Stage::Graph, true);
}

void Session::apply_state(const AppState& st, std::vector<std::string>* errors) {
  auto err = [&](const std::string& e) {
    if (errors) errors->push_back(e);
  };
  const InvertMode inv = st.invert == "on" ? InvertMode::On : st.invert == "off" ? InvertMode::Off : InvertMode::Auto;
  if (inv != ws_.invert) set_invert(inv);
  if (!ws_.net) return;
  const Network& net = *ws_.net;
  if (!st.rules.empty()) {
    try {
      const Composite c = Composite::from_compact(st.rules, net);
      settings_.preset = st.rules.substr(0, st.rules.find('~'));
      set_composite(c);
    } catch (const std::exception& e) {
      err(std::string("rules='") + st.rules + "': " + e.what());
    }
  } else if (st.composite != settings_.preset || settings_.composite.name != st.composite) {
    set_preset(st.composite);
  }
  const int n = net.num_classes();
  const Target& t = st.target;
  const std::string range = "the model has " + std::to_string(n) + " classes, 0 to " + std::to_string(n - 1);
  if (t.kind != Target::Kind::Top1 && t.a >= n) err("target=" + std::to_string(t.a) + ": " + range);
  else if (t.kind == Target::Kind::Contrast && t.b >= n) err("target: class " + std::to_string(t.b) + ": " + range);
  else if (t.kind != settings_.target.kind || t.a != settings_.target.a || t.b != settings_.target.b)
    set_target(t);
  std::vector<int> layers;
  for (const auto& name : st.graph_layers) {
    const int i = net.find(name);
    if (i >= 0 && (net.layer(i).kind == LayerKind::Conv || net.layer(i).kind == LayerKind::Linear) && i + 1 < net.size())
      layers.push_back(i);
    else
      err("layers: '" + name + "' is not a convolution or hidden fully connected layer of this model");
  }
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  settings_.tolerance = st.tolerance;
  if (st.k != settings_.graph_k || st.k_auto != settings_.graph_k_auto || layers != settings_.graph_layers ||
      st.cap != settings_.graph_cap)
    set_graph(st.k, st.k_auto, layers, st.cap);
  if (!st.neuron.empty()) {
    const auto colon = st.neuron.rfind(':');
    const std::string lname = st.neuron.substr(0, colon);
    const int l = net.find(lname);
    const int idx = std::atoi(st.neuron.c_str() + colon + 1);
    if (l < 0 || net.layer(l).kind == LayerKind::ReLU || net.layer(l).kind == LayerKind::Flatten || l + 1 >= net.size())
      err("neuron='" + st.neuron + "': '" + lname + "' is not a convolution, pooling or hidden layer of this model");
    else if (idx >= net.layer(l).out_shape[0])
      err("neuron='" + st.neuron + "': " + lname + " has " + std::to_string(net.layer(l).out_shape[0]) +
          " neurons, 0 to " + std::to_string(net.layer(l).out_shape[0] - 1));
    else if (wanted_neuron() != std::make_pair(l, idx))
      select_neuron(l, idx);
  }
}

void Session::run_optimizer(int layer) {
  if (!ex_ || !ex_->done()) return;
  optimizer_job_.reset();  // a new request replaces a running one
  optimized_ = 0;
  optimize_queue_.clear();
  if (layer >= 0) optimize_queue_.push_back(layer);
  else optimize_queue_ = optimizable_layers(*ex_);
  if (stage_ == Stage::Idle) stage_ = Stage::Optimize;
}

void Session::run_flipping(const std::string& compare_preset) {
  flip_compare_ = compare_preset;
  flip_job_.reset();
  flip_other_.reset();
  flip_part_ = 0;
  flip_pending_ = true;
  flip_ready_ = false;
  if (stage_ == Stage::Idle && ex_ && ex_->done()) stage_ = Stage::Flip;
}

void Session::run_sanity(uint64_t seed) {
  if (!ex_ || !ex_->done()) return;
  sanity_job_.reset();
  sanity_ = SanityResult();
  sanity_seed_ = seed;
  sanity_method_ = settings_.composite.name;
  sanity_pending_ = true;
  sanity_done_ = false;
  changed({Result::Sanity});
  if (stage_ == Stage::Idle) stage_ = Stage::Sanity;
}

Session::Stage Session::next_extra() const {
  if (!optimize_queue_.empty()) return Stage::Optimize;
  if (flip_pending_) return Stage::Flip;
  if (sanity_pending_) return Stage::Sanity;
  return Stage::Idle;
}

// Every job in progress (graph, path, neuron detail, optimiser, pixel flipping) is dropped.
void Session::drop_jobs() {
  graph_builder_.reset();
  optimizer_job_.reset();
  flip_job_.reset();
  flip_other_.reset();
  flip_part_ = 0;
  optimized_ = 0;
  path_job_.reset();
  cond_job_.reset();
  deconv_job_.reset();
  guided_job_.reset();
}

void Session::cancel() {
  stage_ = Stage::Idle;
  drop_jobs();
  optimize_queue_.clear();
  flip_pending_ = false;
  sanity_pending_ = false;
  sanity_job_.reset();
  progress_ = 1.0;
  progress_label_ = "cancelled";
}

bool Session::busy() const { return stage_ != Stage::Idle; }

void Session::restart(Stage from, bool debounce) {
  try {
    restart_stages(from, debounce);
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory to start this computation";
    stage_ = Stage::Idle;
    progress_ = 1.0;
  } catch (const std::exception& e) {
    fail("computation failed", e);
  }
}

void Session::restart_stages(Stage from, bool debounce) {
  if (!ws_.net || ws_.pre.tensor.empty()) return;
  // (a model that cannot be explained in the memory there is was refused when it was loaded)
  if (from == Stage::Forward || !ws_.fwd || !ws_.fwd->done()) {
    ws_.start_forward();
    from = Stage::Forward;
  }
  if (from == Stage::Forward || from == Stage::Explain) {
    ex_.reset();
    curves_.clear();
    flip_ready_ = false;
    // a sanity check is of one explanation: a new one is asked for again
    sanity_job_.reset();
    sanity_ = SanityResult();
    sanity_pending_ = sanity_done_ = false;
  }
  graph_ready_ = false;
  detail_ready_ = false;
  drop_jobs();
  stage_ = from;
  stage_ms_ = 0;
  progress_ = 0.0;
  not_before_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(debounce ? 150 : 0);
  if (from == Stage::Forward)
    changed({Result::Picture, Result::Forward, Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip,
             Result::Sanity});
  else if (from == Stage::Explain)
    changed({Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip, Result::Sanity});
  else
    changed({Result::Graph, Result::Detail});
}

bool Session::step_once() {
  Timer t;
  switch (stage_) {
    case Stage::Idle: return false;
    case Stage::Forward: {
      progress_label_ = "forward pass";
      ws_.fwd->step(step_macs_ * 4.0 / 3.0);
      timings_.forward_ms = ws_.fwd->total_ms();
      progress_ = 0.3 * ws_.fwd->progress();
      if (ws_.fwd->done()) {
        stage_ = Stage::Explain;
        changed({Result::Forward});
      }
      return true;
    }
    case Stage::Explain: {
      progress_label_ = "relevance (" + settings_.composite.name + ")";
      if (!ex_) {
        Target tg = settings_.target;
        const int n = ws_.net->num_classes();
        if ((tg.kind != Target::Kind::Top1 && (tg.a < 0 || tg.a >= n)) ||
            (tg.kind == Target::Kind::Contrast && (tg.b < 0 || tg.b >= n || tg.b == tg.a)))
          tg = settings_.target = Target::top1();
        ExplainOptions eo;
        eo.target = tg;
        ex_ = std::make_shared<Explanation>(ws_.fwd, ws_.cache, settings_.composite, eo);
        stage_ms_ = 0;
      }
      ex_->step(step_macs_);
      stage_ms_ += t.ms();
      progress_ = 0.3 + 0.4 * ex_->progress();
      if (ex_->done()) {
        timings_.lrp_ms = stage_ms_;
        stage_ = Stage::Graph;
        changed({Result::Explanation});
      }
      return true;
    }
    case Stage::Graph: {
      progress_label_ = "neuron graph";
      if (!graph_builder_ && !path_job_) {
        GraphOptions go;
        go.selection.k = settings_.graph_k;
        go.k_from_optimizer = settings_.graph_k_auto;
        go.k_cap = settings_.graph_cap;
        go.optimizer.tolerance = settings_.tolerance;
        go.layers = settings_.graph_layers;
        graph_builder_ = std::make_unique<GraphBuilder>(*ex_, go);
        stage_ms_ = 0;
      }
      if (graph_builder_) {
        const bool finished = graph_builder_->step(step_macs_) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.7 + 0.12 * graph_builder_->progress();
        if (!finished) return true;
        graph_ = std::move(graph_builder_->graph());
        graph_builder_.reset();
        std::vector<NeuronMask> masks;
        for (int n : graph_.path)
          masks.push_back({graph_.nodes[static_cast<std::size_t>(n)].layer, {graph_.nodes[static_cast<std::size_t>(n)].index}});
        path_job_ = restricted_lrp_job(*ex_, masks, false);
        return true;
      }
      if (path_job_->step(step_macs_) == Step::More) {
        stage_ms_ += t.ms();
        progress_ = 0.82 + 0.03 * path_job_->progress();
        return true;
      }
      stage_ms_ += t.ms();
      path_heat_ = std::move(path_job_->result());
      path_heat_.reshape(ws_.net->input_shape());
      path_job_.reset();
      graph_ready_ = true;
      timings_.graph_ms = stage_ms_;
      if (want_layer_ < 0 || want_layer_ >= ws_.net->size()) {
        // default selection: the path's node at the last conv graph layer, else the first hidden node
        for (int n : graph_.path) {
          const GraphNode& node = graph_.nodes[static_cast<std::size_t>(n)];
          if (ws_.net->layer(node.layer).kind == LayerKind::Conv) {
            want_layer_ = node.layer;
            want_index_ = node.index;
            break;
          }
        }
      }
      stage_ = Stage::Detail;
      stage_ms_ = 0;
      progress_ = 0.85;
      changed({Result::Graph});
      return true;
    }
    case Stage::Detail: {
      progress_label_ = "neuron detail";
      const bool valid = want_layer_ >= 0 && want_layer_ < ws_.net->size() && want_index_ >= 0 &&
                         want_index_ < ws_.net->layer(want_layer_).out_shape[0] && ws_.net->layer(want_layer_).kind != LayerKind::ReLU;
      if (valid && !cond_job_ && !deconv_job_ && !guided_job_ && (pending_.layer != want_layer_ || pending_.index != want_index_ || pending_.conditional.empty())) {
        pending_ = NeuronDetail();
        pending_.layer = want_layer_;
        pending_.index = want_index_;
        cond_job_ = restricted_lrp_job(*ex_, {NeuronMask{want_layer_, {want_index_}}}, false);
        stage_ms_ = 0;
        return true;
      }
      if (cond_job_) {
        const bool finished = cond_job_->step(step_macs_) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.85 + 0.05 * cond_job_->progress();
        if (!finished) return true;
        pending_.conditional = std::move(cond_job_->result());
        pending_.conditional.reshape(ws_.net->input_shape());
        cond_job_.reset();
        const LayerKind k = ws_.net->layer(pending_.layer).kind;
        if (k == LayerKind::Conv || k == LayerKind::MaxPool) {
          DeconvOptions o;
          deconv_job_ = std::make_unique<DeconvJob>(ws_.fwd, ws_.cache, pending_.layer, pending_.index, o);
          o.guided = true;
          guided_job_ = std::make_unique<DeconvJob>(ws_.fwd, ws_.cache, pending_.layer, pending_.index, o);
        }
        return true;
      }
      if (deconv_job_) {
        const bool finished = deconv_job_->step(step_macs_) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.9 + 0.05 * deconv_job_->progress();
        if (!finished) return true;
        pending_.deconv = std::move(deconv_job_->result());
        deconv_job_.reset();
        return true;
      }
      if (guided_job_) {
        const bool finished = guided_job_->step(step_macs_) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.95 + 0.05 * guided_job_->progress();
        if (!finished) return true;
        pending_.guided = std::move(guided_job_->result());
        pending_.has_deconv = true;
        guided_job_.reset();
        return true;
      }
      if (valid && pending_.layer == want_layer_ && pending_.index == want_index_) {
        NeuronDetail& d = pending_;
        const NeuronShare ns = neuron_share(ex_->relevance(want_layer_), {want_index_});
        d.relevance = ns.relevance;
        d.share = ns.share;
        const Tensor& act = ws_.fwd->output(activation_layer(*ws_.net, want_layer_));
        const std::size_t per = act.size() / static_cast<std::size_t>(act.dim(0));
        double sm = 0, m = -1e30;
        for (std::size_t i = 0; i < per; ++i) {
          const float v = act[static_cast<std::size_t>(want_index_) * per + i];
          sm += v;
          m = std::max<double>(m, v);
        }
        d.mean_activation = sm / static_cast<double>(per);
        d.max_activation = m;
        detail_ = pending_;
        pending_ = NeuronDetail();
        detail_ready_ = true;
      }
      timings_.detail_ms = stage_ms_;
      stage_ = next_extra();
      progress_ = stage_ == Stage::Idle ? 1.0 : 0.9;
      changed({Result::Detail});
      return true;
    }
    case Stage::Optimize: {
      if (optimize_queue_.empty()) {
        stage_ = next_extra();
        progress_ = 1.0;
        return true;
      }
      const int layer = optimize_queue_.front();
      progress_label_ = "optimiser: " + ws_.net->layer(layer).nick;
      if (!optimizer_job_) {
        OptimizerOptions oo;
        oo.tolerance = settings_.tolerance;
        optimizer_job_ = std::make_unique<OptimizerJob>(*ex_, layer, oo);
      }
      const bool finished = optimizer_job_->step(step_macs_) == Step::Done;
      const double per = 1.0 / static_cast<double>(optimize_queue_.size() + optimized_);
      progress_ = (optimized_ + optimizer_job_->progress()) * per;
      if (!finished) return true;
      LayerCurve c = std::move(optimizer_job_->result());
      optimizer_job_.reset();
      curves_.erase(std::remove_if(curves_.begin(), curves_.end(), [&](const LayerCurve& x) { return x.layer == layer; }),
                    curves_.end());
      curves_.push_back(std::move(c));
      std::sort(curves_.begin(), curves_.end(), [](const LayerCurve& a, const LayerCurve& b) { return a.layer < b.layer; });
      optimize_queue_.erase(optimize_queue_.begin());
      ++optimized_;
      if (optimize_queue_.empty()) {
        optimized_ = 0;
        progress_ = 1.0;
        stage_ = next_extra();
      }
      changed({Result::Curves});
      return true;
    }
    case Stage::Flip: {
      progress_label_ = "pixel flipping";
      FlipOptions fo;
      fo.replace = ws_.net->config().dark_background ? FlipReplace::Background : FlipReplace::Mean;
      fo.steps = 16;
      fo.random_runs = 3;
      if (flip_part_ == 0 && !flip_job_)
        flip_job_ = std::make_unique<FlipJob>(ws_.net, ws_.pre.tensor, channel_sum(ex_->input_relevance()), ex_->target_class(), fo);
      if (flip_part_ == 1 && !flip_job_) {
        // the comparison preset needs its own explanation first (also in slices)
        if (!flip_other_) {
          ExplainOptions eo;
          eo.target = Target::cls(ex_->target_class());
          flip_other_ = std::make_unique<Explanation>(ws_.fwd, ws_.cache, Composite::preset(flip_compare_, *ws_.net), eo);
        }
        if (flip_other_->step(step_macs_) == Step::More) {
          progress_ = 0.5 * flip_other_->progress() * 0.2 + 0.5;
          return true;
        }
        flip_job_ = std::make_unique<FlipJob>(ws_.net, ws_.pre.tensor, channel_sum(flip_other_->input_relevance()),
                                              ex_->target_class(), fo);
        flip_other_.reset();
      }
      const bool finished = flip_job_->step(step_macs_) == Step::Done;
      progress_ = 0.5 * (flip_part_ + flip_job_->progress());
      if (!finished) return true;
      flip_[flip_part_] = std::move(flip_job_->result());
      flip_job_.reset();
      if (++flip_part_ < 2) return true;
      flip_part_ = 0;
      flip_ready_ = true;
      flip_pending_ = false;
      stage_ = next_extra();
      progress_ = stage_ == Stage::Idle ? 1.0 : 0.0;
      changed({Result::Flip});
      return true;
    }
    case Stage::Sanity: {
      progress_label_ = "sanity check";
      if (!sanity_job_) {
        SanityOptions so;
        so.seed = sanity_seed_;
        // (the explanation's own target: each randomised model explains its class, or its contrast)
        sanity_job_ = std::make_unique<SanityJob>(ws_.net, ws_.pre.tensor, settings_.composite, settings_.target, so);
      }
      const bool finished = sanity_job_->step(step_macs_) == Step::Done;
      progress_ = sanity_job_->progress();
      const SanityResult& r = sanity_job_->result();
      if (r.steps.size() != sanity_.steps.size()) {  // a step more: shown as it comes
        sanity_ = r;
        changed({Result::Sanity});
      }
      if (!finished) return true;
      sanity_job_.reset();
      sanity_pending_ = false;
      sanity_done_ = true;
      stage_ = next_extra();
      progress_ = 1.0;
      changed({Result::Sanity});
      return true;
    }
  }
  return false;
}

// A tooltip's conditional heatmap is a job beside the pipeline: asking for another neuron drops the one in flight.
const Tensor* Session::hover_conditional(int layer, int index, double* progress) {
  if (progress) *progress = 0;
  if (!ex_ || !ex_->done() || !ws_.net) return nullptr;
  if (cond_gen_ != version(Result::Explanation)) {  // the cache holds the current explanation's heatmaps
    cond_cache_.clear();
    hover_job_.reset();
    cond_gen_ = version(Result::Explanation);
  }
  const auto key = std::make_pair(layer, index);
  if (auto it = cond_cache_.find(key); it != cond_cache_.end()) return &it->second;
  if (!hover_job_ || hover_key_ != key) {
    try {
      hover_job_ = restricted_lrp_job(*ex_, {NeuronMask{layer, {index}}}, false);
      hover_key_ = key;
    } catch (const std::exception&) {
      hover_job_.reset();
      return nullptr;
    }
  }
  if (progress) *progress = hover_job_->progress();
  return nullptr;
}

// Steps the tooltip's job for at most budget_ms.
void Session::step_hover(double budget_ms) {
  if (!hover_job_) return;
  Timer t;
  try {
    while (t.ms() < budget_ms)
      if (hover_job_->step(step_macs_) == Step::Done) {
        if (cond_cache_.size() > 64) cond_cache_.clear();
        Tensor& r = cond_cache_[hover_key_];
        r = std::move(hover_job_->result());
        r.reshape(ws_.net->input_shape());
        hover_job_.reset();
        ++hover_generation_;
        break;
      }
  } catch (const std::exception&) {
    hover_job_.reset();
  }
}

bool Session::node_heat_pending() const {
  if (!node_heat_on_ || !graph_ready_) return false;
  if (node_heat_.graph_version != version(Result::Graph)) return true;
  return node_heat_.done < node_heat_.total;
}

void Session::fill_node_heat() {
  if (!node_heat_on_ || !graph_ready_ || !ex_ || !ex_->done() || !ws_.net) return;
  if (node_heat_.graph_version != version(Result::Graph)) {
    node_heat_ = NodeHeat();
    node_heat_.graph_version = version(Result::Graph);
    node_heat_.maps.assign(graph_.nodes.size(), {});
    node_heat_.scale.assign(graph_.nodes.size(), 0.0f);
    for (const GraphNode& n : graph_.nodes) node_heat_.total += n.layer + 1 < ws_.net->size() ? 1 : 0;
    ++node_heat_version_;
  }
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    const GraphNode& n = graph_.nodes[i];
    if (n.layer + 1 >= ws_.net->size() || !node_heat_.maps[i].empty()) continue;
    if (hover_job_ && hover_key_ != std::make_pair(n.layer, n.index)) return;  // a tooltip's request goes first
    const Tensor* c = hover_conditional(n.layer, n.index);
    if (!c) return;  // its job runs
    const std::vector<float> sum = channel_sum(*c);
    node_heat_.maps[i] = box_reduce(sum, c->dim(1), c->dim(2), 48, &node_heat_.h, &node_heat_.w);
    node_heat_.scale[i] = symmetric_scale(node_heat_.maps[i], 99.5f);
    ++node_heat_.done;
    ++node_heat_version_;
  }
}

// The graph's nodes as their best references: crops of atlas pictures, made at once (no job) when the graph, the
// atlas or the ranking changed.
void Session::fill_node_refs() {
  const long long gv = node_refs_on_ && graph_ready_ && ws_.net ? version(Result::Graph) : -1;
  if (gv == node_refs_.graph_version && node_refs_by_ == node_refs_.by && node_refs_atlas_ == refs_.info_version()) return;
  const long long v = node_refs_.version + 1;
  node_refs_ = NodeRefsView{};
  node_refs_.version = v;
  node_refs_.graph_version = gv;
  node_refs_.by = node_refs_by_;
  node_refs_atlas_ = refs_.info_version();
  if (gv < 0) return;
  node_refs_.best.resize(graph_.nodes.size());
  node_refs_.name.resize(graph_.nodes.size());
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i)
    refs_.best(graph_.nodes[i].layer, graph_.nodes[i].index, static_cast<AtlasBy>(node_refs_by_), ws_.net.get(),
               NodeRefsView::kThumb, &node_refs_.best[i], &node_refs_.name[i]);
}

bool Session::update(double budget_ms) {
  budget_ms_ = budget_ms;
  // the tooltip's heatmap (or the graph's thumbnails) share the budget with the pipeline (all of it when the
  // pipeline is idle)
  fill_node_heat();
  step_hover(stage_ == Stage::Idle ? budget_ms : budget_ms / 3);
  fill_node_heat();
  if (!hover_job_) refs_.step(stage_ == Stage::Idle ? budget_ms : budget_ms / 3, step_macs_, ws_);
  if (stage_ == Stage::Idle) return false;
  if (std::chrono::steady_clock::now() < not_before_) return true;
  Timer t;
  try {
    while (stage_ != Stage::Idle && t.ms() < budget_ms) {
      Timer ts;
      step_once();
      const double ms = ts.ms();
      if (ms > 0.05) {
        const double target = std::max(1.0, budget_ms / 4.0);
        step_macs_ = std::clamp(step_macs_ * std::clamp(target / ms, 0.5, 2.0), kMinStepMacs, kMaxStepMacs);
      }
    }
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory to finish this explanation (the browser tab has at most 4096 MB)";
    stage_ = Stage::Idle;
    progress_ = 1.0;
  } catch (const std::exception& e) {
    fail("computation failed", e);
  }
  if (stage_ == Stage::Idle) progress_label_.clear();
  return stage_ != Stage::Idle;
}

}  // namespace lrp::app
