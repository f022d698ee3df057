// Scores for comparing two explanations or two outputs (docs/background.md §4). Both vectors are first
// divided by their sum of absolute values (our stated normalisation).
#pragma once

#include <cstdint>
#include <vector>

namespace lrp {

std::vector<double> normalise_l1(const std::vector<double>& v);
// (1/n) sum (A - F)^2 of the normalised vectors
double mse(const std::vector<double>& a, const std::vector<double>& f);
// (100/n) sum |F - A| / ((|A| + |F|) / 2) of the normalised vectors, 0/0 := 0; range 0..200
double smape(const std::vector<double>& a, const std::vector<double>& f);

// Comparing two heatmaps (the sanity check, sanity.h). Spearman's rank correlation: the Pearson correlation of
// the ranks, tied values sharing their mean rank; 1 for any two vectors ranked alike, 0 when either is constant.
double spearman(const std::vector<float>& a, const std::vector<float>& b);
// The structural similarity (Wang et al. 2004) of two h x w maps, each first taken in absolute value and divided
// by its maximum (so in [0, 1], data range 1): the mean over every 11x11 window (a Gaussian of sigma 1.5; the
// whole map when it is smaller) of (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2)),
// C1 = 0.01^2, C2 = 0.03^2. 1 for equal maps.
double ssim(const std::vector<float>& a, const std::vector<float>& b, int h, int w);

// Predict, then reveal: how much of the evidence for the class lies where a student painted. relevance: one value
// per pixel (the input relevance summed over channels); mask: nonzero where painted, the same size.
struct EvidenceShare {
  double share = 0;  // the positive relevance inside the mask over all positive relevance (0 when there is none)
  double area = 0;   // the painted pixels over all pixels
  double ratio() const { return area > 0 ? share / area : 0; }  // 1: what an even spread would put there
};
EvidenceShare evidence_share(const std::vector<float>& relevance, const std::vector<uint8_t>& mask);

}  // namespace lrp
