#include "cli/explain_common.h"

#include <fstream>
#include <sstream>

#include "cli/common.h"
#include "engine/error.h"
#include "engine/thread_pool.h"
#include "model/json_bounded.h"
#include "explain/weight_cache.h"

namespace lrp::cli {

std::set<std::string> explain_value_options() {
  return {"model", "image", "composite", "rules", "target", "contrast", "maxpool", "method", "invert", "threads"};
}

static int parse_class(const std::string& opt, const std::string& s) { return parse_int(opt, s, 0, 1 << 30); }

Session open_session(const Args& a) {
  apply_threads(a);
  Session s;
  s.net = load_model(a);
  s.image = load_image(a.require("image"));
  PreprocessOptions po;
  po.invert = parse_invert(a.get("invert"));
  s.pre = preprocess(s.image, s.net->config(), po);
  s.fwd = std::make_shared<ForwardPass>(s.net, s.pre.tensor);
  s.fwd->run();
  s.cache = std::make_shared<WeightCache>(s.net);
  if (a.has("composite") && a.has("rules")) throw Error("give either --composite or --rules, not both");
  if (a.has("rules")) {
    s.composite = Composite::from_json(read_text_bounded(a.get("rules"), kMaxRulesBytes, "rules file"), *s.net);
  } else {
    s.composite = Composite::preset(a.get("composite", "epsilon-gamma-box"), *s.net);
  }
  if (a.has("maxpool")) s.composite.pool = parse_pool_mode(a.get("maxpool"));
  if (a.has("target") && a.has("contrast")) throw Error("give either --target or --contrast, not both");
  if (a.has("target")) s.opt.target = Target::cls(parse_class("target", a.get("target")));
  if (a.has("contrast")) {
    const std::string c = a.get("contrast");
    const auto comma = c.find(',');
    if (comma == std::string::npos) throw Error("--contrast needs two classes: A,B");
    s.opt.target = Target::contrast(parse_class("contrast", c.substr(0, comma)), parse_class("contrast", c.substr(comma + 1)));
  }
  s.opt.target = resolve_target(s.opt.target, s.fwd->logits());
  if (a.has("method")) s.opt.method = parse_method(a.get("method"));
  s.opt.pool = &default_pool();
  return s;
}

}  // namespace lrp::cli
