#include "explain/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Dense>

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

namespace {

// Ranks 1..n, ties sharing their mean rank.
Eigen::VectorXd ranks(const std::vector<float>& v) {
  const std::size_t n = v.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) { return v[x] < v[y]; });
  Eigen::VectorXd r(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double mean = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[static_cast<Eigen::Index>(idx[k])] = mean;
    i = j + 1;
  }
  return r;
}

// |v| / max |v| (zeros for a map without any)
std::vector<double> unit_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = m > 0 ? std::fabs(static_cast<double>(v[i])) / m : 0.0;
  return out;
}

}  // namespace

double spearman(const std::vector<float>& a, const std::vector<float>& b) {
  require(a.size() == b.size() && !a.empty(), "spearman: vectors of different sizes");
  for (std::size_t i = 0; i < a.size(); ++i)
    require(std::isfinite(a[i]) && std::isfinite(b[i]), "spearman: a value is not finite");
  Eigen::VectorXd ra = ranks(a), rb = ranks(b);
  ra.array() -= ra.mean();
  rb.array() -= rb.mean();
  const double den = ra.norm() * rb.norm();
  return den > 0 ? ra.dot(rb) / den : 0.0;
}

double ssim(const std::vector<float>& a, const std::vector<float>& b, int h, int w) {
  require(h > 0 && w > 0 && a.size() == static_cast<std::size_t>(h) * static_cast<std::size_t>(w) && b.size() == a.size(),
          "ssim: maps of different sizes");
  const std::vector<double> x = unit_abs(a), y = unit_abs(b);
  const int wh = std::min(11, h), ww = std::min(11, w);
  // the Gaussian window, normalised to sum 1
  std::vector<double> g(static_cast<std::size_t>(wh) * static_cast<std::size_t>(ww));
  double gs = 0;
  for (int i = 0; i < wh; ++i)
    for (int j = 0; j < ww; ++j) {
      const double di = i - (wh - 1) / 2.0, dj = j - (ww - 1) / 2.0;
      gs += g[static_cast<std::size_t>(i * ww + j)] = std::exp(-(di * di + dj * dj) / (2 * 1.5 * 1.5));
    }
  for (double& v : g) v /= gs;
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double total = 0;
  long long windows = 0;
  for (int r = 0; r + wh <= h; ++r)
    for (int c = 0; c + ww <= w; ++c) {
      double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (int i = 0; i < wh; ++i)
        for (int j = 0; j < ww; ++j) {
          const double k = g[static_cast<std::size_t>(i * ww + j)];
          const std::size_t at = static_cast<std::size_t>(r + i) * static_cast<std::size_t>(w) + static_cast<std::size_t>(c + j);
          mx += k * x[at], my += k * y[at];
          sxx += k * x[at] * x[at], syy += k * y[at] * y[at], sxy += k * x[at] * y[at];
        }
      const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
      total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++windows;
    }
  return total / static_cast<double>(windows);
}

EvidenceShare evidence_share(const std::vector<float>& relevance, const std::vector<uint8_t>& mask) {
  require(relevance.size() == mask.size(), "evidence share: the mask is not the size of the heatmap");
  EvidenceShare e;
  double pos = 0, in = 0;
  std::size_t painted = 0;
  for (std::size_t i = 0; i < relevance.size(); ++i) {
    const double v = relevance[i] > 0 && std::isfinite(relevance[i]) ? relevance[i] : 0.0;
    pos += v;
    if (mask[i]) in += v, ++painted;
  }
  e.share = pos > 0 ? in / pos : 0;
  e.area = relevance.empty() ? 0 : static_cast<double>(painted) / static_cast<double>(relevance.size());
  return e;
}

}  // namespace lrp
