#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "model/forward.h"
#include "model/idx_dataset.h"

namespace lrp::cli {

int cmd_eval(const Argv& argv) {
  Args a(argv, {"model", "fashion-mnist", "limit", "threads"}, {"json"});
  apply_threads(a);
  auto net = load_model(a);
  const std::string dir = a.require("fashion-mnist");
  auto pick = [&](const std::string& base) {
    for (const char* ext : {".gz", ""}) {
      const std::string p = dir + "/" + base + ext;
      if (FILE* f = std::fopen(p.c_str(), "rb")) {
        std::fclose(f);
        return p;
      }
    }
    throw Error("no " + base + "(.gz) in '" + dir + "'");
  };
  IdxImages images = parse_idx_images(read_maybe_gzip(pick("t10k-images-idx3-ubyte")));
  std::vector<uint8_t> labels = parse_idx_labels(read_maybe_gzip(pick("t10k-labels-idx1-ubyte")));
  if (static_cast<int>(labels.size()) != images.count) throw Error("image and label counts differ");
  const int limit = std::min(images.count, parse_int("limit", a.get("limit", "100000000"), 1, 100000000));
  const int classes = net->num_classes();
  std::vector<int> correct(static_cast<std::size_t>(classes)), total(static_cast<std::size_t>(classes));
  Timer t;
  for (int i = 0; i < limit; ++i) {
    const Image img = idx_image(images, i);
    PreprocessOptions po;
    po.invert = InvertMode::Off;
    Tensor logits = forward_logits(net, preprocess(img, net->config(), po).tensor);
    int best = 0;
    for (int c = 1; c < static_cast<int>(logits.size()); ++c)
      if (logits[c] > logits[best]) best = c;
    const int y = labels[static_cast<std::size_t>(i)];
    if (y >= classes) throw Error("label " + std::to_string(y) + " is outside the model's classes");
    ++total[static_cast<std::size_t>(y)];
    if (best == y) ++correct[static_cast<std::size_t>(y)];
  }
  int c_all = 0;
  for (int c : correct) c_all += c;
  const double acc = static_cast<double>(c_all) / limit;
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["images"] = limit;
    j["accuracy"] = acc;
    std::vector<double> per;
    for (int c = 0; c < classes; ++c)
      per.push_back(total[static_cast<std::size_t>(c)] ? static_cast<double>(correct[static_cast<std::size_t>(c)]) / total[static_cast<std::size_t>(c)] : 0.0);
    j["per_class"] = per;
    j["ms"] = t.ms();
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("accuracy on %d Fashion-MNIST test images: %.4f (%d correct) in %.1f s\n", limit, acc, c_all, t.ms() / 1000);
  for (int c = 0; c < classes; ++c)
    if (total[static_cast<std::size_t>(c)])
      std::printf("  %-14s %.4f\n", net->label(c).c_str(),
                  static_cast<double>(correct[static_cast<std::size_t>(c)]) / total[static_cast<std::size_t>(c)]);
  return 0;
}

}  // namespace lrp::cli
