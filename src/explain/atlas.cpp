#include "explain/atlas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/error.h"
#include "explain/concept_map.h"
#include "explain/explanation.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp {

const char* atlas_by_name(AtlasBy by) { return by == AtlasBy::Activation ? "activation" : "relevance"; }

const AtlasLayer* Atlas::layer(const std::string& name_or_nick) const {
  for (const AtlasLayer& l : layers)
    if (l.name == name_or_nick || l.nick == name_or_nick) return &l;
  return nullptr;
}

const std::vector<AtlasRef>& Atlas::refs(const AtlasLayer& l, int channel, AtlasBy by) const {
  require(channel >= 0 && channel < l.channels,
          l.nick + " has " + std::to_string(l.channels) + " channels, 0 to " + std::to_string(l.channels - 1));
  return (by == AtlasBy::Activation ? l.by_activation : l.by_relevance)[static_cast<std::size_t>(channel)];
}

const Image* Atlas::image(uint32_t index) const {
  const auto it = std::lower_bound(image_index.begin(), image_index.end(), index);
  if (it == image_index.end() || *it != index) return nullptr;
  return &images[static_cast<std::size_t>(it - image_index.begin())];
}

namespace {

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  void text(const std::string& s) { bytes(s.data(), s.size() + 1); }
  void num(int64_t v) { bytes(&v, sizeof v); }
  // a weight to 8 significant bits (bfloat16's precision, rounded to nearest): the same for F32, F16 and BF16 copies
  void weight(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    u = (u + 0x8000u) & 0xffff0000u;
    num(static_cast<int64_t>(u));
  }
};

}  // namespace

std::string model_fingerprint(const Network& net) {
  Fnv f;
  f.text(net.spec().arch_name());
  for (int d : net.input_shape()) f.num(d);
  f.num(net.num_classes());
  std::vector<float> tmp(1);
  for (const Layer& l : net.layers()) {
    if (!l.has_weights()) continue;
    f.text(l.name);
    const FcMatrix m = l.fc();
    f.num(m.rows);
    f.num(m.cols);
    // a sample of the weights: a prime stride through the matrix, at most ~4096 values a layer
    const long long n = static_cast<long long>(m.rows) * m.cols;
    const long long stride = std::max<long long>(1, n / 4096) | 1;
    for (long long i = 0; i < n; i += stride) {
      const int r = static_cast<int>(i / m.cols), c = static_cast<int>(i % m.cols);
      f.weight(*m.row(r, c, c + 1, tmp.data()));
    }
    for (std::size_t i = 0; i < l.bias.size(); i += 7) f.weight(l.bias.data()[i]);
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  return buf;
}

std::string atlas_mismatch(const Atlas& a, const Network& net) {
  if (a.arch != net.spec().arch_name() || a.input_shape != net.input_shape() || a.classes != net.num_classes()) {
    char buf[256];
    const auto s = net.input_shape();
    std::snprintf(buf, sizeof buf, "the atlas was made for a %s with %d classes and %dx%dx%d input; this model is a %s with %d "
                  "classes and %dx%dx%d input", a.arch.c_str(), a.classes, a.input_shape.size() == 3 ? a.input_shape[0] : 0,
                  a.input_shape.size() == 3 ? a.input_shape[1] : 0, a.input_shape.size() == 3 ? a.input_shape[2] : 0,
                  net.spec().arch_name().c_str(), net.num_classes(), s[0], s[1], s[2]);
    return buf;
  }
  for (const AtlasLayer& l : a.layers) {
    const int i = net.find(l.name);
    if (i < 0 || net.layer(i).out_features() != l.channels)
      return "the atlas' layer " + l.name + " (" + std::to_string(l.channels) + " channels) is not this model's";
  }
  if (a.fingerprint != model_fingerprint(net))
    return "the atlas was made for other weights ('" + a.model_name + "', fingerprint " + a.fingerprint +
           "; this model's is " + model_fingerprint(net) + ")";
  return "";
}

std::vector<int> default_atlas_layers(const Network& net) {
  std::vector<int> out;
  for (int i = 0; i + 1 < net.size(); ++i)
    if (net.layer(i).kind == LayerKind::Conv || net.layer(i).kind == LayerKind::Linear) out.push_back(i);
  return out;
}

namespace {
// best first: the higher score, then the lower image index (so equal scores rank the same in every run)
bool better(const AtlasRef& a, const AtlasRef& b) { return a.score != b.score ? a.score > b.score : a.image < b.image; }

void offer(std::vector<AtlasRef>& heap, const AtlasRef& r, int top) {
  if (static_cast<int>(heap.size()) < top) {
    heap.push_back(r);
    std::push_heap(heap.begin(), heap.end(), better);  // `better` as less-than: the worst at the front
  } else if (better(r, heap.front())) {
    std::pop_heap(heap.begin(), heap.end(), better);
    heap.back() = r;
    std::push_heap(heap.begin(), heap.end(), better);
  }
}
}  // namespace

AtlasBuilder::AtlasBuilder(const Network& net, const AtlasOptions& opt) : net_(&net), opt_(opt) {
  require(opt_.top >= 1 && opt_.top <= 1000, "atlas: --top must be 1 to 1000");
  layers_ = opt_.layers.empty() ? default_atlas_layers(net) : opt_.layers;
  std::sort(layers_.begin(), layers_.end());
  layers_.erase(std::unique(layers_.begin(), layers_.end()), layers_.end());
  for (int l : layers_) {
    require(l >= 0 && l + 1 < net.size() &&
                (net.layer(l).kind == LayerKind::Conv || net.layer(l).kind == LayerKind::Linear),
            "atlas: " + (l >= 0 && l < net.size() ? net.layer(l).name : std::to_string(l)) +
                " is not a convolution or a hidden fully connected layer");
    const int c = net.layer(l).out_features();
    act_.emplace_back(static_cast<std::size_t>(c));
    rel_.emplace_back(static_cast<std::size_t>(c));
    act_prof_.emplace_back(static_cast<std::size_t>(c) * std::max(0, opt_.profile_images), 0.0f);
    rel_prof_.emplace_back(static_cast<std::size_t>(c) * std::max(0, opt_.profile_images), 0.0f);
  }
}

void AtlasBuilder::add(uint32_t image, const ForwardPass& fwd, const Explanation& ex) {
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const int l = layers_[k];
    const Layer& L = net_->layer(l);
    const Tensor& a = fwd.output(activation_layer(*net_, l));  // after its ReLU
    const Tensor& r = ex.relevance(l);
    const int channels = L.out_features();
    const bool conv = L.kind == LayerKind::Conv;
    const int h = conv ? a.dim(1) : 1, w = conv ? a.dim(2) : 1;
    const std::size_t hw = static_cast<std::size_t>(h) * w;
    for (int c = 0; c < channels; ++c) {
      const float* ap = a.data() + static_cast<std::size_t>(c) * hw;
      const float* rp = r.data() + static_cast<std::size_t>(c) * hw;
      std::size_t am = 0, rm = 0;
      double rsum = 0;
      for (std::size_t i = 0; i < hw; ++i) {
        if (ap[i] > ap[am]) am = i;
        if (rp[i] > rp[rm]) rm = i;
        rsum += rp[i];
      }
      auto ref = [&](float score, std::size_t at) {
        AtlasRef x;
        x.image = image;
        x.score = score;
        if (conv) {
          x.y = static_cast<int>(at / static_cast<std::size_t>(w));
          x.x = static_cast<int>(at % static_cast<std::size_t>(w));
          x.box = receptive_field(*net_, l, x.y, x.x);
        } else {
          x.box = Box{0, 0, net_->input_shape()[1], net_->input_shape()[2]};
        }
        return x;
      };
      offer(act_[k][static_cast<std::size_t>(c)], ref(ap[am], am), opt_.top);
      offer(rel_[k][static_cast<std::size_t>(c)], ref(static_cast<float>(rsum), rm), opt_.top);
      if (added_ < opt_.profile_images) {
        const std::size_t at = static_cast<std::size_t>(c) * opt_.profile_images + added_;
        act_prof_[k][at] = ap[am];
        rel_prof_[k][at] = static_cast<float>(rsum);
      }
    }
  }
  ++added_;
}

Atlas AtlasBuilder::finish(const std::function<Image(uint32_t)>& view_of) const {
  Atlas a;
  a.top = opt_.top;
  std::vector<uint32_t> used;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const Layer& L = net_->layer(layers_[k]);
    AtlasLayer al;
    al.name = L.name;
    al.nick = L.nick;
    al.conv = L.kind == LayerKind::Conv;
    al.channels = L.out_features();
    const int n = std::min(added_, opt_.profile_images);
    if (!view_of) {  // a checkpoint keeps the profiles so far
      al.profiles = act_prof_[k];
      al.profiles.insert(al.profiles.end(), rel_prof_[k].begin(), rel_prof_[k].end());
    } else if (n >= 3) {  // the concept map over the images profiled
      const int P = opt_.profile_images;
      for (auto [prof, map] : {std::make_pair(&act_prof_[k], &al.map_activation), std::make_pair(&rel_prof_[k], &al.map_relevance)}) {
        std::vector<float> x(static_cast<std::size_t>(al.channels) * n);
        for (int c = 0; c < al.channels; ++c)
          std::copy_n(prof->begin() + static_cast<long>(c) * P, n, x.begin() + static_cast<long>(c) * n);
        *map = pca_2d(x, al.channels, n);
      }
    }
    for (auto [from, to] : {std::make_pair(&act_[k], &al.by_activation), std::make_pair(&rel_[k], &al.by_relevance)}) {
      for (const auto& heap : *from) {
        std::vector<AtlasRef> best = heap;
        std::sort(best.begin(), best.end(), better);
        for (const AtlasRef& r : best) used.push_back(r.image);
        to->push_back(std::move(best));
      }
    }
    a.layers.push_back(std::move(al));
  }
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  if (!view_of) return a;  // a checkpoint
  a.image_index = used;
  for (uint32_t i : used) a.images.push_back(view_of(i));
  return a;
}

void AtlasBuilder::resume(const Atlas& cp) {
  require(cp.top == opt_.top && cp.layers.size() == layers_.size(), "atlas: the checkpoint was made with other options");
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const AtlasLayer& l = cp.layers[k];
    require(l.name == net_->layer(layers_[k]).name && l.channels == static_cast<int>(act_[k].size()),
            "atlas: the checkpoint was made for other layers");
    for (int c = 0; c < l.channels; ++c) {
      auto& a = act_[k][static_cast<std::size_t>(c)];
      auto& r = rel_[k][static_cast<std::size_t>(c)];
      a = l.by_activation[static_cast<std::size_t>(c)];
      r = l.by_relevance[static_cast<std::size_t>(c)];
      std::make_heap(a.begin(), a.end(), better);
      std::make_heap(r.begin(), r.end(), better);
    }
    require(l.profiles.size() == act_prof_[k].size() + rel_prof_[k].size(), "atlas: the checkpoint's profiles do not fit");
    std::copy_n(l.profiles.begin(), act_prof_[k].size(), act_prof_[k].begin());
    std::copy(l.profiles.begin() + static_cast<long>(act_prof_[k].size()), l.profiles.end(), rel_prof_[k].begin());
  }
  added_ = cp.resume_at;
}

}  // namespace lrp
