// Equal patches give equal outputs, as in exact arithmetic.
//
// A convolution gives two positions the same output when their input patches (every channel, the zero padding
// included) are equal: inside a flat region of a picture, or of a feature map. PyTorch's im2col GEMM rounds equal
// patches alike, so such outputs stay exactly equal, and a max-pool window over them routes its gradient (and LRP its
// relevance) to the first maximum in row-major order, as exact arithmetic does. A Winograd tile computes each of its
// positions from the same transformed values with other coefficients, so equal outputs differ in their last bits,
// the tie breaks elsewhere, relevance moves within the window — and the next layer's patches are no longer equal
// either. After a Winograd convolution this restores the equalities: every connected set of positions with equal
// patches (8-neighbourhood) takes the output of its first position in raster order.
//
// Whether two neighbouring patches are equal follows from whether each input value equals its neighbour's in every
// channel (four compares per input value, stopped early on rows where nothing is equal any more); the sets are
// joined by union-find. Cost: a pass over the input and, where there are equal patches, a copy of their outputs.
#pragma once

#include "engine/conv_shape.h"

namespace lrp {

// in: s.cin x s.h x s.w, out: s.cout x oh x ow, both complete. Only 3x3 stride-1 "same" convolutions are
// touched (the shapes Winograd runs); returns the number of output positions that took another's output.
long equalize_equal_patches(const ConvShape& s, const float* in, float* out);

}  // namespace lrp
