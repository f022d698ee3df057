#include "explain/pixel_flipping.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/random_weights.h"

namespace lrp {

FlipResult pixel_flipping(std::shared_ptr<const Network> net, const Tensor& input, const std::vector<float>& heatmap,
                          int target, const FlipOptions& opt) {
  const auto shape = net->input_shape();
  const int C = shape[0], H = shape[1], W = shape[2];
  require(input.shape() == shape, "pixel flipping: the input does not match the model");
  require(static_cast<int>(heatmap.size()) == H * W, "pixel flipping: the heatmap does not match the input");
  require(target >= 0 && target < net->num_classes(), "pixel flipping: target out of range");
  require(opt.steps >= 1 && opt.steps <= 10000, "pixel flipping: steps must be between 1 and 10000");
  require(opt.fraction > 0 && opt.fraction <= 1.0, "pixel flipping: the fraction must be in (0, 1]");
  require(opt.random_runs >= 1 && opt.random_runs <= 1000, "pixel flipping: random runs must be between 1 and 1000");
  FlipResult res;
  res.patch = opt.patch > 0 ? opt.patch : std::max(1, H / 16);
  require(res.patch <= std::min(H, W), "pixel flipping: the patch is larger than the input");
  const int ph = (H + res.patch - 1) / res.patch, pw = (W + res.patch - 1) / res.patch;
  res.patches = ph * pw;
  std::vector<double> score(static_cast<std::size_t>(res.patches), 0.0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      score[static_cast<std::size_t>((y / res.patch) * pw + x / res.patch)] += heatmap[static_cast<std::size_t>(y) * W + x];
  std::vector<float> fill(static_cast<std::size_t>(C), 0.0f);
  const ModelConfig& cfg = net->config();
  for (int c = 0; c < C; ++c) {
    if (opt.replace == FlipReplace::Background) fill[static_cast<std::size_t>(c)] = cfg.normalise(c, 0.0f);
    else fill[static_cast<std::size_t>(c)] = 0.0f;  // Mean and Zero coincide in the normalised space
  }
  const int total = std::max(1, static_cast<int>(opt.fraction * res.patches + 0.5));
  for (int s = 0; s <= opt.steps; ++s) res.flipped.push_back(static_cast<int>(static_cast<long long>(total) * s / opt.steps));
  const double runs_total = 1.0 + opt.random_runs;
  int runs_done = 0;
  auto curve = [&](const std::vector<int>& order) {
    std::vector<double> out;
    Tensor x = input;
    int flipped = 0;
    for (int s = 0; s <= opt.steps; ++s) {
      for (; flipped < res.flipped[static_cast<std::size_t>(s)]; ++flipped) {
        const int p = order[static_cast<std::size_t>(flipped)];
        const int y0 = (p / pw) * res.patch, x0 = (p % pw) * res.patch;
        for (int c = 0; c < C; ++c)
          for (int y = y0; y < std::min(H, y0 + res.patch); ++y)
            for (int xx = x0; xx < std::min(W, x0 + res.patch); ++xx)
              x[(static_cast<std::size_t>(c) * H + y) * W + xx] = fill[static_cast<std::size_t>(c)];
      }
      out.push_back(forward_from(*net, 0, x)[static_cast<std::size_t>(target)]);
      if (opt.progress && !opt.progress((runs_done + (s + 1.0) / (opt.steps + 1)) / runs_total)) throw Error("cancelled");
    }
    ++runs_done;
    return out;
  };
  std::vector<int> order(static_cast<std::size_t>(res.patches));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)]; });
  res.lrp = curve(order);
  res.random.assign(res.lrp.size(), 0.0);
  for (int r = 0; r < opt.random_runs; ++r) {
    // Fisher-Yates with the project's counter-based generator (reproducible across platforms)
    std::iota(order.begin(), order.end(), 0);
    for (int i = res.patches - 1; i > 0; --i) {
      const uint64_t h = splitmix64(opt.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(r) * 1000003ull + static_cast<uint64_t>(i));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(h % static_cast<uint64_t>(i + 1))]);
    }
    const auto c = curve(order);
    for (std::size_t i = 0; i < c.size(); ++i) res.random[i] += c[i] / opt.random_runs;
  }
  auto aopc = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += v.front() - x;
    return s / static_cast<double>(v.size());
  };
  res.aopc_lrp = aopc(res.lrp);
  res.aopc_random = aopc(res.random);
  return res;
}

}  // namespace lrp
