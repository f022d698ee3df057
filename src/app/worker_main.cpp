// lrpscope-engine: the engine as a module of its own, for the page's Web Worker (web/engine-worker.js). The page's
// interface module sends commands (wire.h) and draws the snapshots this module sends back; the worker's script
// runs the engine in slices between messages, so a command takes effect within one slice. Weights stay here; only
// what is drawn travels (pictures arrive decoded). Built with threads (lrpscope-engine-mt) it computes on one
// thread per core, for pages that are cross-origin isolated.
#include <emscripten.h>
#include <emscripten/threading.h>

#include <algorithm>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/engine.h"
#include "app/wire.h"
#include "engine/malloc_tuning.h"
#include "engine/thread_pool.h"
#include "model/weight_store.h"

#define LRPSCOPE_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE

namespace {

struct Worker {
  lrp::app::Engine engine{lrp::app::Engine::Mode::Inline};
  long long from_interface = 0;  // commands the interface sent (what its `posted` counts)
  std::shared_ptr<const lrp::app::Snapshot> sent, sent_from;  // the last message's snapshot, and the engine's own
  std::vector<uint8_t> message;
  std::map<std::string, std::shared_ptr<lrp::ByteSource>> shards;
};
Worker* g = nullptr;

}  // namespace

// A command from the interface (its bytes in this module's memory); 1 if applied without an error.
LRPSCOPE_EXPORT int lrpscope_engine_command(const uint8_t* data, int size) {
  ++g->from_interface;
  try {
    return g->engine.send(lrp::app::decode_command(data, static_cast<std::size_t>(size))) ? 1 : 0;
  } catch (const std::exception& e) {
    g->engine.report_error(std::string("a request to the engine was damaged: ") + e.what());
    return 0;
  }
}

// One slice of work; 1 while work remains.
LRPSCOPE_EXPORT int lrpscope_engine_pump(double budget_ms) { return g->engine.pump(budget_ms) ? 1 : 0; }

// The message for the interface: what changed since the last one (0 bytes when nothing did). Its bytes are at
// lrpscope_engine_message_data() until the next call.
LRPSCOPE_EXPORT int lrpscope_engine_message() {
  auto now = g->engine.snapshot();
  if (now == g->sent_from) return 0;
  g->sent_from = now;
  auto shown = std::make_shared<lrp::app::Snapshot>(*now);
  shown->applied = g->from_interface;  // the interface compares it with the commands it sent
  g->message = lrp::app::encode_snapshot(*shown, g->sent.get());
  g->sent = std::move(shown);  // (it shares the engine's parts: the next message compares the same pointers)
  return static_cast<int>(g->message.size());
}
LRPSCOPE_EXPORT const uint8_t* lrpscope_engine_message_data() { return g->message.data(); }

// What the worker's own script does for the engine: weights it downloaded into this module's memory (the engine
// takes the block over), shards of a sharded checkpoint, download progress and errors.
LRPSCOPE_EXPORT int lrpscope_engine_load_model_buffer(uint8_t* data, double size, const char* source) {
  try {
    auto ws = std::make_shared<const lrp::WeightStore>(
        lrp::WeightStore::from_buffer_source(lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size)), source));
    return g->engine.load_model_store(ws, source, static_cast<std::size_t>(size)) ? 1 : 0;
  } catch (const std::exception& e) {
    g->engine.report_error(std::string("could not load the model: ") + e.what());
    return 0;
  }
}
LRPSCOPE_EXPORT int lrpscope_engine_add_shard(const char* name, uint8_t* data, double size) {
  g->shards[name] = lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_engine_load_shards(const char* index_json, const char* source, double total) {
  int ok = 0;
  try {
    auto ws = std::make_shared<const lrp::WeightStore>(lrp::WeightStore::from_shard_sources(index_json, g->shards));
    ok = g->engine.load_model_store(ws, source, static_cast<std::size_t>(total)) ? 1 : 0;
  } catch (const std::exception& e) {
    g->engine.report_error(std::string("could not load the sharded model: ") + e.what());
  }
  g->shards.clear();
  return ok;
}
LRPSCOPE_EXPORT void lrpscope_engine_download_progress(int active, double loaded, double total, double speed,
                                                       const char* what) {
  g->engine.set_download(lrp::app::Session::Download::of(active, loaded, total, speed, what));
}
// A reference atlas (its bytes are copied); quiet: the default one, kept unused when it does not fit the model.
LRPSCOPE_EXPORT int lrpscope_engine_load_atlas(const uint8_t* data, double size, const char* source, int quiet) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data, data + static_cast<std::size_t>(size));
  return g->engine.load_atlas_bytes(std::move(bytes), source ? source : "", quiet != 0) ? 1 : 0;
}
LRPSCOPE_EXPORT void lrpscope_engine_report_atlas_error(const char* text) { g->engine.report_error(text ? text : "", true); }
LRPSCOPE_EXPORT void lrpscope_engine_report_error(const char* text) { g->engine.report_error(text ? text : ""); }

int main() {
  lrp::keep_freed_memory();
#if LRPSCOPE_THREADS
  // one thread per core (up to the pool of web workers made at start-up)
  lrp::set_default_threads(std::min(4, std::max(1, emscripten_num_logical_cores())));
#endif
  g = new Worker();  // the interface's first commands load the default model (same path here) and its sample
  return 0;
}
