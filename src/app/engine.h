// The engine service: the session (model, picture, pipeline of jobs) behind a command/result protocol. The
// interface sends Commands and draws the latest Snapshot; it never touches the session. One protocol, three
// places for the engine: inline (the page today), its own thread (the desktop), another module (wire.h: a worker).
// Errors of queued commands reach the snapshot's error line, like every other error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/app_state.h"
#include "app/command.h"
#include "app/session.h"
#include "app/snapshot.h"

namespace lrp::app {

// What the interface sees of an engine, wherever it runs: commands in (each one a Command), snapshots out.
class EngineApi {
 public:
  enum class Mode { Inline, Thread, Remote };
  virtual ~EngineApi() = default;
  virtual Mode mode() const = 0;
  // Commands posted so far; a snapshot whose `applied` reaches this number reflects all of them.
  virtual long long posted() const = 0;
  // The latest results and status (cheap: the parts are shared).
  virtual std::shared_ptr<const Snapshot> snapshot() const = 0;
  // Applies (inline) or queues a command. Inline: whether it was applied without an error; else true.
  virtual bool send(Command c) = 0;

  // The commands by name.
  bool load_model_file(const std::string& path, const std::string& name = "");
  bool load_model_store(std::shared_ptr<const WeightStore> ws, const std::string& source, std::size_t bytes);
  bool load_network(std::shared_ptr<Network> net, const std::string& name);
  bool load_image_file(const std::string& path, const std::string& name = "", const std::string& source = "");
  // (inline the pixels are read where they are: the session copies them once, into its previous picture's buffers)
  bool load_picture(const Image& img, const std::string& name, const std::string& source = "");
  bool set_invert(InvertMode m);
  bool set_preset(const std::string& name);
  bool set_composite(const Composite& c, const std::string& preset = "");  // a whole table (a link, a rules file)
  bool edit_composite(const Composite& c);  // the rules table was edited (waits for the user to stop dragging)
  bool set_target(const Target& t);
  bool select_neuron(int layer, int index);
  bool set_graph(int k, bool k_auto, const std::vector<int>& layers, int cap = 0);
  bool set_tolerance(double tolerance);
  bool run_optimizer(int layer);  // -1: every layer
  bool run_flipping(const std::string& compare_preset);
  bool run_sanity(uint64_t seed);
  bool edit_view(const Image& view);
  bool reset_view();
  bool cancel();
  bool set_download(const Session::Download& d);
  bool report_error(const std::string& text, bool about_atlas = false);  // (about_atlas: it stays, as the atlas' own)
  bool clear_error();
  // The engine's part of a link (everything but the view and the picture, which is opened before): checked against
  // the model it has when it applies it; each problem becomes one sentence of the error line (after the view's).
  bool apply_state(const AppState& st, const std::vector<std::string>& view_errors = {});
  // Requests for display data: the tooltip's conditional heatmap (layer -1: none) and the layer explorer's maps.
  bool hover(int layer, int index);
  bool want_layer(int layer);  // -1: none
  bool want_node_heat(bool on);  // the graph's nodes as conditional heatmaps (Snapshot::node_heat)
  bool want_node_refs(bool on, int by);  // ... as their best references by `by` (Snapshot::node_refs)
  // The reference atlas: a file where the engine runs, or its bytes; quiet: the default atlas (no error when it
  // is missing or made for another model). References of one neuron (layer -1: none); a reference's picture opened.
  bool load_atlas_file(const std::string& path, const std::string& source = "", bool quiet = false);
  bool load_atlas_bytes(std::shared_ptr<const std::vector<uint8_t>> bytes, const std::string& source, bool quiet = false);
  bool want_references(int layer, int channel);
  bool open_reference(int image);
  bool want_concepts(int layer, int by);  // the Concepts tab's layer (-1: none); by: 0 activation, 1 relevance
};

// The engine in this module: inline (the page's only thread; commands applied at once, pump() computes inside
// the frame's budget) or on its own thread (the desktop: commands applied in order between slices of about
// kSliceMs of work, a snapshot published after each, so Cancel and a new request take effect within one slice).
class Engine : public EngineApi {
 public:
  static constexpr double kSliceMs = 50.0;

  explicit Engine(Mode mode);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Mode mode() const override { return mode_; }
  long long posted() const override { return posted_; }
  std::shared_ptr<const Snapshot> snapshot() const override;
  bool send(Command c) override;

  // Inline mode: computes for at most budget_ms; returns true while work remains. (Thread mode: no-op.)
  bool pump(double budget_ms);
  // Waits until every command posted so far is applied and no work remains, or timeout_s passes (tests, --seconds).
  bool wait_idle(double timeout_s);
  // Thread mode: called on the engine thread after each publish (to wake the interface's event loop).
  void on_publish(std::function<void()> f) { on_publish_ = std::move(f); }

 private:
  void run();  // the engine thread
  bool apply(const Command& c);
  bool execute(const Command& c);
  void publish();

  Mode mode_;
  Session session_;
  // requests
  int hover_layer_ = -1, hover_index_ = -1, want_layer_ = -1;
  // published parts, rebuilt when their versions change (engine side)
  Snapshot next_;
  const Network* net_seen_ = nullptr;
  long long hover_seen_ = -1, hover_views_ = 0, node_heat_seen_ = -1, atlas_seen_ = -1, refs_seen_ = -1, concepts_seen_ = -1, node_refs_seen_ = -1;
  long long applied_ = 0;
  // shared with the interface
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Command> queue_;
  std::atomic<long long> posted_{0};
  bool stop_ = false;
  std::shared_ptr<const Snapshot> published_;
  std::function<void()> on_publish_;
  std::thread thread_;
};

}  // namespace lrp::app
