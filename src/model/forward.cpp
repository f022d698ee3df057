#include "model/forward.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/elementwise.h"
#include "engine/equal_patches.h"
#include "engine/error.h"
#include "engine/linear.h"
#include "engine/thread_pool.h"
#include "engine/timer.h"

namespace lrp {

ForwardPass::ForwardPass(std::shared_ptr<const Network> net, Tensor input, ForwardOptions opt)
    : net_(std::move(net)), opt_(std::move(opt)), input_(std::move(input)) {
  require(opt_.first_layer >= 0 && opt_.first_layer < net_->size(), "forward pass: bad first layer");
  const auto want = opt_.first_layer == 0 ? net_->input_shape() : net_->layer(opt_.first_layer).in_shape;
  require(input_.shape() == want || (opt_.first_layer > 0 && input_.size() == Tensor::count(want)),
          "input tensor " + input_.shape_string() + " does not match the model input " + shape_string(want));
  if (input_.shape() != want) input_.reshape(want);
  if (!opt_.pool) opt_.pool = &default_pool();
  const int n = net_->size();
  if (opt_.keep) {
    outputs_.resize(static_cast<std::size_t>(n));
    switches_.resize(static_cast<std::size_t>(n));
  }
  layer_ms_.assign(static_cast<std::size_t>(n), 0.0);
  layer_ = opt_.first_layer;
  total_macs_ = 0;
  for (int i = layer_; i < n; ++i) total_macs_ += net_->layer(i).macs;
  total_macs_ = std::max(1LL, total_macs_);
  begin_layer();
}

Tensor& ForwardPass::out_buffer(int i) {
  if (opt_.keep) return outputs_[static_cast<std::size_t>(i)];
  return stream_[i % 2];
}

const Tensor& ForwardPass::layer_input(int i) const {
  if (i == opt_.first_layer) return input_;
  require(i > opt_.first_layer, "forward pass: layer input before the first layer");
  if (opt_.keep) return outputs_.at(static_cast<std::size_t>(i - 1));
  return stream_[(i - 1) % 2];
}

void ForwardPass::begin_layer() {
  if (done()) return;
  const Layer& l = net_->layer(layer_);
  Tensor& out = out_buffer(layer_);
  if (out.shape() != l.out_shape) out = Tensor(l.out_shape);
  row_ = 0;
}

namespace {
// Infinite and NaN values are those whose exponent bits are all set: the largest exponent field of the tensor
// tells, in integer operations the compiler vectorises (a float accumulation would be one dependent chain).
bool all_finite(const Tensor& t) {
  const float* p = t.data();
  uint32_t top = 0;
  for (std::size_t i = 0, n = t.size(); i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, p + i, 4);
    top = std::max(top, b & 0x7f800000u);
  }
  return top != 0x7f800000u;
}
}  // namespace

// Convolutions and fully connected layers advance by output rows (as many as the budget pays for, at least one);
// the other layers, which are cheap, in one piece. A step goes on into the next layers while budget remains.
Step ForwardPass::step(double budget) {
  double left = budget;
  while (!done()) {
    Timer t;
    const Layer& l = net_->layer(layer_);
    const Tensor& in = layer_input(layer_);
    Tensor& out = out_buffer(layer_);
    ThreadPool* pool = opt_.pool;
    const bool rows_kind = (l.kind == LayerKind::Conv || l.kind == LayerKind::Linear) && l.macs > 0;
    const int rows = l.kind == LayerKind::Conv ? l.conv.oh() : l.out_shape[0];
    int r1 = rows;
    double cost = static_cast<double>(out.size());
    if (rows_kind) {
      const double per_row = static_cast<double>(l.macs) / rows;
      const double can = std::floor(left / per_row);
      r1 = row_ + static_cast<int>(std::clamp(can, 1.0, static_cast<double>(rows - row_)));
      cost = per_row * (r1 - row_);
    }
    switch (l.kind) {
      case LayerKind::Conv: conv2d(*l.packed, in.data(), Epilogue{l.bias.data(), false}, out.data(), row_, r1, pool); break;
      case LayerKind::Linear: linear(l.fc(), l.bias.data(), in.data(), 1, false, out.data(), row_, r1, pool); break;
      case LayerKind::ReLU: relu(in.data(), out.data(), in.size()); break;
      case LayerKind::MaxPool: {
        int32_t* sw = nullptr;
        if (opt_.keep) {
          auto& s = switches_[static_cast<std::size_t>(layer_)];
          s.resize(out.size());
          sw = s.data();
        }
        maxpool2d(l.pool, in.data(), out.data(), sw);
        break;
      }
      case LayerKind::AvgPool:
        adaptive_avgpool2d(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out, in.data(), out.data());
        break;
      case LayerKind::Flatten: std::copy(in.data(), in.data() + in.size(), out.data()); break;
    }
    layer_ms_[static_cast<std::size_t>(layer_)] += t.ms();
    if (l.macs > 0) done_macs_ += static_cast<long long>(rows_kind ? static_cast<double>(l.macs) * (r1 - row_) / rows : l.macs);
    row_ = r1;
    left -= cost;
    if (row_ >= rows || !rows_kind) {
      // max-pool ties as in exact arithmetic: equal patches get equal outputs (equal_patches.h); the direct path
      // already rounds them alike
      if (l.kind == LayerKind::Conv && winograd_tile(l.packed->plan.forward)) {
        Timer te;
        equalize_equal_patches(l.conv, in.data(), out.data());
        layer_ms_[static_cast<std::size_t>(layer_)] += te.ms();
      }
      // a weight near the float range or an extreme input overflows: say so, and where. (Checked at every
      // convolution and fully connected layer: the ReLU after it would turn a NaN into 0 and hide it.)
      if ((l.kind == LayerKind::Conv || l.kind == LayerKind::Linear) && !all_finite(out))
        throw Error("the model produced non-finite values at layer " + l.name + " (" + l.nick +
                    "): its weights or the input are out of range");
      if (opt_.after_layer) opt_.after_layer(layer_, out);
      ++layer_;
      begin_layer();
    }
    if (left <= 0) break;
  }
  return done() ? Step::Done : Step::More;
}

double ForwardPass::progress() const {
  if (done()) return 1.0;
  return std::min(1.0, static_cast<double>(done_macs_) / static_cast<double>(total_macs_));
}

const Tensor& ForwardPass::logits() const {
  require(done(), "forward pass has not finished");
  const int last = net_->size() - 1;
  return opt_.keep ? outputs_[static_cast<std::size_t>(last)] : stream_[last % 2];
}

const Tensor& ForwardPass::output(int i) const {
  require(opt_.keep, "forward pass did not keep layer outputs");
  require(i >= opt_.first_layer && i < net_->size() && i < layer_, "layer output not computed");
  return outputs_[static_cast<std::size_t>(i)];
}

const std::vector<int32_t>& ForwardPass::switches(int i) const {
  require(opt_.keep, "forward pass did not keep max-pool switches");
  require(i >= 0 && i < layer_ && net_->layer(i).kind == LayerKind::MaxPool, "no switches for this layer");
  return switches_[static_cast<std::size_t>(i)];
}

double ForwardPass::total_ms() const {
  double s = 0;
  for (double v : layer_ms_) s += v;
  return s;
}

int activation_layer(const Network& net, int layer) {
  if (layer + 1 < net.size() && net.layer(layer + 1).kind == LayerKind::ReLU &&
      (net.layer(layer).kind == LayerKind::Conv || net.layer(layer).kind == LayerKind::Linear))
    return layer + 1;
  return layer;
}

Tensor forward_from(const Network& net, int first, const Tensor& x, ThreadPool* pool) {
  require(first >= 0 && first <= net.size(), "forward_from: bad layer");
  if (!pool) pool = &default_pool();
  Tensor cur = x, next;
  for (int i = first; i < net.size(); ++i) {
    const Layer& l = net.layer(i);
    require(cur.size() == Tensor::count(l.in_shape), "forward_from: input does not match layer " + l.name);
    next = Tensor(l.out_shape);
    switch (l.kind) {
      case LayerKind::Conv: {
        const bool fuse = i + 1 < net.size() && net.layer(i + 1).kind == LayerKind::ReLU;
        conv2d(*l.packed, cur.data(), Epilogue{l.bias.data(), fuse}, next.data(), pool);
        if (fuse) ++i;  // the ReLU is fused (its output has the same shape)
        break;
      }
      case LayerKind::Linear:
        linear(l.fc(), l.bias.data(), cur.data(), 1, i + 1 < net.size() && net.layer(i + 1).kind == LayerKind::ReLU,
               next.data(), 0, l.out_shape[0], pool);
        if (i + 1 < net.size() && net.layer(i + 1).kind == LayerKind::ReLU) ++i;
        break;
      case LayerKind::ReLU: relu(cur.data(), next.data(), cur.size()); break;
      case LayerKind::MaxPool: maxpool2d(l.pool, cur.data(), next.data(), nullptr); break;
      case LayerKind::AvgPool:
        adaptive_avgpool2d(l.in_shape[0], l.in_shape[1], l.in_shape[2], l.avg_out, l.avg_out, cur.data(), next.data());
        break;
      case LayerKind::Flatten: std::copy(cur.data(), cur.data() + cur.size(), next.data()); break;
    }
    std::swap(cur, next);
  }
  return cur;
}

Tensor forward_logits(std::shared_ptr<const Network> net, const Tensor& input, ThreadPool* pool) {
  ForwardOptions o;
  o.keep = false;
  o.pool = pool;
  ForwardPass fp(std::move(net), input, o);
  fp.run();
  return fp.logits();
}

std::vector<int> rank_classes(const Tensor& logits) {
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)];
  });
  return order;
}

int argmax(const Tensor& logits) {
  if (logits.empty()) return -1;
  int best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
  return best;
}

std::vector<float> softmax(const Tensor& logits) {
  std::vector<float> p(logits.size());
  if (p.empty()) return p;
  float m = logits[0];
  for (std::size_t i = 0; i < logits.size(); ++i) m = std::max(m, logits[i]);
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) s += std::exp(static_cast<double>(logits[i] - m));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(std::exp(static_cast<double>(logits[i] - m)) / s);
  return p;
}

}  // namespace lrp
