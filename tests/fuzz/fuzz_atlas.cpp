// Fuzz target: the reference atlas reader (explain/atlas.h): a damaged or hostile file is refused with an Error.
#include <cstdint>
#include <new>

#include "engine/error.h"
#include "explain/atlas.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lrp::Atlas a = lrp::read_atlas(data, size);
    for (const auto& l : a.layers)
      for (int c = 0; c < l.channels; ++c)
        for (const auto& r : a.refs(l, c, lrp::AtlasBy::Relevance)) (void)a.image(r.image);
  } catch (const lrp::Error&) {
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
