#include "explain/explanation.h"

#include <cmath>

#include <algorithm>

#include "engine/elementwise.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

std::string Target::describe() const {
  switch (kind) {
    case Kind::Top1: return "top-1";
    case Kind::Class: return "class " + std::to_string(a);
    case Kind::Contrast: return "class " + std::to_string(a) + " vs " + std::to_string(b);
  }
  return "?";
}

namespace {
bool parse_index(const std::string& s, int max_class, int* out) {
  if (s.empty() || s.size() > 12) return false;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max_class) return false;
  *out = static_cast<int>(v);
  return true;
}
}  // namespace

Target Target::parse(const std::string& text, int max_class) {
  const auto comma = text.find(',');
  int a = 0, b = 0;
  if (comma == std::string::npos) {
    if (!parse_index(text, max_class, &a)) throw Error("must be a class index (0, 1, ...) or two of them, A,B");
    return cls(a);
  }
  if (!parse_index(text.substr(0, comma), max_class, &a) || !parse_index(text.substr(comma + 1), max_class, &b))
    throw Error("must be a class index (0, 1, ...) or two of them, A,B");
  if (a == b) throw Error("a class cannot be contrasted with itself");
  return contrast(a, b);
}

std::string Target::text() const {
  if (kind == Kind::Class) return std::to_string(a);
  if (kind == Kind::Contrast) return std::to_string(a) + "," + std::to_string(b);
  return "";
}

Target resolve_target(const Target& t, const Tensor& logits) {
  const int n = static_cast<int>(logits.size());
  auto check = [&](int c) {
    if (c < 0 || c >= n)
      throw Error("target class " + std::to_string(c) + " is out of range (the model has " + std::to_string(n) +
                  " classes: 0.." + std::to_string(n - 1) + ")");
  };
  if (t.kind == Target::Kind::Top1) return Target::cls(argmax(logits));
  check(t.a);
  if (t.kind == Target::Kind::Contrast) {
    check(t.b);
    if (t.a == t.b) throw Error("a contrast needs two different classes");
  }
  return t;
}

Explanation::Explanation(std::shared_ptr<const ForwardPass> fwd, std::shared_ptr<WeightCache> cache,
                         const Composite& composite, ExplainOptions opt)
    : opt_(opt) {
  op_ = std::make_shared<LrpOperator>(fwd, std::move(cache), composite, opt.pool);
  const Network& net = fwd->network();
  const Tensor& logits = fwd->logits();
  const Target t = resolve_target(opt.target, logits);
  target_class_ = t.a;
  const bool lrp = composite.seed == Seed::Logit;  // LRP starts from the logit, the gradient family from 1
  current_ = Tensor({1, static_cast<int>(logits.size())});
  current_[static_cast<std::size_t>(t.a)] = lrp ? logits[static_cast<std::size_t>(t.a)] : 1.0f;
  target_logit_ = logits[static_cast<std::size_t>(t.a)];
  if (t.kind == Target::Kind::Contrast) {
    current_[static_cast<std::size_t>(t.b)] = lrp ? -logits[static_cast<std::size_t>(t.b)] : -1.0f;
    target_logit_ -= logits[static_cast<std::size_t>(t.b)];
  }
  layer_ = net.size() - 1;
  sums_.assign(static_cast<std::size_t>(net.size()), 0.0);
  ms_.assign(static_cast<std::size_t>(net.size()), 0.0);
  if (opt_.keep_layers) {
    kept_.resize(static_cast<std::size_t>(net.size()));
    alias_.assign(static_cast<std::size_t>(net.size()), -1);
  }
  total_macs_ = 1;
  for (int i = 0; i < net.size(); ++i) total_macs_ += op_->build_macs(i) + op_->apply_macs(i);
}

const ForwardPass& Explanation::forward() const { return op_->forward(); }

Step Explanation::step(double budget) {
  double left = budget;
  while (!done()) {
    const long long before = done_macs_;
    const int layer = layer_;
    slice(left);
    if (layer_ == layer) {
      // the layer goes on (its weights were prepared, or a slice was done): a finite budget is spent
      if (std::isfinite(left)) break;
      continue;
    }
    left -= static_cast<double>(done_macs_ - before);
    if (left <= 0) break;
  }
  return done() ? Step::Done : Step::More;
}

// One layer, or a slice of it of about `budget` multiply-adds.
void Explanation::slice(double budget) {
  Timer t;
  const Network& net = op_->network();
  const int i = layer_;
  if (!working_) {
    sums_[static_cast<std::size_t>(i)] = sum(current_.data(), current_.size());
    work_ = op_->start_apply(i, current_, 1, next_);
    working_ = true;
  }
  const bool finished = op_->apply_step(work_, budget);
  ms_[static_cast<std::size_t>(i)] += t.ms();
  if (!finished) {
    ++slices_;
    return;
  }
  working_ = false;
  Tensor next = std::move(next_);
  next_ = Tensor();
  if (opt_.keep_layers) {
    // A ReLU passes LRP relevance through unchanged: the layer below it then shares the ReLU's copy
    // (VGG16 at 224x224 keeps about 50 MB less).
    const std::size_t up = static_cast<std::size_t>(i) + 1;
    const Tensor* above = up < kept_.size() && alias_[up] < 0 ? &kept_[up] : nullptr;
    // (a passing ReLU's step is an exact copy, so the comparison is needed only for its other rules)
    const bool relu_copy = above && net.layer(static_cast<int>(up)).kind == LayerKind::ReLU &&
                           op_->composite().rule(static_cast<int>(up)).kind == RuleKind::Pass;
    if (above && above->shape() == net.layer(i).out_shape && above->size() == current_.size() &&
        (relu_copy || std::equal(current_.data(), current_.data() + current_.size(), above->data()))) {
      alias_[up] = i;
      kept_[static_cast<std::size_t>(i)] = std::move(kept_[up]);
      kept_[up] = Tensor();
    } else {
      // current_ is replaced below: keep it without a copy
      Tensor kept = std::move(current_);
      kept.reshape(net.layer(i).out_shape);
      kept_[static_cast<std::size_t>(i)] = std::move(kept);
    }
  }
  current_ = std::move(next);
  done_macs_ += op_->build_macs(i) + op_->apply_macs(i);
  --layer_;
  if (done()) {
    input_rel_ = std::move(current_);
    input_rel_.reshape(net.input_shape());
    if (op_->composite().times_input) {
      const Tensor& x = forward().input();
      for (std::size_t k = 0; k < input_rel_.size(); ++k) input_rel_[k] *= x[k];
    }
    input_sum_ = sum(input_rel_.data(), input_rel_.size());
    // the relevance is finite wherever the forward pass was: a NaN here is a rule's arithmetic (e.g. a huge ε)
    if (!std::isfinite(input_sum_)) {
      std::string where = "the input";
      for (int l = net.size() - 1; l >= 0; --l)
        if (!std::isfinite(layer_sums()[static_cast<std::size_t>(l)])) {
          where = "layer " + net.layer(l).name + " (" + net.layer(l).nick + ")";
          break;
        }
      throw Error("the explanation produced non-finite relevance at " + where + ": a rule's parameters are out of range");
    }
  }
}

double Explanation::progress() const {
  if (done()) return 1.0;
  return static_cast<double>(done_macs_) / static_cast<double>(total_macs_);
}

const Tensor& Explanation::input_relevance() const {
  require(done(), "the explanation has not finished");
  return input_rel_;
}

const Tensor& Explanation::relevance(int layer) const {
  require(opt_.keep_layers, "the explanation did not keep per-layer relevance");
  require(layer > layer_ && layer < op_->network().size(), "relevance of this layer is not computed yet");
  while (alias_[static_cast<std::size_t>(layer)] >= 0) layer = alias_[static_cast<std::size_t>(layer)];
  return kept_[static_cast<std::size_t>(layer)];
}

double Explanation::total_ms() const {
  double s = 0;
  for (double v : ms_) s += v;
  return s;
}

}  // namespace lrp
