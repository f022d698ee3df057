#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/simd.h"

namespace lrp::cli {

int cmd_info(const Argv& argv) {
  Args a(argv, {"model", "threads"}, {});
  auto net = load_model(a);
  std::printf("model: %s (%s)\n", net->config().name.c_str(), net->info().source.c_str());
  std::printf("%s", net->describe().c_str());
  std::printf("kernels: %s\n", simd::isa_name());
  return 0;
}

}  // namespace lrp::cli
