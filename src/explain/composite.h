// Composites: which rule at which layer, and how max-pooling passes relevance. Presets for VGG, and
// user-defined per-layer tables read from JSON (shared by the CLI and the app).
#pragma once

#include <string>
#include <vector>

#include "explain/rule.h"

namespace lrp {

class Network;

enum class PoolMode {
  WinnerTakeAll,  // relevance goes to the max (the gradient route; zennit's default)
  Proportional,   // max-pool treated as average-pooling: shared in proportion to the inputs (Montavon's recipe)
};
const char* pool_mode_name(PoolMode m);
PoolMode parse_pool_mode(const std::string& s);  // "wta" | "avg"

struct Composite {
  std::string name;
  std::vector<Rule> rules;  // one per network layer (used for conv and linear layers)
  PoolMode pool = PoolMode::WinnerTakeAll;

  static const std::vector<std::string>& preset_names();
  // Throws Error for an unknown name (listing the presets).
  static Composite preset(const std::string& name, const Network& net);
  // {"base": preset, "maxpool": "wta|avg", "default": {rule}, "layers": {"features.0": {rule}, "conv1_2": ...}}
  // with rule objects {"rule": name, "epsilon", "rms", "gamma", "classic", "alpha", "beta", "low", "high", "bias"}.
  static Composite from_json(const std::string& json, const Network& net);
  std::string to_json(const Network& net) const;

  const Rule& rule(int layer) const { return rules.at(static_cast<std::size_t>(layer)); }
  void validate(const Network& net) const;
  // Rules linear in R for a fixed input (all of ours are: z does not depend on R).
  std::string describe(const Network& net) const;  // one line per weighted layer
};

}  // namespace lrp
