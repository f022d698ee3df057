#include "explain/concept_map.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace lrp {

std::vector<float> pca_2d(const std::vector<float>& profiles, int channels, int samples) {
  require(channels >= 1 && samples >= 1 && profiles.size() == static_cast<std::size_t>(channels) * samples,
          "pca_2d: profiles must hold channels x samples values");
  Eigen::MatrixXd X(channels, samples);
  for (int c = 0; c < channels; ++c) {
    double mean = 0, var = 0;
    for (int s = 0; s < samples; ++s) mean += profiles[static_cast<std::size_t>(c) * samples + s];
    mean /= samples;
    for (int s = 0; s < samples; ++s) {
      const double d = profiles[static_cast<std::size_t>(c) * samples + s] - mean;
      var += d * d;
    }
    const double sd = std::sqrt(var / samples);
    for (int s = 0; s < samples; ++s)
      X(c, s) = sd > 1e-12 ? (profiles[static_cast<std::size_t>(c) * samples + s] - mean) / sd : 0.0;
  }
  // the channels' coordinates on the leading axes: U * Sigma of X = X V (V from the samples' Gram matrix), or the
  // eigenvectors of the channels' Gram matrix scaled by the square roots of their eigenvalues
  Eigen::MatrixXd coords(channels, 2);
  coords.setZero();
  const int k = std::min(2, std::min(channels, samples));
  if (channels <= samples) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(X * X.transpose());
    for (int j = 0; j < k; ++j) {  // eigenvalues ascending: the last ones lead
      const int col = channels - 1 - j;
      coords.col(j) = es.eigenvectors().col(col) * std::sqrt(std::max(0.0, es.eigenvalues()(col)));
    }
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(X.transpose() * X);
    for (int j = 0; j < k; ++j) coords.col(j) = X * es.eigenvectors().col(samples - 1 - j);
  }
  for (int j = 0; j < 2; ++j) {  // a fixed sign: the largest coordinate (by magnitude) is positive
    Eigen::Index at = 0;
    coords.col(j).cwiseAbs().maxCoeff(&at);
    if (coords(at, j) < 0) coords.col(j) *= -1.0;
  }
  std::vector<float> out(static_cast<std::size_t>(channels) * 2);
  for (int c = 0; c < channels; ++c)
    for (int j = 0; j < 2; ++j) out[static_cast<std::size_t>(c) * 2 + j] = static_cast<float>(coords(c, j) / std::sqrt(static_cast<double>(samples)));
  return out;
}

}  // namespace lrp
