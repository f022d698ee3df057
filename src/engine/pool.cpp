#include "engine/pool.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace lrp {

void PoolShape::validate() const {
  require(c > 0 && h > 0 && w > 0 && k > 0 && stride > 0, "invalid pooling shape");
  require(h >= k && w >= k, "pooling window larger than its input");
}

void maxpool2d_reference(const PoolShape& s, const float* in, float* out, int32_t* switches) {
  const int oh = s.oh(), ow = s.ow();
  for (int c = 0; c < s.c; ++c) {
    const float* plane = in + static_cast<long>(c) * s.h * s.w;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const int y0 = oy * s.stride, x0 = ox * s.stride;
        int best = y0 * s.w + x0;
        float bv = plane[best];
        for (int ky = 0; ky < s.k; ++ky)
          for (int kx = 0; kx < s.k; ++kx) {
            const int idx = (y0 + ky) * s.w + x0 + kx;
            const float v = plane[idx];
            if (v > bv || std::isnan(v)) {
              bv = v;
              best = idx;
            }
          }
        const long o = (static_cast<long>(c) * oh + oy) * ow + ox;
        out[o] = bv;
        if (switches) switches[o] = best;
      }
  }
}

// VGG's 2x2 / stride 2 pooling without the generic loops: the same scan order, ties and NaN rule as the reference.
static void maxpool2x2(const PoolShape& s, const float* in, float* out, int32_t* switches) {
  const int oh = s.oh(), ow = s.ow();
  for (int c = 0; c < s.c; ++c) {
    const float* plane = in + static_cast<long>(c) * s.h * s.w;
    float* o = out + static_cast<long>(c) * oh * ow;
    int32_t* sw = switches ? switches + static_cast<long>(c) * oh * ow : nullptr;
    for (int oy = 0; oy < oh; ++oy) {
      const float* r0 = plane + static_cast<long>(2 * oy) * s.w;
      const float* r1 = r0 + s.w;
      for (int ox = 0; ox < ow; ++ox) {
        const int x = 2 * ox;
        float bv = r0[x];
        int bi = 0;
        const float v1 = r0[x + 1], v2 = r1[x], v3 = r1[x + 1];
        if (v1 > bv || v1 != v1) bv = v1, bi = 1;
        if (v2 > bv || v2 != v2) bv = v2, bi = 2;
        if (v3 > bv || v3 != v3) bv = v3, bi = 3;
        o[oy * ow + ox] = bv;
        if (sw) sw[oy * ow + ox] = (2 * oy + (bi >> 1)) * s.w + x + (bi & 1);
      }
    }
  }
}

void maxpool2d(const PoolShape& s, const float* in, float* out, int32_t* switches) {
  if (s.k == 2 && s.stride == 2) {
    maxpool2x2(s, in, out, switches);
    return;
  }
  maxpool2d_reference(s, in, out, switches);
}

void maxunpool2d(const PoolShape& s, const float* r, const int32_t* switches, float* out) {
  const int oh = s.oh(), ow = s.ow();
  std::fill(out, out + static_cast<long>(s.c) * s.h * s.w, 0.0f);
  for (int c = 0; c < s.c; ++c) {
    float* plane = out + static_cast<long>(c) * s.h * s.w;
    for (int i = 0; i < oh * ow; ++i) {
      const long o = static_cast<long>(c) * oh * ow + i;
      plane[switches[o]] += r[o];
    }
  }
}

static inline int bin_start(int i, int in, int out) { return static_cast<int>((static_cast<long>(i) * in) / out); }
static inline int bin_end(int i, int in, int out) {
  return static_cast<int>((static_cast<long>(i + 1) * in + out - 1) / out);
}

void adaptive_avgpool2d(int c, int h, int w, int oh, int ow, const float* in, float* out) {
  for (int ch = 0; ch < c; ++ch) {
    const float* plane = in + static_cast<long>(ch) * h * w;
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
      for (int ox = 0; ox < ow; ++ox) {
        const int x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
        float sum = 0.0f;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) sum += plane[y * w + x];
        out[(static_cast<long>(ch) * oh + oy) * ow + ox] = sum / static_cast<float>((y1 - y0) * (x1 - x0));
      }
    }
  }
}

void adaptive_avgpool2d_transposed(int c, int h, int w, int oh, int ow, const float* g, float* out) {
  std::fill(out, out + static_cast<long>(c) * h * w, 0.0f);
  for (int ch = 0; ch < c; ++ch) {
    float* plane = out + static_cast<long>(ch) * h * w;
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
      for (int ox = 0; ox < ow; ++ox) {
        const int x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
        const float v = g[(static_cast<long>(ch) * oh + oy) * ow + ox] / static_cast<float>((y1 - y0) * (x1 - x0));
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) plane[y * w + x] += v;
      }
    }
  }
}

}  // namespace lrp
