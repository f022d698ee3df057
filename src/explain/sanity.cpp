#include "explain/sanity.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "explain/heatmap.h"
#include "explain/metrics.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/network.h"
#include "model/random_weights.h"

namespace lrp {

SanityJob::SanityJob(std::shared_ptr<const Network> net, const Tensor& input, const Composite& composite, Target target,
                     SanityOptions opt)
    : original_(net), net_(net), input_(input), composite_(composite), target_(target), opt_(opt) {
  require(net && net->has_weights(), "the sanity check needs a model with its weights");
  for (int i = net->size(); i-- > 0;)
    if (net->layer(i).has_weights()) order_.push_back(i);
  res_.height = net->spec().in_height;
  res_.width = net->spec().in_width;
  ForwardOptions fo;
  fo.pool = opt_.pool;
  fwd_ = std::make_shared<ForwardPass>(net_, input_, fo);
}

SanityJob::~SanityJob() = default;

double SanityJob::progress() const {
  if (finished_) return 1.0;
  const double per = 1.0 / static_cast<double>(order_.size() + 1);
  const double in = ex_ ? 0.5 + 0.5 * ex_->progress() : 0.5 * fwd_->progress();
  return std::min(1.0, per * (static_cast<double>(res_.steps.size()) + in));
}

// The next model: one more layer from the top re-initialised. The other layers share the previous model's weights, so
// a step costs the new layer's weights and their packing, and memory grows by the layers re-initialised so far.
void SanityJob::next_model() {
  const Layer& l = original_->layer(order_[static_cast<std::size_t>(randomised_)]);
  Tensor w = random_vgg_tensor(original_->spec(), l.name + ".weight", opt_.seed, opt_.pool);
  Tensor b = random_vgg_tensor(original_->spec(), l.name + ".bias", opt_.seed, opt_.pool);
  fwd_.reset();
  ex_.reset();
  net_ = net_->with_layer_weights(order_[static_cast<std::size_t>(randomised_)], std::move(w), std::move(b));
  ++randomised_;
  ForwardOptions fo;
  fo.pool = opt_.pool;
  fwd_ = std::make_shared<ForwardPass>(net_, input_, fo);
}

void SanityJob::finish_step() {
  SanityStep s;
  s.layer = randomised_ == 0 ? "" : original_->layer(order_[static_cast<std::size_t>(randomised_ - 1)]).nick;
  s.heatmap = channel_sum(ex_->input_relevance());
  s.target_logit = ex_->target_logit();
  const Tensor& logits = fwd_->logits();
  s.predicted = static_cast<int>(std::max_element(logits.data(), logits.data() + logits.size()) - logits.data());
  if (res_.steps.empty()) {
    res_.target = ex_->target_class();
  } else {
    const std::vector<float>& h0 = res_.steps.front().heatmap;
    std::vector<float> a0(h0.size()), a1(h0.size());
    for (std::size_t i = 0; i < h0.size(); ++i) a0[i] = std::fabs(h0[i]), a1[i] = std::fabs(s.heatmap[i]);
    s.spearman = spearman(h0, s.heatmap);
    s.spearman_abs = spearman(a0, a1);
    s.ssim = ssim(h0, s.heatmap, res_.height, res_.width);
  }
  res_.steps.push_back(std::move(s));
}

Step SanityJob::step(double budget) {
  if (finished_) return Step::Done;
  if (!fwd_->done()) {
    fwd_->step(budget);
    return Step::More;
  }
  if (!ex_) {
    ExplainOptions eo;
    eo.pool = opt_.pool;
    eo.keep_layers = false;
    // every model explains the class the original one did (a randomised model's top class is another)
    eo.target = res_.steps.empty() || target_.kind == Target::Kind::Contrast ? target_ : Target::cls(res_.target);
    ex_ = std::make_shared<Explanation>(fwd_, std::make_shared<WeightCache>(net_, net_->kernel_policy()), composite_, eo);
  }
  if (!ex_->done()) {
    ex_->step(budget);
    if (!ex_->done()) return Step::More;
  }
  finish_step();
  if (randomised_ == static_cast<int>(order_.size())) {
    finished_ = true;
    fwd_.reset();
    ex_.reset();
    net_.reset();
    return Step::Done;
  }
  next_model();
  return Step::More;
}

}  // namespace lrp
