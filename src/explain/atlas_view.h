// Pictures of an atlas' references: each reference cropped to its receptive field and masked by the channel's
// conditional heatmap for that image (places that did not carry the channel's relevance are dimmed), and a labelled
// grid of a channel's references (lrpscope references --out).
#pragma once

#include <memory>
#include <vector>

#include "engine/job.h"
#include "explain/atlas.h"
#include "explain/workspace.h"

namespace lrp {

class Explanation;
class Network;
class PropagateJob;

// One reference's masked crop as a Job (engine/job.h): the forward pass on the view, the explanation of its
// predicted class with `composite`, the channel's restricted LRP, then masked_reference. `ws` brings the model and
// its weight cache (shared with whoever else explains with it; its picture and forward pass are replaced).
class ReferenceMaskJob : public Job {
 public:
  ReferenceMaskJob(Workspace ws, const Image& view, int layer, int channel, const std::string& composite, const Box& box);
  ~ReferenceMaskJob() override;
  Step step(double budget_macs) override;
  bool done() const override { return phase_ == 3; }
  double progress() const override;
  const std::vector<float>& heatmap() const { return heat_; }  // H*W, when done
  const Image& result() const { return masked_; }             // the masked crop, when done

 private:
  Workspace ws_;
  int layer_, channel_;
  std::string composite_;
  Box box_;
  int phase_ = 0;  // 0 forward, 1 explanation, 2 restricted LRP, 3 done
  std::shared_ptr<Explanation> ex_;
  std::unique_ptr<PropagateJob> prop_;
  std::vector<float> heat_;
  Image masked_;
};

// The channel's conditional heatmap for one picture (as the model sees it): the relevance that reaches the input
// through that channel alone, in the explanation of the picture's own predicted class with `composite`, summed
// over colour channels (H*W).
std::vector<float> reference_heatmap(std::shared_ptr<Network> net, const Image& view, int layer, int channel,
                                     const std::string& composite);
// The view cropped to `box`, each pixel dimmed by how little of the heatmap's positive relevance it holds.
Image masked_reference(const Image& view, const std::vector<float>& heat, const Box& box);
// A channel's references as a grid: each crop (masked by its conditional heatmap with `net`; as the atlas holds it
// without) enlarged to `cell` pixels, its image name and score under it.
Image reference_grid(const Atlas& atlas, const AtlasLayer& layer, int channel, AtlasBy by, std::shared_ptr<Network> net,
                     int cell = 96);

// Text drawn into a picture with stb_easy_font (a small built-in font: no font file needed), `scale` pixels a dot.
void draw_label(Image& img, int x, int y, const std::string& text, const uint8_t rgb[3], int scale = 1);

}  // namespace lrp
