#include "explain/atlas_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "explain/propagate_job.h"
#include "explain/workspace.h"
#include "model/network.h"

namespace lrp {

ReferenceMaskJob::ReferenceMaskJob(Workspace ws, const Image& view, int layer, int channel, const std::string& composite,
                                   const Box& box)
    : ws_(std::move(ws)), layer_(layer), channel_(channel), composite_(composite), box_(box) {
  ws_.set_view(view);  // the view is already as the model sees it: not resized again
  ws_.start_forward();
}
ReferenceMaskJob::~ReferenceMaskJob() = default;

Step ReferenceMaskJob::step(double budget) {
  switch (phase_) {
    case 0:
      if (ws_.fwd->step(budget) == Step::More) return Step::More;
      ex_ = ws_.explanation(Composite::preset(composite_, *ws_.net), ExplainOptions{});
      phase_ = 1;
      return Step::More;
    case 1:
      if (ex_->step(budget) == Step::More) return Step::More;
      prop_ = restricted_lrp_job(*ex_, {NeuronMask{layer_, {channel_}}}, false);
      phase_ = 2;
      return Step::More;
    case 2:
      if (prop_->step(budget) == Step::More) return Step::More;
      prop_->result().reshape(ws_.net->input_shape());
      heat_ = channel_sum(prop_->result());
      masked_ = masked_reference(ws_.image, heat_, box_);
      prop_.reset();
      ex_.reset();
      ws_.fwd.reset();
      phase_ = 3;
      return Step::Done;
    default: return Step::Done;
  }
}

double ReferenceMaskJob::progress() const {
  switch (phase_) {
    case 0: return 0.3 * ws_.fwd->progress();
    case 1: return 0.3 + 0.4 * ex_->progress();
    case 2: return 0.7 + 0.3 * prop_->progress();
    default: return 1.0;
  }
}

std::vector<float> reference_heatmap(std::shared_ptr<Network> net, const Image& view, int layer, int channel,
                                     const std::string& composite) {
  Workspace ws;
  ws.set_model(net, true);
  ReferenceMaskJob job(std::move(ws), view, layer, channel, composite, Box{0, 0, view.height, view.width});
  job.run();
  return job.heatmap();
}

Image masked_reference(const Image& view, const std::vector<float>& heat, const Box& box) {
  require(heat.size() == static_cast<std::size_t>(view.width) * view.height, "masked_reference: the heatmap is not the picture's size");
  const Image crop = crop_image(view, box.y0, box.x0, box.y1, box.x1);
  // the scale: the strongest positive relevance inside the box (a percentile would let one pixel decide less)
  std::vector<float> inside;
  for (int y = box.y0; y < std::min(box.y1, view.height); ++y)
    for (int x = box.x0; x < std::min(box.x1, view.width); ++x) inside.push_back(std::max(0.0f, heat[static_cast<std::size_t>(y) * view.width + x]));
  std::sort(inside.begin(), inside.end());
  const float top = inside.empty() ? 0.0f : inside[std::min(inside.size() - 1, static_cast<std::size_t>(inside.size() * 0.98))];
  Image out = crop;
  for (int y = 0; y < crop.height; ++y)
    for (int x = 0; x < crop.width; ++x) {
      const float r = std::max(0.0f, heat[static_cast<std::size_t>(y + box.y0) * view.width + (x + box.x0)]);
      const float keep = top > 0 ? 0.25f + 0.75f * std::min(1.0f, r / top) : 1.0f;
      for (int c = 0; c < 3; ++c) {
        uint8_t& v = out.rgb[(static_cast<std::size_t>(y) * crop.width + x) * 3 + c];
        v = static_cast<uint8_t>(std::lround(v * keep + 30 * (1 - keep)));
      }
    }
  return out;
}

void draw_label(Image& img, int x, int y, const std::string& text, const uint8_t rgb[3], int scale) {
  static char buf[60000];
  const int quads = stb_easy_font_print(0, 0, const_cast<char*>(text.c_str()), nullptr, buf, sizeof buf);
  const float* v = reinterpret_cast<const float*>(buf);
  for (int q = 0; q < quads; ++q) {  // each quad: 4 vertices of x, y, z and a packed colour (16 bytes)
    const float* p = v + q * 16;
    const int x0 = static_cast<int>(p[0]), y0 = static_cast<int>(p[1]), x1 = static_cast<int>(p[8]), y1 = static_cast<int>(p[9]);
    for (int yy = y0 * scale; yy < y1 * scale; ++yy)
      for (int xx = x0 * scale; xx < x1 * scale; ++xx) {
        const int px = x + xx, py = y + yy;
        if (px < 0 || py < 0 || px >= img.width || py >= img.height) continue;
        std::copy(rgb, rgb + 3, &img.rgb[(static_cast<std::size_t>(py) * img.width + px) * 3]);
      }
  }
}

Image reference_grid(const Atlas& atlas, const AtlasLayer& layer, int channel, AtlasBy by, std::shared_ptr<Network> net,
                     int cell) {
  const auto& refs = atlas.refs(layer, channel, by);
  const int li = net ? net->require_layer(layer.name) : -1;
  Workspace ws;  // (one weight cache for all the references)
  if (net) ws.set_model(net, true);
  const int n = static_cast<int>(refs.size()), cols = std::max(1, std::min(n, 8)), rows = std::max(1, (n + cols - 1) / cols);
  const int pad = 6, label = 22, title = 22;
  Image g;
  g.width = cols * (cell + pad) + pad;
  g.height = title + rows * (cell + label + pad) + pad;
  g.rgb.assign(static_cast<std::size_t>(g.width) * g.height * 3, 24);
  const uint8_t white[3] = {235, 235, 235}, grey[3] = {170, 170, 170};
  char head[160];
  std::snprintf(head, sizeof head, "%s (%s) channel %d, top %d by %s", layer.nick.c_str(), layer.name.c_str(), channel, n,
                atlas_by_name(by));
  draw_label(g, pad, 5, head, white, 2);
  for (int k = 0; k < n; ++k) {
    const AtlasRef& r = refs[static_cast<std::size_t>(k)];
    const Image* view = atlas.image(r.image);
    if (!view) continue;
    Image m;
    if (net) {
      ReferenceMaskJob job(ws, *view, li, channel, atlas.composite, r.box);
      job.run();
      m = job.result();
    } else {
      m = crop_image(*view, r.box.y0, r.box.x0, r.box.y1, r.box.x1);
    }
    // enlarged to the cell (nearest neighbour, the aspect ratio kept)
    const float s = static_cast<float>(cell) / std::max(m.width, m.height);
    const int w = std::max(1, static_cast<int>(m.width * s)), h = std::max(1, static_cast<int>(m.height * s));
    const int ox = pad + (k % cols) * (cell + pad) + (cell - w) / 2, oy = title + pad + (k / cols) * (cell + label + pad) + (cell - h) / 2;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int sx = std::min(m.width - 1, static_cast<int>(x / s)), sy = std::min(m.height - 1, static_cast<int>(y / s));
        std::copy_n(&m.rgb[(static_cast<std::size_t>(sy) * m.width + sx) * 3], 3, &g.rgb[(static_cast<std::size_t>(oy + y) * g.width + ox + x) * 3]);
      }
    char text[96];
    std::snprintf(text, sizeof text, "%s %.3g", atlas.names[r.image].c_str(), r.score);
    draw_label(g, pad + (k % cols) * (cell + pad), title + pad + (k / cols) * (cell + label + pad) + cell + 4, text, grey, 1);
  }
  return g;
}

}  // namespace lrp
