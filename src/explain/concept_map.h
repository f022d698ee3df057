// The concept map of a layer: its channels placed in two dimensions by a principal-component analysis of their
// profiles over a set of images (one score per channel and image: its activation or its relevance), so that
// channels that respond to the same images sit together. Eigen's symmetric eigensolver does the small dense algebra.
#pragma once

#include <vector>

namespace lrp {

// profiles: channels x samples, row-major. Each channel's profile is standardised (mean 0, variance 1 over the
// samples; a constant one stays 0), then the channels are projected on the two leading principal axes. Returns
// channels x 2 coordinates (row-major). Works on the smaller of the channels x channels and samples x samples
// Gram matrices. Deterministic: each axis' sign makes its largest coordinate positive.
std::vector<float> pca_2d(const std::vector<float>& profiles, int channels, int samples);

}  // namespace lrp
