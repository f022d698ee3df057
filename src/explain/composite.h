// Composites: which rule at which layer, like zennit's layer maps — every layer kind has rules (rule.h): weighted
// layers an LRP rule or the gradient, ReLUs pass / gradient / guided backprop / deconvnet / beta-smooth, pools the
// gradient (a max-pool's winner takes all) or proportional sharing. Presets for VGG (zennit's composites and the
// gradient family), and user-defined tables read from JSON (by layer type, by name, a special first layer) and
// from the compact form of links (shared by the CLI and the app).
#pragma once

#include <string>
#include <vector>

#include "explain/rule.h"

namespace lrp {

class Network;
struct Layer;

// How every max-pool passes relevance (the shortcut over the max-pool layers' rules).
enum class PoolMode {
  WinnerTakeAll,  // relevance goes to the max (the gradient route; zennit's default)
  Proportional,   // max-pool treated as average-pooling: shared in proportion to the inputs (Montavon's recipe)
};
const char* pool_mode_name(PoolMode m);
PoolMode parse_pool_mode(const std::string& s);  // "wta" | "avg"

// Where the backward pass starts: the target logit (LRP: relevance is in logit units and conserved) or 1 (the
// gradient family: d logit / d input).
enum class Seed { Logit, One };

// The LayerMask (rule.h) of a layer: which rules apply to it (0 for flatten, which passes relevance as it is).
unsigned layer_mask(const Layer& l);

struct Composite {
  std::string name;
  std::vector<Rule> rules;  // one per network layer (flatten layers: pass)
  Seed seed = Seed::Logit;
  bool times_input = false;  // multiply the input relevance by the input at the end (gradient x input)

  struct PresetDef {
    const char* name;
    const char* zennit;   // the zennit composite it equals ("" if none)
    const char* summary;  // one sentence
  };
  static const std::vector<PresetDef>& presets();
  static const std::vector<std::string>& preset_names();
  // Throws Error for an unknown name (listing the presets).
  static Composite preset(const std::string& name, const Network& net);
  // {"base": preset, "name": ..., "maxpool": "wta|avg", "seed": "logit|one", "times_input": bool,
  //  "default": {rule}  (every weighted layer),
  //  "types": {"conv"|"linear"|"relu"|"maxpool"|"avgpool": {rule}},
  //  "first": {rule}  (the first weighted layer),
  //  "layers": {"features.0": {rule}, "conv1_2": ..., "relu3_1": {"rule": "guided"}}}
  // applied in that order (the more specific wins), with rule objects {"rule": name, parameters by their keys
  // (lrpscope rules), "low", "high"}.
  static Composite from_json(const std::string& json, const Network& net);
  std::string to_json(const Network& net) const;
  // A compact form for links: the base preset, then only what differs from it,
  // "montavon~pool:wta~bias:0~features.2:gamma,g0.5,c1,x1~relu3_1:guided~seed:one~input:1"
  // (pool: every max-pool's mode; bias:0 biases absorb nothing anywhere; then per layer the rule and its parameters
  // by their link letters; seed and input as in JSON).
  std::string to_compact(const Network& net, const std::string& base) const;
  static Composite from_compact(const std::string& text, const Network& net);  // throws Error naming the part

  const Rule& rule(int layer) const { return rules.at(static_cast<std::size_t>(layer)); }
  // The max-pools' mode (of the first max-pool), and setting every max-pool's rule.
  PoolMode maxpool(const Network& net) const;
  void set_maxpool(PoolMode m, const Network& net);
  void validate(const Network& net) const;  // every rule valid and applying to its layer's kind
  std::string describe(const Network& net) const;  // one line per layer with a rule that is not the LRP default
};

}  // namespace lrp
