#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/error.h"
#include "engine/thread_pool.h"
#include "model/model_config.h"
#include "model/random_weights.h"
#include "model/safetensors_writer.h"

namespace lrp::cli {

int cmd_make_random(const Argv& argv) {
  Args a(argv, {"arch", "seed", "out", "width-div", "classes", "input", "channels", "threads"}, {});
  apply_threads(a);
  VggSpec spec = VggSpec::by_name(a.get("arch", "vgg16"));
  const long long seed = a.get_int64("seed", 0);
  const int div = parse_int("width-div", a.get("width-div", "1"), 1, 64);
  const int classes = parse_int("classes", a.get("classes", "1000"), 1, 100000);
  // --input S (square) or HxW
  const std::string in_text = a.get("input", "224");
  const auto x = in_text.find('x');
  const int in_h = parse_int("input", in_text.substr(0, x), 32, 4096);
  const int in_w = x == std::string::npos ? in_h : parse_int("input", in_text.substr(x + 1), 32, 4096);
  const int channels = parse_int("channels", a.get("channels", "3"), 1, 3);
  if (channels == 2) throw Error("--channels must be 1 or 3");
  spec = spec.scaled(div, classes);
  spec.in_height = in_h;
  spec.in_width = in_w;
  spec.in_channels = channels;
  spec.validate();
  const std::string out = a.require("out");
  auto tensors = random_vgg_tensors(spec, static_cast<uint64_t>(seed), &default_pool());
  std::vector<NamedTensor> named;
  for (auto& [n, t] : tensors) named.push_back({n, &t, DType::F32});
  std::map<std::string, std::string> meta;
  if (in_h != 224 || in_w != 224 || channels != 3 || classes != 1000) {
    ModelConfig cfg;
    cfg.name = "random-" + spec.arch_name();
    cfg.height = in_h;
    cfg.width = in_w;
    cfg.channels = channels;
    if (channels == 1) {
      cfg.color = ColorOrder::Gray;
      cfg.mean = {0.5f};
      cfg.stdev = {0.25f};
    }
    cfg.resize = in_h == 224 && in_w == 224 ? ResizeMode::ShorterCrop : ResizeMode::Stretch;
    for (int i = 0; i < classes && classes != 1000; ++i) cfg.labels.push_back("class " + std::to_string(i));
    meta["lrpscope.config"] = cfg.to_json();
  }
  meta["lrpscope.random"] = "{\"seed\": " + std::to_string(seed) + ", \"arch\": \"" + spec.arch_name() +
                            "\", \"width_div\": " + std::to_string(div) + "}";
  write_safetensors(out, named, meta);
  long long params = 0;
  for (auto& [n, t] : tensors) params += static_cast<long long>(t.size());
  std::printf("wrote %s: %s, %lld parameters, seed %lld\n", out.c_str(), spec.arch_name().c_str(), params, seed);
  return 0;
}

}  // namespace lrp::cli
