// Pooling: max-pooling that records its argmax switches (for LRP winner-take-all, deconvnet unpooling and
// gradients), the matching unpooling, and PyTorch's adaptive average pooling (torchvision VGG's avgpool).
#pragma once

#include <cstdint>

namespace lrp {

struct PoolShape {
  int c = 0, h = 0, w = 0, k = 2, stride = 2;
  int oh() const { return (h - k) / stride + 1; }
  int ow() const { return (w - k) / stride + 1; }
  void validate() const;
};

// out[c][oh][ow]; switches (optional) receive the index y*w+x of the chosen input inside its plane.
// Ties go to the first maximum in row-major order, like PyTorch's CPU kernel; NaN wins like in PyTorch.
void maxpool2d(const PoolShape& s, const float* in, float* out, int32_t* switches);
// out[c][h][w] = 0 everywhere except out at each switch += r (gradient / winner-take-all routing).
void maxunpool2d(const PoolShape& s, const float* r, const int32_t* switches, float* out);
void maxpool2d_reference(const PoolShape& s, const float* in, float* out, int32_t* switches);

// PyTorch adaptive_avg_pool2d: bin i covers [floor(i*h/oh), ceil((i+1)*h/oh)).
void adaptive_avgpool2d(int c, int h, int w, int oh, int ow, const float* in, float* out);
// Transposed (gradient) of the above: spreads each output value evenly over its bin.
void adaptive_avgpool2d_transposed(int c, int h, int w, int oh, int ow, const float* g, float* out);

}  // namespace lrp
