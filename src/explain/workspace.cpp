#include "explain/workspace.h"

#include "engine/error.h"
#include "explain/weight_cache.h"

namespace lrp {

void Workspace::set_model(std::shared_ptr<Network> n, bool keep_all) {
  const bool big = !keep_all && n->total_macs() >= kBigModelMacs;
  // big models in bounded memory: keep only what the explanations reuse (forward packings are made again), and pack
  // them for the direct path (16/9 less memory than F(2x2), 4x less than F(4x4))
  auto c = std::make_shared<WeightCache>(n, big ? n->kernel_policy().without_winograd() : n->kernel_policy());
  c->set_keep_forward(!big);
  net = std::move(n);
  cache = std::move(c);
  fwd.reset();
  if (!image.empty()) set_image(image, invert);
}

void Workspace::set_image(const Image& img, InvertMode mode) {
  if (!net) throw Error("load a model first");
  PreprocessOptions po;
  po.invert = mode;
  Preprocessed p = preprocess(img, net->config(), po);
  if (&img != &image) image = img;  // a copy into the buffers of the previous picture, when they are large enough
  pre = std::move(p);
  invert = mode;
  fwd.reset();
}

void Workspace::set_view(const Image& view) {
  if (!net) throw Error("load a model first");
  Preprocessed p = preprocess_view(view, net->config());
  image = view;
  pre = std::move(p);
  invert = InvertMode::Off;
  fwd.reset();
}

std::shared_ptr<ForwardPass> Workspace::start_forward() {
  if (!net || pre.tensor.empty()) throw Error("no picture prepared for the model");
  fwd = std::make_shared<ForwardPass>(net, pre.tensor);
  return fwd;
}

std::shared_ptr<Explanation> Workspace::explanation(const Composite& c, const ExplainOptions& o) const {
  if (!ready()) throw Error("the forward pass has not run");
  return std::make_shared<Explanation>(fwd, cache, c, o);
}

}  // namespace lrp
