#include "explain/heatmap.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace lrp {

namespace {

struct Stop {
  float t, r, g, b;
};

void interpolate(const std::vector<Stop>& stops, float t, uint8_t rgb[3]) {
  t = std::clamp(t, 0.0f, 1.0f);
  std::size_t i = 1;
  while (i + 1 < stops.size() && t > stops[i].t) ++i;
  const Stop& a = stops[i - 1];
  const Stop& b = stops[i];
  const float u = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0.0f;
  rgb[0] = static_cast<uint8_t>(std::lround(255.0f * (a.r + u * (b.r - a.r))));
  rgb[1] = static_cast<uint8_t>(std::lround(255.0f * (a.g + u * (b.g - a.g))));
  rgb[2] = static_cast<uint8_t>(std::lround(255.0f * (a.b + u * (b.b - a.b))));
}

const std::vector<Stop>& stops(Colormap c) {
  static const std::vector<Stop> bwr = {{0, 0, 0, 1}, {0.5f, 1, 1, 1}, {1, 1, 0, 0}};
  // zennit's coldnhot: white, cyan, black (zero), red, yellow
  static const std::vector<Stop> coldnhot = {{0, 1, 1, 1}, {0.25f, 0, 1, 1}, {0.5f, 0, 0, 0}, {0.75f, 1, 0, 0}, {1, 1, 1, 0}};
  static const std::vector<Stop> seismic = {{0, 0, 0, 0.3f}, {0.25f, 0, 0, 1}, {0.5f, 1, 1, 1}, {0.75f, 1, 0, 0}, {1, 0.5f, 0, 0}};
  static const std::vector<Stop> gray = {{0, 0, 0, 0}, {1, 1, 1, 1}};
  static const std::vector<Stop> hot = {{0, 0, 0, 0}, {0.375f, 1, 0, 0}, {0.75f, 1, 1, 0}, {1, 1, 1, 1}};
  // cividis (colour-blind safe), sampled from its definition
  static const std::vector<Stop> cividis = {{0, 0.0f, 0.135f, 0.305f},     {0.25f, 0.259f, 0.310f, 0.427f},
                                            {0.5f, 0.488f, 0.485f, 0.470f}, {0.75f, 0.741f, 0.680f, 0.434f},
                                            {1, 0.995f, 0.909f, 0.217f}};
  switch (c) {
    case Colormap::BWR: return bwr;
    case Colormap::ColdNHot: return coldnhot;
    case Colormap::Seismic: return seismic;
    case Colormap::Gray: return gray;
    case Colormap::Hot: return hot;
    case Colormap::Cividis: return cividis;
  }
  return bwr;
}

}  // namespace

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> n = {"bwr", "coldnhot", "seismic", "gray", "hot", "cividis"};
  return n;
}

Colormap parse_colormap(const std::string& name) {
  const auto& n = colormap_names();
  for (std::size_t i = 0; i < n.size(); ++i)
    if (n[i] == name) return static_cast<Colormap>(i);
  throw Error("unknown colour map '" + name + "' (bwr, coldnhot, seismic, gray, hot, cividis)");
}

const char* colormap_name(Colormap c) { return colormap_names()[static_cast<std::size_t>(c)].c_str(); }

void colormap_rgb(Colormap c, float t, uint8_t rgb[3]) { interpolate(stops(c), t, rgb); }

std::vector<float> box_reduce(const std::vector<float>& m, int h, int w, int max_side, int* oh, int* ow) {
  require(h > 0 && w > 0 && m.size() == static_cast<std::size_t>(h) * w && max_side > 0, "box_reduce: bad map");
  const int f = (std::max(h, w) + max_side - 1) / max_side;
  *oh = (h + f - 1) / f;
  *ow = (w + f - 1) / f;
  if (f == 1) return m;
  std::vector<float> out(static_cast<std::size_t>(*oh) * *ow, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) out[static_cast<std::size_t>(y / f) * *ow + x / f] += m[static_cast<std::size_t>(y) * w + x];
  return out;
}

std::vector<float> channel_sum(const Tensor& r) {
  require(r.rank() == 3, "a heatmap needs a C,H,W relevance");
  const int c = r.dim(0), hw = r.dim(1) * r.dim(2);
  std::vector<float> h(static_cast<std::size_t>(hw), 0.0f);
  for (int ch = 0; ch < c; ++ch)
    for (int i = 0; i < hw; ++i) h[static_cast<std::size_t>(i)] += r[static_cast<std::size_t>(ch) * hw + i];
  return h;
}

float symmetric_scale(const std::vector<float>& h, float percentile) {
  if (h.empty()) return 0.0f;
  std::vector<float> a(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) a[i] = std::fabs(h[i]);
  const float top = *std::max_element(a.begin(), a.end());
  if (percentile >= 100.0f) return top;
  const std::size_t k = static_cast<std::size_t>(std::clamp(percentile, 0.0f, 100.0f) / 100.0f * (a.size() - 1));
  std::nth_element(a.begin(), a.begin() + static_cast<long>(k), a.end());
  return std::max(a[k], kScaleFloor * top);
}

Image render_heatmap(const std::vector<float>& h, int width, int height, const HeatmapOptions& opt,
                     const Image* background) {
  require(static_cast<int>(h.size()) == width * height, "heatmap size mismatch");
  const float scale = symmetric_scale(h, opt.percentile);
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  const bool blend = opt.overlay && background && background->width == width && background->height == height;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const float v = scale > 0 ? std::clamp(h[i] / scale, -1.0f, 1.0f) : 0.0f;
    uint8_t c[3];
    colormap_rgb(opt.cmap, 0.5f + 0.5f * v, c);
    for (int k = 0; k < 3; ++k) {
      if (blend) {
        const float w = opt.alpha * std::fabs(v);
        const float bg = background->rgb[i * 3 + k];
        img.rgb[i * 3 + k] = static_cast<uint8_t>(std::lround(bg * (1.0f - w) + c[k] * w));
      } else {
        img.rgb[i * 3 + k] = c[k];
      }
    }
  }
  return img;
}

}  // namespace lrp
