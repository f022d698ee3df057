#include "explain/pixel_flipping.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/random_weights.h"

namespace lrp {

FlipResult pixel_flipping(std::shared_ptr<const Network> net, const Tensor& input, const std::vector<float>& heatmap,
                          int target, const FlipOptions& opt) {
  FlipJob job(std::move(net), input, heatmap, target, opt);
  job.run();
  return std::move(job.result());
}

FlipJob::FlipJob(std::shared_ptr<const Network> net, const Tensor& input, const std::vector<float>& heatmap, int target,
                 const FlipOptions& opt)
    : net_(std::move(net)), input_(input), opt_(opt), target_(target) {
  const auto shape = net_->input_shape();
  const int C = shape[0], H = shape[1], W = shape[2];
  require(input.shape() == shape, "pixel flipping: the input does not match the model");
  require(static_cast<int>(heatmap.size()) == H * W, "pixel flipping: the heatmap does not match the input");
  require(target >= 0 && target < net_->num_classes(), "pixel flipping: target out of range");
  require(opt.steps >= 1 && opt.steps <= 10000, "pixel flipping: steps must be between 1 and 10000");
  require(opt.fraction > 0 && opt.fraction <= 1.0, "pixel flipping: the fraction must be in (0, 1]");
  require(opt.random_runs >= 1 && opt.random_runs <= 1000, "pixel flipping: random runs must be between 1 and 1000");
  res_.patch = opt.patch > 0 ? opt.patch : std::max(1, H / 16);
  require(res_.patch <= std::min(H, W), "pixel flipping: the patch is larger than the input");
  const int ph = (H + res_.patch - 1) / res_.patch;
  pw_ = (W + res_.patch - 1) / res_.patch;
  res_.patches = ph * pw_;
  score_.assign(static_cast<std::size_t>(res_.patches), 0.0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      score_[static_cast<std::size_t>((y / res_.patch) * pw_ + x / res_.patch)] += heatmap[static_cast<std::size_t>(y) * W + x];
  fill_.assign(static_cast<std::size_t>(C), 0.0f);
  res_.fill_byte.assign(static_cast<std::size_t>(C), 0.0f);
  res_.columns = pw_;
  const ModelConfig& cfg = net_->config();
  for (int c = 0; c < C; ++c) {
    if (opt.replace == FlipReplace::Background) {
      fill_[static_cast<std::size_t>(c)] = cfg.normalise(c, 0.0f);
    } else {
      fill_[static_cast<std::size_t>(c)] = 0.0f;  // Mean and Zero coincide in the normalised space
      const float mean = c < static_cast<int>(cfg.mean.size()) ? cfg.mean[static_cast<std::size_t>(c)] : 0.0f;
      res_.fill_byte[static_cast<std::size_t>(c)] = cfg.scale > 0 ? std::clamp(mean / cfg.scale, 0.0f, 255.0f) : 0.0f;
    }
  }
  const int total = std::max(1, static_cast<int>(opt.fraction * res_.patches + 0.5));
  for (int s = 0; s <= opt.steps; ++s) res_.flipped.push_back(static_cast<int>(static_cast<long long>(total) * s / opt.steps));
  res_.random.assign(res_.flipped.size(), 0.0);
  start_run();
}

FlipJob::~FlipJob() = default;

void FlipJob::start_run() {
  order_.resize(static_cast<std::size_t>(res_.patches));
  std::iota(order_.begin(), order_.end(), 0);
  if (run_ == 0) {
    std::stable_sort(order_.begin(), order_.end(),
                     [&](int a, int b) { return score_[static_cast<std::size_t>(a)] > score_[static_cast<std::size_t>(b)]; });
    res_.order = order_;
  } else {
    // Fisher-Yates with the project's counter-based generator (reproducible across platforms)
    const int r = run_ - 1;
    for (int i = res_.patches - 1; i > 0; --i) {
      const uint64_t h = splitmix64(opt_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(r) * 1000003ull + static_cast<uint64_t>(i));
      std::swap(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(h % static_cast<uint64_t>(i + 1))]);
    }
  }
  x_ = input_;
  curve_.clear();
  point_ = 0;
  flipped_ = 0;
}

double FlipJob::progress() const {
  if (finished_) return 1.0;
  const double points = static_cast<double>(res_.flipped.size());
  return (run_ + point_ / points) / (1.0 + opt_.random_runs);
}

Step FlipJob::step(double budget) {
  const auto shape = net_->input_shape();
  const int C = shape[0], H = shape[1], W = shape[2];
  while (!finished_) {
    if (!fwd_) {
      for (; flipped_ < res_.flipped[static_cast<std::size_t>(point_)]; ++flipped_) {
        const int p = order_[static_cast<std::size_t>(flipped_)];
        const int y0 = (p / pw_) * res_.patch, x0 = (p % pw_) * res_.patch;
        for (int c = 0; c < C; ++c)
          for (int y = y0; y < std::min(H, y0 + res_.patch); ++y)
            for (int xx = x0; xx < std::min(W, x0 + res_.patch); ++xx)
              x_[(static_cast<std::size_t>(c) * H + y) * W + xx] = fill_[static_cast<std::size_t>(c)];
      }
      ForwardOptions fo;
      fo.keep = false;
      fwd_ = std::make_unique<ForwardPass>(net_, x_, fo);
    }
    // (one perturbed forward pass at a time: its own steps carry the budget)
    if (fwd_->step(budget) == Step::More) return Step::More;
    curve_.push_back(fwd_->logits()[static_cast<std::size_t>(target_)]);
    fwd_.reset();
    ++point_;
    if (point_ >= static_cast<int>(res_.flipped.size())) {
      if (run_ == 0) {
        res_.lrp = curve_;
      } else {
        for (std::size_t i = 0; i < curve_.size(); ++i) res_.random[i] += curve_[i] / opt_.random_runs;
      }
      if (++run_ > opt_.random_runs) {
        auto aopc = [](const std::vector<double>& v) {
          double s = 0;
          for (double x : v) s += v.front() - x;
          return s / static_cast<double>(v.size());
        };
        res_.aopc_lrp = aopc(res_.lrp);
        res_.aopc_random = aopc(res_.random);
        finished_ = true;
        return Step::Done;
      }
      start_run();
    }
    if (std::isfinite(budget)) return Step::More;
  }
  return Step::Done;
}

}  // namespace lrp
