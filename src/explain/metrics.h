// Scores for comparing two explanations or two outputs (docs/background.md §4). Both vectors are first
// divided by their sum of absolute values (our stated normalisation).
#pragma once

#include <vector>

namespace lrp {

std::vector<double> normalise_l1(const std::vector<double>& v);
// (1/n) sum (A - F)^2 of the normalised vectors
double mse(const std::vector<double>& a, const std::vector<double>& f);
// (100/n) sum |F - A| / ((|A| + |F|) / 2) of the normalised vectors, 0/0 := 0; range 0..200
double smape(const std::vector<double>& a, const std::vector<double>& f);

}  // namespace lrp
