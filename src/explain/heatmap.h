// Heatmaps for the CLI and tests (the front end draws its own with shaders): channel sum, symmetric
// normalisation by the absolute maximum or a percentile of |R|, colour maps, overlay on the input.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/image.h"

namespace lrp {

enum class Colormap { BWR, ColdNHot, Seismic, Gray, Hot, Cividis };
Colormap parse_colormap(const std::string& name);  // bwr, coldnhot, seismic, gray, hot, cividis
const char* colormap_name(Colormap c);
const std::vector<std::string>& colormap_names();
// t in [0,1] (0.5 = zero relevance) -> RGB.
void colormap_rgb(Colormap c, float t, uint8_t rgb[3]);

struct HeatmapOptions {
  Colormap cmap = Colormap::BWR;
  float percentile = 100.0f;  // normalise by this percentile of |R| (100 = the absolute maximum)
  bool overlay = false;
  float alpha = 0.7f;
};

// Sum over channels of a C,H,W relevance: H*W values.
std::vector<float> channel_sum(const Tensor& r);
// A map (h x w) reduced to at most max_side on its longer side by summing boxes of whole pixels (so the total is
// kept); *oh and *ow get the new size. A map that fits is returned as it is.
std::vector<float> box_reduce(const std::vector<float>& m, int h, int w, int max_side, int* oh, int* ow);
// The value mapped to +-1: the given percentile of |h|, but at least kScaleFloor of the largest |h| (0 if h is all
// zero). The floor matters on maps whose relevance sits in a few pixels (a path heatmap, a single neuron's share):
// there the percentile falls among values that are rounding noise, which would be drawn in full colour.
constexpr float kScaleFloor = 0.01f;
float symmetric_scale(const std::vector<float>& h, float percentile);
// Renders h (height x width) to RGB; with overlay, blends onto `background` (same size) by alpha * |h|.
Image render_heatmap(const std::vector<float>& h, int width, int height, const HeatmapOptions& opt,
                     const Image* background = nullptr);

}  // namespace lrp
