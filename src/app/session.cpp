#include "app/session.h"

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
constexpr double kForwardStepMacs = 4e7;  // ~2-4 ms of work per step in a single WebAssembly thread
constexpr double kStepMacs = 3e7;         // the same for LRP, the graph and the neuron detail
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

void Session::fail(const std::string& what, const std::exception& e) {
  error_ = what + ": " + e.what();
  stage_ = Stage::Idle;
  progress_ = 1.0;
  progress_label_.clear();
}

bool Session::load_model_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  try {
    const std::size_t n = bytes.size();
    return load_model_store(WeightStore::from_buffer(std::move(bytes)), name, n);
  } catch (const std::exception& e) {
    fail("could not load the model '" + name + "'", e);
    return false;
  }
}

bool Session::load_model_store(const WeightStore& ws, const std::string& source, std::size_t bytes) {
  const std::string name = file_name(source);
  try {
    // F16 / int8 checkpoints are there to save memory: their 3x3 convolutions skip the Winograd packing
    return adopt_model(Network::from_weights(ws, name, 0, ws.dtype_summary() == "F32"), name, source, bytes);
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
    auto net = Network::from_weights(ws, file_name(path), 0, ws.dtype_summary() == "F32");
    std::size_t bytes = 0;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      std::fseek(f, 0, SEEK_END);
      bytes = static_cast<std::size_t>(std::ftell(f));
      std::fclose(f);
    }
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

// A freshly loaded network replaces the current one: the settings start over and the image is prepared for it.
bool Session::adopt_model(std::shared_ptr<Network> net, const std::string& shown, const std::string& source,
                          std::size_t bytes) {
  net_ = std::move(net);
  cache_ = std::make_shared<WeightCache>(net_);
  // big models: keep only what the explanations reuse (the forward packings of modified weights are re-made)
  const bool big = net_->total_macs() >= 2'000'000'000LL;
  cache_->set_keep_forward(!big);
  cache_->set_winograd(!big);
  model_name_ = net_->config().from_metadata && !net_->config().name.empty() ? net_->config().name : shown;
  model_bytes_ = bytes;
  model_source_ = source;
  error_.clear();
  settings_.composite = Composite::preset(settings_.preset, *net_);
  settings_.target = Target::top1();
  settings_.graph_layers.clear();
  want_layer_ = want_index_ = -1;
  if (!image_.empty() && !reprepare_image("could not prepare the image for this model")) return false;
  changed({Result::Picture, Result::Forward, Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip});
  return true;
}

// Preprocesses the current image again (new model or inversion) and recomputes everything.
bool Session::reprepare_image(const std::string& what) {
  try {
    PreprocessOptions po;
    po.invert = invert_;
    pre_ = preprocess(image_, net_->config(), po);
    restart(Stage::Forward, false);
    return true;
  } catch (const std::exception& e) {
    fail(what, e);
    return false;
  }
}

bool Session::load_image_file(const std::string& path, const std::string& display_name, const std::string& source) {
  const std::string shown = display_name.empty() ? file_name(path) : display_name;
  if (!net_) {
    error_ = "load a model first";
    return false;
  }
  Image img;
  try {
    img = load_image(path);
  } catch (const std::bad_alloc&) {
    error_ = "not enough memory to open the image '" + shown + "'";
    return false;
  } catch (const std::exception& e) {
    fail("could not open the image '" + shown + "'", e);
    error_ = shown_as(error_, path, shown);
    return false;
  }
  return load_picture(img, shown, source);
}

bool Session::load_picture(const Image& img, const std::string& name, const std::string& source) {
  if (!net_) {
    error_ = "load a model first";
    return false;
  }
  try {
    PreprocessOptions po;
    po.invert = invert_;
    Preprocessed pre = preprocess(img, net_->config(), po);
    image_ = img;  // a copy into the buffers of the previous picture, when they are large enough
    pre_ = std::move(pre);
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

void Session::set_invert(InvertMode m) {
  invert_ = m;
  if (image_.empty() || !net_) return;
  reprepare_image("could not prepare the image");
}

void Session::set_preset(const std::string& name) {
  if (!net_) return;
  try {
    settings_.composite = Composite::preset(name, *net_);
    settings_.preset = name;
  } catch (const std::exception& e) {
    fail("composite", e);
    return;
  }
  restart(Stage::Explain, false);
}

void Session::set_composite(const Composite& c) {
  if (!net_) return;
  try {
    c.validate(*net_);
  } catch (const std::exception& e) {
    fail("rules", e);
    return;
  }
  settings_.composite = c;
  restart(Stage::Explain, false);
}

void Session::composite_edited() {
  try {
    settings_.composite.validate(*net_);
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
                             stage_ == Stage::Flip)) {
    detail_ready_ = false;
    cond_job_.reset();
    deconv_job_.reset();
    guided_job_.reset();
    pending_ = NeuronDetail();
    stage_ = Stage::Detail;
    progress_ = 0.0;
  }
}

void Session::set_graph(int k, bool k_auto, const std::vector<int>& layers) {
  settings_.graph_k = std::max(1, k);
  settings_.graph_k_auto = k_auto;
  settings_.graph_layers = layers;
  if (ex_ && ex_->done()) restart(Stage::Graph, true);
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
  if (!net_ || pre_.tensor.empty()) return;
  // (a model that cannot be explained in the memory there is was refused when it was loaded)
  if (from == Stage::Forward || !fwd_ || !fwd_->done()) {
    fwd_ = std::make_shared<ForwardPass>(net_, pre_.tensor);
    from = Stage::Forward;
  }
  if (from == Stage::Forward || from == Stage::Explain) {
    ex_.reset();
    curves_.clear();
    flip_ready_ = false;
  }
  graph_ready_ = false;
  detail_ready_ = false;
  drop_jobs();
  stage_ = from;
  stage_ms_ = 0;
  progress_ = 0.0;
  not_before_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(debounce ? 150 : 0);
  if (from == Stage::Forward)
    changed({Result::Picture, Result::Forward, Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip});
  else if (from == Stage::Explain)
    changed({Result::Explanation, Result::Graph, Result::Detail, Result::Curves, Result::Flip});
  else
    changed({Result::Graph, Result::Detail});
}

bool Session::step_once() {
  Timer t;
  switch (stage_) {
    case Stage::Idle: return false;
    case Stage::Forward: {
      progress_label_ = "forward pass";
      fwd_->step(kForwardStepMacs);
      timings_.forward_ms = fwd_->total_ms();
      progress_ = 0.3 * fwd_->progress();
      if (fwd_->done()) {
        stage_ = Stage::Explain;
        changed({Result::Forward});
      }
      return true;
    }
    case Stage::Explain: {
      progress_label_ = "relevance (" + settings_.composite.name + ")";
      if (!ex_) {
        Target tg = settings_.target;
        const int n = net_->num_classes();
        if ((tg.kind != Target::Kind::Top1 && (tg.a < 0 || tg.a >= n)) ||
            (tg.kind == Target::Kind::Contrast && (tg.b < 0 || tg.b >= n || tg.b == tg.a)))
          tg = settings_.target = Target::top1();
        ExplainOptions eo;
        eo.target = tg;
        ex_ = std::make_shared<Explanation>(fwd_, cache_, settings_.composite, eo);
        stage_ms_ = 0;
      }
      ex_->step(kStepMacs);
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
        go.optimizer.tolerance = settings_.tolerance;
        go.layers = settings_.graph_layers;
        graph_builder_ = std::make_unique<GraphBuilder>(*ex_, go);
        stage_ms_ = 0;
      }
      if (graph_builder_) {
        const bool finished = graph_builder_->step(kStepMacs) == Step::Done;
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
      if (path_job_->step(kStepMacs) == Step::More) {
        stage_ms_ += t.ms();
        progress_ = 0.82 + 0.03 * path_job_->progress();
        return true;
      }
      stage_ms_ += t.ms();
      path_heat_ = std::move(path_job_->result());
      path_heat_.reshape(net_->input_shape());
      path_job_.reset();
      graph_ready_ = true;
      timings_.graph_ms = stage_ms_;
      if (want_layer_ < 0 || want_layer_ >= net_->size()) {
        // default selection: the path's node at the last conv graph layer, else the first hidden node
        for (int n : graph_.path) {
          const GraphNode& node = graph_.nodes[static_cast<std::size_t>(n)];
          if (net_->layer(node.layer).kind == LayerKind::Conv) {
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
      const bool valid = want_layer_ >= 0 && want_layer_ < net_->size() && want_index_ >= 0 &&
                         want_index_ < net_->layer(want_layer_).out_shape[0] && net_->layer(want_layer_).kind != LayerKind::ReLU;
      if (valid && !cond_job_ && !deconv_job_ && !guided_job_ && (pending_.layer != want_layer_ || pending_.index != want_index_ || pending_.conditional.empty())) {
        pending_ = NeuronDetail();
        pending_.layer = want_layer_;
        pending_.index = want_index_;
        cond_job_ = restricted_lrp_job(*ex_, {NeuronMask{want_layer_, {want_index_}}}, false);
        stage_ms_ = 0;
        return true;
      }
      if (cond_job_) {
        const bool finished = cond_job_->step(kStepMacs) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.85 + 0.05 * cond_job_->progress();
        if (!finished) return true;
        pending_.conditional = std::move(cond_job_->result());
        pending_.conditional.reshape(net_->input_shape());
        cond_job_.reset();
        const LayerKind k = net_->layer(pending_.layer).kind;
        if (k == LayerKind::Conv || k == LayerKind::MaxPool) {
          DeconvOptions o;
          deconv_job_ = std::make_unique<DeconvJob>(fwd_, cache_, pending_.layer, pending_.index, o);
          o.guided = true;
          guided_job_ = std::make_unique<DeconvJob>(fwd_, cache_, pending_.layer, pending_.index, o);
        }
        return true;
      }
      if (deconv_job_) {
        const bool finished = deconv_job_->step(kStepMacs) == Step::Done;
        stage_ms_ += t.ms();
        progress_ = 0.9 + 0.05 * deconv_job_->progress();
        if (!finished) return true;
        pending_.deconv = std::move(deconv_job_->result());
        deconv_job_.reset();
        return true;
      }
      if (guided_job_) {
        const bool finished = guided_job_->step(kStepMacs) == Step::Done;
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
        const auto rel = neuron_relevance(ex_->relevance(want_layer_));
        double total = 0;
        for (double v : rel) total += v;
        d.relevance = rel[static_cast<std::size_t>(want_index_)];
        d.share = total != 0 ? d.relevance / total : 0;
        const Tensor& act = fwd_->output(activation_layer(*net_, want_layer_));
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
      stage_ = !optimize_queue_.empty() ? Stage::Optimize : flip_pending_ ? Stage::Flip : Stage::Idle;
      progress_ = stage_ == Stage::Idle ? 1.0 : 0.9;
      changed({Result::Detail});
      return true;
    }
    case Stage::Optimize: {
      if (optimize_queue_.empty()) {
        stage_ = flip_pending_ ? Stage::Flip : Stage::Idle;
        progress_ = 1.0;
        return true;
      }
      const int layer = optimize_queue_.front();
      progress_label_ = "optimiser: " + net_->layer(layer).nick;
      if (!optimizer_job_) {
        OptimizerOptions oo;
        oo.tolerance = settings_.tolerance;
        optimizer_job_ = std::make_unique<OptimizerJob>(*ex_, layer, oo);
      }
      const bool finished = optimizer_job_->step(kStepMacs) == Step::Done;
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
        stage_ = flip_pending_ ? Stage::Flip : Stage::Idle;
      }
      changed({Result::Curves});
      return true;
    }
    case Stage::Flip: {
      progress_label_ = "pixel flipping";
      FlipOptions fo;
      fo.replace = net_->config().dark_background ? FlipReplace::Background : FlipReplace::Mean;
      fo.steps = 16;
      fo.random_runs = 3;
      if (flip_part_ == 0 && !flip_job_)
        flip_job_ = std::make_unique<FlipJob>(net_, pre_.tensor, channel_sum(ex_->input_relevance()), ex_->target_class(), fo);
      if (flip_part_ == 1 && !flip_job_) {
        // the comparison preset needs its own explanation first (also in slices)
        if (!flip_other_) {
          ExplainOptions eo;
          eo.target = Target::cls(ex_->target_class());
          flip_other_ = std::make_unique<Explanation>(fwd_, cache_, Composite::preset(flip_compare_, *net_), eo);
        }
        if (flip_other_->step(kStepMacs) == Step::More) {
          progress_ = 0.5 * flip_other_->progress() * 0.2 + 0.5;
          return true;
        }
        flip_job_ = std::make_unique<FlipJob>(net_, pre_.tensor, channel_sum(flip_other_->input_relevance()),
                                              ex_->target_class(), fo);
        flip_other_.reset();
      }
      const bool finished = flip_job_->step(kStepMacs) == Step::Done;
      progress_ = 0.5 * (flip_part_ + flip_job_->progress());
      if (!finished) return true;
      flip_[flip_part_] = std::move(flip_job_->result());
      flip_job_.reset();
      if (++flip_part_ < 2) return true;
      flip_part_ = 0;
      flip_ready_ = true;
      flip_pending_ = false;
      stage_ = Stage::Idle;
      progress_ = 1.0;
      changed({Result::Flip});
      return true;
    }
  }
  return false;
}

// A tooltip's conditional heatmap is a job beside the pipeline: asking for another neuron drops the one in flight.
const Tensor* Session::hover_conditional(int layer, int index, double* progress) {
  if (progress) *progress = 0;
  if (!ex_ || !ex_->done() || !net_) return nullptr;
  if (cond_gen_ != generation_) {
    cond_cache_.clear();
    hover_job_.reset();
    cond_gen_ = generation_;
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
      if (hover_job_->step(kStepMacs) == Step::Done) {
        if (cond_cache_.size() > 64) cond_cache_.clear();
        Tensor& r = cond_cache_[hover_key_];
        r = std::move(hover_job_->result());
        r.reshape(net_->input_shape());
        hover_job_.reset();
        ++hover_generation_;
        break;
      }
  } catch (const std::exception&) {
    hover_job_.reset();
  }
}

bool Session::update(double budget_ms) {
  budget_ms_ = budget_ms;
  // the tooltip's heatmap shares the budget with the pipeline (all of it when the pipeline is idle)
  step_hover(stage_ == Stage::Idle ? budget_ms : budget_ms / 3);
  if (stage_ == Stage::Idle) return false;
  if (std::chrono::steady_clock::now() < not_before_) return true;
  Timer t;
  try {
    while (stage_ != Stage::Idle && t.ms() < budget_ms) step_once();
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
