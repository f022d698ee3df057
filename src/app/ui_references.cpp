// The Neuron tab's references: the atlas pictures on which the selected channel fires hardest and those for which
// it mattered most, each cropped to its receptive field and masked by the channel's conditional heatmap there
// (computed in the engine, one at a time; a crop shows unmasked until its mask arrives). A click opens the picture.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/ui.h"

namespace lrp::app {

void Ui::references_section(int layer, int index) {
  const AtlasInfo* atlas = s_->atlas.get();
  ImGui::Spacing();
  ImGui::Text("What this channel sees");
  help_text("references",
            "Pictures from the atlas' image set (made with lrpscope atlas) for this channel: the top row are those on "
            "which it fires hardest (its largest activation), the bottom row those for which it mattered most to the "
            "network's decision (its relevance for each picture's own predicted class). Each is cut to the part of "
            "the picture the channel can see and dimmed where the channel's relevance did not flow. Click one to "
            "open that picture.");
  if (!atlas) {
    ImGui::TextDisabled("no reference atlas for this model (make one with lrpscope atlas; open it with --atlas)");
    return;
  }
  if (!atlas->mismatch.empty()) {
    text_wrapped("The atlas %s does not fit this model: %s", atlas->source.c_str(), atlas->mismatch.c_str());
    return;
  }
  refs_req_ = {layer, index};
  const ReferencesView* r = s_->references.get();
  if (!r || r->layer != layer || r->channel != index) {
    ImGui::TextDisabled(r ? "finding the references..." : "the atlas has no references for this layer");
    return;
  }
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float tile = std::floor(std::min(72.0f * scale_, (ImGui::GetContentRegionAvail().x - 8 * gap) / 8.0f));
  const char* rows[2] = {"fires hardest", "mattered most"};
  const char* keys[2] = {"activation", "relevance"};
  for (int by = 0; by < 2; ++by) {
    ImGui::TextDisabled("%s (by %s)", rows[by], keys[by]);
    if (r->by[by].empty()) ImGui::TextDisabled("none");
    for (std::size_t k = 0; k < r->by[by].size(); ++k) {
      const ReferenceView& v = r->by[by][k];
      const std::string key = std::string("refs:") + keys[by] + ":" + std::to_string(k);
      if (k > 0) ImGui::SameLine();
      const Texture& t = cached_rgb(key, v.crop, r->version);
      ImGui::PushID(key.c_str());
      const bool clicked = ImGui::ImageButton(t.imgui_id(), fit(t.width(), t.height(), tile, tile), ImVec2(0, 0),
                                              ImVec2(1, 1), 0);
      ImGui::PopID();
      mark(key);
      tip(key.c_str(), "%s: %s %.3g%s. Click to open this picture.", v.name.c_str(), keys[by], v.score,
          v.masked ? "" : " (its mask is still being computed)");
      if (clicked) {
        const int image = static_cast<int>(v.image);
        post([this, image] { e_->open_reference(image); });
      }
    }
  }
  if (r->done < r->total) ImGui::TextDisabled("masking by the conditional heatmaps: %d of %d", r->done, r->total);
  else ImGui::TextDisabled("from %d pictures of %s; masks with %s", atlas->set_count, atlas->set_kind.c_str(), atlas->composite.c_str());
}

}  // namespace lrp::app
