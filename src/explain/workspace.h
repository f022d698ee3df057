// The headless workspace every front end builds on: a model with its weight cache, a picture prepared for it, and
// the forward pass on it — from which explanations, graphs and neuron details are computed. The command-line tool
// runs it to the end; the app's session (on the engine thread, inline in the page, in a worker) steps its jobs.
#pragma once

#include <memory>
#include <string>

#include "explain/composite.h"
#include "explain/explanation.h"
#include "model/forward.h"
#include "model/image.h"
#include "model/network.h"

namespace lrp {

class WeightCache;

struct Workspace {
  std::shared_ptr<Network> net;
  std::shared_ptr<WeightCache> cache;
  Image image;
  Preprocessed pre;
  InvertMode invert = InvertMode::Auto;
  std::shared_ptr<ForwardPass> fwd;  // on `pre` (start_forward), run or stepped before explaining

  // A model: its cache of modified weights, sized for where it runs; a picture already there is prepared again. keep_all: keep the forward packings of
  // modified weights and Winograd for LRP too; false for big models (>= kBigModelMacs) in a page, whose memory
  // is bounded.
  static constexpr long long kBigModelMacs = 2'000'000'000LL;
  void set_model(std::shared_ptr<Network> n, bool keep_all);
  // The picture prepared for the model (throws Error, and then nothing changed); the forward pass is dropped.
  void set_image(const Image& img, InvertMode mode);
  // A picture that already is what the model sees (an atlas' reference): kept as it is (preprocess_view).
  void set_view(const Image& view);
  // A new forward pass on the prepared picture (not run: run() it, or step() it).
  std::shared_ptr<ForwardPass> start_forward();
  bool ready() const { return fwd && fwd->done(); }
  // An explanation job on the finished forward pass (run() it, or step() it).
  std::shared_ptr<Explanation> explanation(const Composite& c, const ExplainOptions& o) const;
};

}  // namespace lrp
