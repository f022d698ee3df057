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
  // A compact form for links: the base preset, then only what differs from it,
  // "montavon~pool:wta~bias:0~features.2:gamma,e0,g0.5,c1,x1~classifier.6:epsilon,e1e-06,r0.25,x0"
  // (pool: the max-pool mode; bias:0 biases absorb nothing anywhere; then per layer e epsilon/stabiliser, r rms,
  // g gamma, c classic, a alpha, n beta, l/h zB bounds as v/v/v, x bias 0|1).
  std::string to_compact(const Network& net, const std::string& base) const;
  static Composite from_compact(const std::string& text, const Network& net);  // throws Error naming the part

  const Rule& rule(int layer) const { return rules.at(static_cast<std::size_t>(layer)); }
  void validate(const Network& net) const;
  // Rules linear in R for a fixed input (all of ours are: z does not depend on R).
  std::string describe(const Network& net) const;  // one line per weighted layer
};

}  // namespace lrp
