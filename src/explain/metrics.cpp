#include "explain/metrics.h"

#include <cmath>

#include "engine/error.h"

namespace lrp {

std::vector<double> normalise_l1(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::fabs(x);
  std::vector<double> out(v);
  if (s > 0)
    for (double& x : out) x /= s;
  return out;
}

double mse(const std::vector<double>& a, const std::vector<double>& f) {
  require(a.size() == f.size() && !a.empty(), "mse: vectors of different sizes");
  const auto na = normalise_l1(a), nf = normalise_l1(f);
  double s = 0;
  for (std::size_t i = 0; i < na.size(); ++i) s += (na[i] - nf[i]) * (na[i] - nf[i]);
  return s / static_cast<double>(na.size());
}

double smape(const std::vector<double>& a, const std::vector<double>& f) {
  require(a.size() == f.size() && !a.empty(), "smape: vectors of different sizes");
  const auto na = normalise_l1(a), nf = normalise_l1(f);
  double s = 0;
  for (std::size_t i = 0; i < na.size(); ++i) {
    const double den = (std::fabs(na[i]) + std::fabs(nf[i])) / 2.0;
    if (den > 0) s += std::fabs(nf[i] - na[i]) / den;
  }
  return 100.0 * s / static_cast<double>(na.size());
}

}  // namespace lrp
