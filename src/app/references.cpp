#include "app/references.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/timer.h"
#include "model/network.h"

namespace lrp::app {

void ReferenceService::load(const uint8_t* data, std::size_t n, const std::string& source, const Network* net,
                            bool quiet) {
  adopt(read_atlas(data, n), source, net, quiet);
}

void ReferenceService::adopt(Atlas atlas, const std::string& source, const Network* net, bool quiet) {
  auto a = std::make_shared<const Atlas>(std::move(atlas));
  const std::string why = net ? atlas_mismatch(*a, *net) : "";
  if (!why.empty() && !quiet) throw Error(why);
  atlas_ = std::move(a);
  info_ = AtlasInfo{};
  info_.source = source;
  info_.is_default = quiet;
  info_.model_name = atlas_->model_name;
  info_.set_kind = atlas_->set_kind;
  info_.composite = atlas_->composite;
  info_.layers = static_cast<int>(atlas_->layers.size());
  info_.top = atlas_->top;
  info_.set_count = atlas_->set_count;
  info_.mismatch = why;
  for (const AtlasLayer& l : atlas_->layers) info_.layer_names.push_back(l.name);
  ++info_version_;
  masks_.clear();
  rebuild(net);
  rebuild_concepts(net);
}

void ReferenceService::model_changed(const Network* net) {
  if (atlas_) {
    const std::string why = net ? atlas_mismatch(*atlas_, *net) : "no model";
    if (why != info_.mismatch) {
      info_.mismatch = why;
      ++info_version_;
    }
  }
  masks_.clear();
  want_layer_ = want_channel_ = -1;
  rebuild(net);
  rebuild_concepts(net);
}

void ReferenceService::want_concepts(int layer, int by, const Network* net) {
  if (layer == concepts_layer_ && by == concepts_by_) return;
  concepts_layer_ = layer;
  concepts_by_ = by == 1 ? 1 : 0;
  rebuild_concepts(net);
}

namespace {

// A picture reduced (nearest neighbour, aspect kept) to at most `side` pixels a side.
Image thumbnail(const Image& img, int side) {
  if (img.width <= side && img.height <= side) return img;
  const float k = static_cast<float>(side) / std::max(img.width, img.height);
  return reduce_image(img, std::max(1, static_cast<int>(img.width * k)), std::max(1, static_cast<int>(img.height * k)));
}

}  // namespace

void ReferenceService::rebuild_concepts(const Network* net) {
  const long long version = concepts_.version + 1;
  concepts_ = ConceptsView{};
  concepts_.version = version;
  if (!fits() || !net || concepts_layer_ < 0 || concepts_layer_ >= net->size()) return;
  const AtlasLayer* l = atlas_->layer(net->layer(concepts_layer_).name);
  if (!l) return;
  concepts_.layer = concepts_layer_;
  concepts_.by = concepts_by_;
  const AtlasBy by = static_cast<AtlasBy>(concepts_by_);
  concepts_.best.resize(static_cast<std::size_t>(l->channels));
  concepts_.best_name.resize(static_cast<std::size_t>(l->channels));
  for (int c = 0; c < l->channels; ++c)
    best(concepts_layer_, c, by, net, ConceptsView::kThumb, &concepts_.best[static_cast<std::size_t>(c)],
         &concepts_.best_name[static_cast<std::size_t>(c)]);
  const auto& map = by == AtlasBy::Activation ? l->map_activation : l->map_relevance;
  if (map.size() == static_cast<std::size_t>(l->channels) * 2)
    for (int c = 0; c < l->channels; ++c) {
      concepts_.map_x.push_back(map[static_cast<std::size_t>(c) * 2]);
      concepts_.map_y.push_back(map[static_cast<std::size_t>(c) * 2 + 1]);
    }
}

bool ReferenceService::best(int layer, int channel, AtlasBy by, const Network* net, int side, Image* crop,
                            std::string* name) const {
  if (!fits() || !net || layer < 0 || layer >= net->size()) return false;
  const AtlasLayer* l = atlas_->layer(net->layer(layer).name);
  if (!l || channel < 0 || channel >= l->channels) return false;
  const auto& refs = atlas_->refs(*l, channel, by);
  if (refs.empty()) return false;
  const Image* pic = atlas_->image(refs[0].image);
  if (!pic) return false;
  const Box& b = refs[0].box;
  *crop = thumbnail(crop_image(*pic, b.y0, b.x0, b.y1, b.x1), side);
  *name = picture_name(refs[0].image);
  return true;
}

void ReferenceService::want(int layer, int channel, const Network* net) {
  if (layer == want_layer_ && channel == want_channel_) return;
  want_layer_ = layer;
  want_channel_ = channel;
  rebuild(net);
}

const Image* ReferenceService::picture(uint32_t image) const { return fits() ? atlas_->image(image) : nullptr; }

std::string ReferenceService::picture_name(uint32_t image) const {
  return atlas_ && image < atlas_->names.size() ? atlas_->names[image] : std::to_string(image);
}

void ReferenceService::rebuild(const Network* net) {
  job_.reset();
  queue_.clear();
  next_ = 0;
  const long long version = view_.version + 1;
  view_ = ReferencesView{};
  view_.version = version;
  if (!fits() || !net || want_layer_ < 0 || want_layer_ >= net->size()) return;
  const AtlasLayer* l = atlas_->layer(net->layer(want_layer_).name);
  if (!l || want_channel_ < 0 || want_channel_ >= l->channels) return;
  view_.layer = want_layer_;
  view_.channel = want_channel_;
  for (int by = 0; by < 2; ++by) {
    const auto& refs = atlas_->refs(*l, want_channel_, static_cast<AtlasBy>(by));
    for (std::size_t k = 0; k < refs.size() && k < static_cast<std::size_t>(kShown); ++k) {
      const AtlasRef& r = refs[k];
      const Image* pic = atlas_->image(r.image);
      if (!pic) continue;
      ReferenceView v;
      v.image = r.image;
      v.name = picture_name(r.image);
      v.score = r.score;
      v.box = r.box;
      const auto m = masks_.find({want_layer_, want_channel_, r.image});
      if (m != masks_.end()) {
        v.crop = m->second;
        v.masked = true;
      } else {
        v.crop = crop_image(*pic, r.box.y0, r.box.x0, r.box.y1, r.box.x1);
      }
      view_.by[by].push_back(std::move(v));
    }
  }
  // the masks to compute: the two rankings' best first, taking turns; an image in both is computed once
  for (std::size_t k = 0; k < static_cast<std::size_t>(kShown); ++k)
    for (int by = 0; by < 2; ++by) {
      if (k >= view_.by[by].size()) continue;
      const ReferenceView& v = view_.by[by][k];
      ++view_.total;
      if (v.masked) {
        ++view_.done;
        continue;
      }
      if (std::none_of(queue_.begin(), queue_.end(), [&](const MaskTask& t) { return t.image == v.image; }))
        queue_.push_back({v.image, v.box});
    }
}

void ReferenceService::step(double budget_ms, double step_macs, const Workspace& ws) {
  if (!pending() || !ws.net || !fits()) return;
  Timer t;
  try {
    while (t.ms() < budget_ms) {
      if (!job_) {
        if (next_ >= queue_.size()) return;
        const MaskTask& task = queue_[next_++];
        Workspace w;
        w.net = ws.net;
        w.cache = ws.cache;
        job_image_ = task.image;
        job_ = std::make_unique<ReferenceMaskJob>(std::move(w), *atlas_->image(task.image), want_layer_, want_channel_,
                                                  atlas_->composite, task.box);
      }
      if (job_->step(step_macs) == Step::Done) {
        if (masks_.size() > 512) masks_.clear();
        masks_[{want_layer_, want_channel_, job_image_}] = job_->result();
        for (auto& list : view_.by)
          for (ReferenceView& v : list)
            if (v.image == job_image_ && !v.masked) {
              v.crop = job_->result();
              v.masked = true;
              ++view_.done;
            }
        ++view_.version;
        job_.reset();
      }
    }
  } catch (const std::exception&) {
    // (a reference that cannot be explained stays unmasked; the others go on)
    job_.reset();
  }
}

}  // namespace lrp::app
