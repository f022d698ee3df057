// The shape of one convolution (NCHW, one image): what the planner decides on and every kernel reads.
#pragma once

namespace lrp {

struct ConvShape {
  int cin = 0, h = 0, w = 0;  // input
  int cout = 0, kh = 3, kw = 3;
  int stride = 1, pad = 1;
  int oh() const { return (h + 2 * pad - kh) / stride + 1; }
  int ow() const { return (w + 2 * pad - kw) / stride + 1; }
  long long macs() const { return 1LL * cout * oh() * ow() * cin * kh * kw; }
  // Throws Error when the shape is not a valid convolution.
  void validate() const;
};

}  // namespace lrp
