#include "engine/malloc_tuning.h"

#include <cstdlib>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__) && !defined(__EMSCRIPTEN__)
#include <malloc.h>
#endif

namespace lrp {

void keep_freed_memory() {
#if defined(__GLIBC__) && !defined(__EMSCRIPTEN__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

}  // namespace lrp
