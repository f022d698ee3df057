#include <cstdio>
#include <cstring>

#include "cli/commands.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#endif

namespace lrp::cli {

double peak_memory_mb() {
#ifdef __EMSCRIPTEN__
  return static_cast<double>(emscripten_get_heap_size()) / (1024.0 * 1024.0);
#else
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0.0;
  char line[256];
  double mb = 0.0;
  while (std::fgets(line, sizeof line, f)) {
    long kb = 0;
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) mb = kb / 1024.0;
  }
  std::fclose(f);
  return mb;
#endif
}

}  // namespace lrp::cli
