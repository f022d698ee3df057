#include "cli/common.h"

#include <cstdlib>

#include "engine/error.h"
#include "engine/thread_pool.h"

namespace lrp::cli {

KernelPolicy kernel_policy() { return KernelPolicy::parse(std::getenv("LRPSCOPE_WINOGRAD")); }

std::shared_ptr<Network> load_model(const Args& a) { return Network::load(a.require("model"), 0, kernel_policy()); }

InvertMode parse_invert(const std::string& s) {
  if (s.empty() || s == "auto") return InvertMode::Auto;
  if (s == "on" || s == "yes") return InvertMode::On;
  if (s == "off" || s == "no") return InvertMode::Off;
  throw Error("--invert must be auto, on or off, got '" + s + "'");
}

void apply_threads(const Args& a) {
  const int t = a.has("threads") ? parse_int("threads", a.get("threads"), 1, 256) : 1;
  set_default_threads(t);
}

}  // namespace lrp::cli
