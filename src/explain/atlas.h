// The reference atlas (docs/atlas.md): for every channel of a model's chosen layers, the images of a set on which
// it fires hardest (by activation: its largest output after its ReLU) and those for which it mattered most to the
// decision (by relevance: its summed relevance in the explanation of the image's own predicted class) — the
// ActMax / RelMax reference samples of concept relevance propagation (Achtibat et al. 2023), DeepVis' top images.
// With each reference: the position of the channel's maximum and its receptive field in the model's input. The
// atlas carries the referenced images themselves (as the model sees them) and the model's fingerprint, so it is one
// self-contained file that a mismatched model refuses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "explain/deconv.h"
#include "model/image.h"

namespace lrp {

class Explanation;
class ForwardPass;
class Network;

struct AtlasRef {
  uint32_t image = 0;  // its index in the set
  float score = 0;
  int y = -1, x = -1;  // the maximum's position in the channel's map (-1: a fully connected unit)
  Box box;             // its receptive field in the model's input (a unit of a fully connected layer: all of it)
};

struct AtlasLayer {
  std::string name, nick;  // "features.28", "conv5_3"
  bool conv = true;        // else fully connected
  int channels = 0;
  // per channel, best first (at most the atlas' top)
  std::vector<std::vector<AtlasRef>> by_activation, by_relevance;
  // the concept map: each channel's place (x, y) by the PCA of its scores over the first images (concept_map.h);
  // empty when not made
  std::vector<float> map_activation, map_relevance;
  // a checkpoint's profiles so far (channels x profile images, by activation then by relevance); empty otherwise
  std::vector<float> profiles;
};

enum class AtlasBy { Activation, Relevance };
const char* atlas_by_name(AtlasBy by);  // "activation", "relevance"

struct Atlas {
  static constexpr int kVersion = 1;
  std::string model_name, fingerprint, arch;
  std::vector<int> input_shape;  // C,H,W
  int classes = 0;
  std::string set_kind, set_source;  // "fashion-mnist" | "images", the folder
  int set_count = 0;                 // images in the set (those looked at)
  std::vector<std::string> names;    // each image's name in the set (by index)
  std::string composite;
  int top = 0;
  std::vector<AtlasLayer> layers;
  std::vector<uint32_t> image_index;  // the referenced images (sorted), with their pictures as the model sees them
  std::vector<Image> images;
  // A checkpoint of an interrupted build (no pictures yet): the next image to look at; -1 in a finished atlas.
  int resume_at = -1;

  const AtlasLayer* layer(const std::string& name_or_nick) const;
  const std::vector<AtlasRef>& refs(const AtlasLayer& l, int channel, AtlasBy by) const;
  const Image* image(uint32_t index) const;  // null when the atlas does not hold it
};

// A short text that changes when the model's architecture or weights do (and not between its float32, F16 and
// BF16 copies): the architecture, the shapes and a sample of every layer's weights rounded to 8 significant bits.
std::string model_fingerprint(const Network& net);

// Why an atlas does not fit a model ("" when it does).
std::string atlas_mismatch(const Atlas& a, const Network& net);

// The file: bytes, and back (throws Error naming what is wrong).
std::vector<uint8_t> write_atlas(const Atlas& a);
Atlas read_atlas(const uint8_t* data, std::size_t size);
// An atlas file (throws Error starting with the path: cannot open it, or what read_atlas found).
Atlas read_atlas_file(const std::string& path);

struct AtlasOptions {
  std::vector<int> layers;  // network layer indices (convolutions, fully connected); empty: every conv and fc6/fc7
  int top = 16;
  int profile_images = 2000;  // the concept map's images: the first ones of the set (0: no map)
};

// The default layers: every convolution and every fully connected layer but the output.
std::vector<int> default_atlas_layers(const Network& net);

// Collects the references image by image: add() each image's forward pass and its explanation (of its predicted
// class, every layer's relevance kept), then finish() with the pictures of the images that stayed in some top list.
class AtlasBuilder {
 public:
  AtlasBuilder(const Network& net, const AtlasOptions& opt);
  void add(uint32_t image, const ForwardPass& fwd, const Explanation& ex);
  // The atlas (its header fields still to fill by the caller), asking view_of for each referenced image (none:
  // a checkpoint without pictures).
  Atlas finish(const std::function<Image(uint32_t)>& view_of) const;
  // Continues from a checkpoint's references (made with the same layers and top).
  void resume(const Atlas& checkpoint);
  int images_added() const { return added_; }

 private:
  const Network* net_;
  AtlasOptions opt_;
  std::vector<int> layers_;
  // per layer, per channel: a min-heap of the best `top` (worst at the front), by activation and by relevance
  std::vector<std::vector<std::vector<AtlasRef>>> act_, rel_;
  // per layer: the scores of the first profile_images images, channel-major (activation, relevance)
  std::vector<std::vector<float>> act_prof_, rel_prof_;
  int added_ = 0;
};

}  // namespace lrp
