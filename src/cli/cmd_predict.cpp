#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/forward.h"

namespace lrp::cli {

int cmd_predict(const Argv& argv) {
  Args a(argv, {"model", "image", "top", "invert", "threads"}, {"json"});
  apply_threads(a);
  auto net = load_model(a);
  const std::string image_path = a.require("image");
  Image img = load_image(image_path);
  PreprocessOptions po;
  po.invert = parse_invert(a.get("invert"));
  Preprocessed pre = preprocess(img, net->config(), po);
  Tensor logits = forward_logits(net, pre.tensor);
  auto probs = softmax(logits);
  const int n = static_cast<int>(logits.size());
  const int top = std::min(n, parse_int("top", a.get("top", "5"), 1, 100000));
  const std::vector<int> order = rank_classes(logits);
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["model"] = net->config().name;
    j["image"] = image_path;
    j["inverted"] = pre.inverted;
    j["logits"] = std::vector<float>(logits.data(), logits.data() + n);
    nlohmann::ordered_json t = nlohmann::ordered_json::array();
    for (int i = 0; i < top; ++i) {
      const int c = order[static_cast<std::size_t>(i)];
      t.push_back({{"index", c}, {"label", net->label(c)}, {"prob", probs[static_cast<std::size_t>(c)]}, {"logit", logits[c]}});
    }
    j["top"] = t;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("model: %s (%s, %d classes)\n", net->config().name.c_str(), net->spec().arch_name().c_str(),
              net->num_classes());
  std::printf("image: %s (%dx%d)%s\n", image_path.c_str(), img.width, img.height,
              pre.inverted ? ", inverted to match the model's dark background" : "");
  for (int i = 0; i < top; ++i) {
    const int c = order[static_cast<std::size_t>(i)];
    std::printf("%3d. %-28s %7.3f %%   logit %9.4f   (class %d)\n", i + 1, net->label(c).c_str(),
                100.0 * probs[static_cast<std::size_t>(c)], logits[c], c);
  }
  return 0;
}

}  // namespace lrp::cli
