#include "explain/deconv.h"

#include <algorithm>

#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/lrp_operator.h"
#include "explain/propagate_job.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

Box receptive_field(const Network& net, int layer, int y, int x) {
  int y0 = y, y1 = y, x0 = x, x1 = x;  // inclusive
  for (int i = layer; i >= 0; --i) {
    const Layer& l = net.layer(i);
    if (l.kind == LayerKind::Conv) {
      const ConvShape& s = l.conv;
      y0 = y0 * s.stride - s.pad;
      x0 = x0 * s.stride - s.pad;
      y1 = y1 * s.stride - s.pad + s.kh - 1;
      x1 = x1 * s.stride - s.pad + s.kw - 1;
    } else if (l.kind == LayerKind::MaxPool) {
      y0 *= l.pool.stride;
      x0 *= l.pool.stride;
      y1 = y1 * l.pool.stride + l.pool.k - 1;
      x1 = x1 * l.pool.stride + l.pool.k - 1;
    } else if (l.kind == LayerKind::AvgPool || l.kind == LayerKind::Linear || l.kind == LayerKind::Flatten) {
      throw Error("receptive fields are defined for conv and pool layers only");
    }
    if (l.kind == LayerKind::Conv || l.kind == LayerKind::MaxPool) {
      y0 = std::max(0, y0);
      x0 = std::max(0, x0);
      y1 = std::min(l.in_shape[1] - 1, y1);
      x1 = std::min(l.in_shape[2] - 1, x1);
    }
  }
  return Box{y0, x0, y1 + 1, x1 + 1};
}

DeconvJob::DeconvJob(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, int layer, int channel,
                     const DeconvOptions& opt) {
  const Network& net = fwd->network();
  require(layer >= 0 && layer < net.size(), "deconv: bad layer");
  const Layer& l = net.layer(layer);
  require(l.kind == LayerKind::Conv || l.kind == LayerKind::MaxPool || l.kind == LayerKind::ReLU,
          "deconv: layer " + l.name + " is not a convolution (reconstructions start from conv feature maps)");
  require(l.out_shape.size() == 3, "deconv: layer " + l.name + " has no feature maps");
  const int act = activation_layer(net, layer);
  const Tensor& a = fwd->output(act);
  const int c = a.dim(0), h = a.dim(1), w = a.dim(2);
  require(channel >= 0 && channel < c, "deconv: channel " + std::to_string(channel) + " is out of range (the layer has " +
                                           std::to_string(c) + " channels)");
  const float* map = a.data() + static_cast<std::size_t>(channel) * h * w;
  int best = 0;
  double mean = 0;
  for (int i = 0; i < h * w; ++i) {
    if (map[i] > map[best]) best = i;
    mean += map[i];
  }
  res_.y = best / w;
  res_.x = best % w;
  res_.max_activation = map[best];
  res_.mean_activation = static_cast<float>(mean / (h * w));
  res_.field = receptive_field(net, act, res_.y, res_.x);
  Tensor r({1, c, h, w});
  float* dst = r.data() + static_cast<std::size_t>(channel) * h * w;
  if (opt.max_only) dst[best] = map[best];
  else std::copy(map, map + h * w, dst);
  op_ = std::make_shared<LrpOperator>(fwd, std::move(cache),
                                      Composite::preset(opt.guided ? "guided-backprop" : "deconvnet", net), nullptr);
  job_ = std::make_unique<PropagateJob>(op_.get(), act, std::move(r), -1, PropagateOptions{}, op_);
  input_shape_ = net.input_shape();
}

Step DeconvJob::step(double budget) {
  if (!job_) return Step::Done;
  if (job_->step(budget) == Step::More) return Step::More;
  res_.reconstruction = std::move(job_->result());
  res_.reconstruction.reshape(input_shape_);
  job_.reset();
  op_.reset();
  return Step::Done;
}

DeconvResult deconv(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache, int layer,
                    int channel, const DeconvOptions& opt) {
  DeconvJob job(std::move(fwd), std::move(cache), layer, channel, opt);
  job.run();
  return std::move(job.result());
}

}  // namespace lrp
