#include "cli/explain_common.h"

#include <fstream>
#include <sstream>

#include "cli/common.h"
#include "engine/error.h"
#include "engine/thread_pool.h"
#include "model/json_bounded.h"

namespace lrp::cli {

std::set<std::string> explain_value_options() {
  return {"model", "image", "composite", "rules", "target", "contrast", "maxpool", "method", "invert", "threads"};
}

Opened open_workspace(const Args& a) {
  apply_threads(a);
  Opened s;
  s.set_model(load_model(a), true);
  s.set_image(load_image(a.require("image")), parse_invert(a.get("invert")));
  s.start_forward()->run();
  if (a.has("composite") && a.has("rules")) throw Error("give either --composite or --rules, not both");
  // --method names a composite of the gradient family (lrp: the --composite or --rules given)
  // (the methods: lrp, and the presets that start from 1)
  const std::string method = a.get("method", "lrp");
  std::string methods = "lrp";
  bool known = method == "lrp";
  for (const std::string& name : Composite::preset_names())
    if (Composite::preset(name, *s.net).seed == Seed::One) {
      methods += ", " + name;
      known = known || method == name;
    }
  if (!known) throw Error("unknown method '" + method + "' (" + methods + ")");
  if (method != "lrp" && (a.has("composite") || a.has("rules")))
    throw Error("--method " + method + " is a composite itself: give it alone, or --composite / --rules");
  if (a.has("rules")) {
    s.composite = Composite::from_json(read_text_bounded(a.get("rules"), kMaxRulesBytes, "rules file"), *s.net);
  } else {
    s.composite = Composite::preset(method != "lrp" ? method : a.get("composite", "epsilon-gamma-box"), *s.net);
  }
  if (a.has("maxpool")) s.composite.set_maxpool(parse_pool_mode(a.get("maxpool")), *s.net);
  if (a.has("target") && a.has("contrast")) throw Error("give either --target or --contrast, not both");
  auto target = [&](const std::string& opt, const std::string& text) {
    try {
      return Target::parse(text);
    } catch (const Error& e) {
      throw Error("--" + opt + " '" + text + "': " + e.what());
    }
  };
  if (a.has("target")) {
    s.opt.target = target("target", a.get("target"));
    if (s.opt.target.kind != Target::Kind::Class) throw Error("--target takes one class; for two, use --contrast A,B");
  }
  if (a.has("contrast")) {
    s.opt.target = target("contrast", a.get("contrast"));
    if (s.opt.target.kind != Target::Kind::Contrast) throw Error("--contrast needs two classes: A,B");
  }
  s.opt.target = resolve_target(s.opt.target, s.fwd->logits());
  s.opt.pool = &default_pool();
  return s;
}

std::string method_of(const Composite& c) { return c.seed == Seed::One ? c.name : "lrp"; }

}  // namespace lrp::cli
