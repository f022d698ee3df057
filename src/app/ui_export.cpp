// Export: one figure for slides and papers — the picture, its heatmap with the colour bar and the class, the
// explanation in words, the neuron graph with its labels and legend — drawn off-screen at twice the size of the
// screen's points (PNG), with the graph as SVG, the view as JSON (its link, and where each part of the figure is)
// and the rules as a rules file. The page downloads them as one zip; the desktop writes one folder.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include "app/ui.h"
#include <imgui_impl_opengl3.h>
#include "explain/graph_layout.h"
#include "model/atomic_file.h"
#include "model/forward.h"
#include "model/network.h"

namespace lrp::app {

namespace {
constexpr float kFigurePx = 2.0f;  // pixels per point in the figure
}

// The figure's parts in pixels, reported in the exported state so that a reader (or a test) can crop them.
Image Ui::figure_image(nlohmann::ordered_json* parts) {
  const ExplanationView* ex = s_->explanation.get();
  auto net = s_->network();
  ImGuiIO& io = ImGui::GetIO();
  ImFont* font = io.Fonts->Fonts.Size > 1 ? io.Fonts->Fonts[1] : io.Fonts->Fonts[0];
  const float px = kFigurePx, fs = 15 * px, small = 12 * px;
  const bool graph = s_->neuron_graph() != nullptr;
  const int W = static_cast<int>((graph ? 1000 : 480) * px), H = static_cast<int>(600 * px);
  const float pad = 12 * px, tile = 220 * px;
  // what is drawn (textures first: they render with GL before the figure's own pass)
  const Image& view = s_->pic().view;
  const Texture* pic = view.width > 0 ? &cached_rgb("figure:picture", view, version(Session::Result::Picture)) : nullptr;
  const Texture* heat = ex ? &heat_view(6, ex->input_relevance, version(Session::Result::Explanation), static_cast<int>(tile), 0) : nullptr;
  const float vmax = heat_slots_.count(6) ? heat_slots_[6].vmax : 0.0f;
  const std::string cls = explained_class();
  if (graph)
    for (std::size_t i = 0; i < s_->neuron_graph()->nodes.size(); ++i) node_texture(i);
  const Texture& bar = lut(view_.cmap);

  ImDrawList dl(ImGui::GetDrawListSharedData());
  dl._ResetForNewFrame();
  dl.PushTextureID(io.Fonts->TexID);
  dl.PushClipRect(ImVec2(0, 0), ImVec2(static_cast<float>(W), static_cast<float>(H)));
  const ImU32 text = IM_COL32(230, 234, 242, 255), dim = IM_COL32(165, 172, 185, 255);
  auto box = [&](const char* name, float x, float y, float w, float h) {
    if (parts) (*parts)[name] = {std::lround(x), std::lround(y), std::lround(x + w), std::lround(y + h)};  // x0 y0 x1 y1
  };
  // the title: the class, its probability, the model, the rules, the picture
  std::string title = cls;
  if (s_->logits && ex && ex->target_class >= 0) {
    const std::vector<float> p = softmax(*s_->logits);
    char buf[96];
    if (static_cast<std::size_t>(ex->target_class) < p.size())
      std::snprintf(buf, sizeof buf, "  %.1f %% (logit %.3g)", 100.0 * p[static_cast<std::size_t>(ex->target_class)], ex->target_logit);
    title += buf;
  }
  title += "   " + s_->model_name() + " / " + settings_.preset + " / " + s_->image_name();
  dl.AddText(font, fs * 1.15f, ImVec2(pad, pad), text, title.c_str());
  float y = pad + fs * 1.15f + pad;
  // the picture and its heatmap, side by side, the colour bar under them
  // (the model's aspect ratio kept, centred in square tiles)
  const ImVec2 fitted = view.width > 0 ? fit(view.width, view.height, tile, tile) : ImVec2(tile, tile);
  const float ox = std::floor((tile - fitted.x) / 2), oy = std::floor((tile - fitted.y) / 2);
  if (pic) {
    dl.AddImage(pic->imgui_id(), ImVec2(pad + ox, y + oy), ImVec2(pad + ox + fitted.x, y + oy + fitted.y));
    box("picture", pad + ox, y + oy, fitted.x, fitted.y);
    dl.AddText(font, small, ImVec2(pad, y + tile + 2 * px), dim, "what the network sees");
  }
  if (heat) {
    const float x = pad * 2 + tile;
    dl.AddImage(heat->imgui_id(), ImVec2(x + ox, y + oy), ImVec2(x + ox + fitted.x, y + oy + fitted.y));
    box("heatmap", x + ox, y + oy, fitted.x, fitted.y);
    dl.AddText(font, small, ImVec2(x, y + tile + 2 * px), dim, view_.mode == ViewMode::Overlay ? "relevance over the picture" : "relevance");
  }
  y += tile + small + 8 * px;
  if (heat) {
    const float bw = tile * 2 + pad, bh = 10 * px;
    dl.AddImage(bar.imgui_id(), ImVec2(pad, y), ImVec2(pad + bw, y + bh));
    box("colour_bar", pad, y, bw, bh);
    char lo[32], hi[32];
    std::snprintf(lo, sizeof lo, "%+.3g", -vmax);
    std::snprintf(hi, sizeof hi, "%+.3g", vmax);
    dl.AddText(font, small, ImVec2(pad, y + bh + 2 * px), text, lo);
    dl.AddText(font, small, ImVec2(pad + bw / 2 - font->CalcTextSizeA(small, 1e9f, 0, "0").x / 2, y + bh + 2 * px), text, "0");
    dl.AddText(font, small, ImVec2(pad + bw - font->CalcTextSizeA(small, 1e9f, 0, hi).x, y + bh + 2 * px), text, hi);
    y += bh + small + 6 * px;
    char legend[400];
    std::snprintf(legend, sizeof legend,
                  "Red: evidence for %s, blue: against. Relevance per pixel in logit units; full colour at +-%.3g "
                  "(the %.1f th percentile of |relevance|).",
                  cls.c_str(), vmax, view_.percentile);
    dl.AddText(font, small, ImVec2(pad, y), text, legend, nullptr, tile * 2 + pad);
    y += font->CalcTextSizeA(small, 1e9f, tile * 2 + pad, legend).y + 8 * px;
  }
  if (ex && !ex->summary.empty()) {
    dl.AddText(font, small, ImVec2(pad, y), dim, ex->summary.c_str(), nullptr, tile * 2 + pad);
    box("summary", pad, y, tile * 2 + pad, font->CalcTextSizeA(small, 1e9f, tile * 2 + pad, ex->summary.c_str()).y);
  }
  // the graph on the right, the path in words under it
  if (graph && net) {
    const std::string words = path_description();
    const float gx = pad * 3 + tile * 2, gw = static_cast<float>(W) - gx - pad;
    const float wh = font->CalcTextSizeA(small, 1e9f, gw, words.c_str()).y;
    const float gy = pad + fs * 1.15f + pad, gh = static_cast<float>(H) - gy - wh - pad * 2;
    dl.AddRectFilled(ImVec2(gx, gy), ImVec2(gx + gw, gy + gh), IM_COL32(31, 34, 41, 255));
    GraphPaint gp;
    gp.p0 = ImVec2(gx, gy);
    gp.size = ImVec2(gw, gh);
    gp.px = px;
    gp.font = font;
    gp.font_size = small;
    gp.min_edge = graph_min_edge_;
    draw_graph(&dl, gp);
    box("graph", gx, gy, gw, gh);
    dl.AddText(font, small, ImVec2(gx, gy + gh + pad / 2), text, words.c_str(), nullptr, gw);
  }
  dl.PopClipRect();
  const float bg[4] = {0.09f, 0.10f, 0.12f, 1.0f};
  return draw_offscreen(W, H, bg, [&] {
    ImDrawList* lists[] = {&dl};
    ImDrawData dd;
    dd.Valid = true;
    dd.CmdLists = lists;
    dd.CmdListsCount = 1;
    dd.TotalVtxCount = dl.VtxBuffer.Size;
    dd.TotalIdxCount = dl.IdxBuffer.Size;
    dd.DisplayPos = ImVec2(0, 0);
    dd.DisplaySize = ImVec2(static_cast<float>(W), static_cast<float>(H));
    dd.FramebufferScale = ImVec2(1, 1);
    ImGui_ImplOpenGL3_RenderDrawData(&dd);
  });
}

std::vector<std::string> Ui::export_figure(const std::string& dir) {
  std::vector<std::string> files;
  refresh();
  const auto hold = snap_;  // the snapshot read below stays alive while state_json() refreshes
  auto net = s_->network();
  try {
    std::filesystem::create_directories(dir);
    nlohmann::ordered_json parts = nlohmann::ordered_json::object();
    const Image fig = figure_image(&parts);
    if (fig.width > 0) {
      save_png(dir + "/figure.png", fig);
      files.push_back(dir + "/figure.png");
    }
    if (const NeuronGraph* g = s_->neuron_graph(); g && net) {
      SvgOptions so;
      so.title = "Neuron graph for " + explained_class() + " (" + settings_.preset + ", " + s_->model_name() + ")";
      so.min_edge = graph_min_edge_;
      AtomicFile f(dir + "/graph.svg", false);
      f.out() << graph_svg(*g, *net, so);
      f.commit();
      files.push_back(dir + "/graph.svg");
      AtomicFile j(dir + "/graph.json", false);
      j.out() << graph_json(*g, *net) << "\n";
      j.commit();
      files.push_back(dir + "/graph.json");
    }
    if (!save_rules(dir + "/rules.json").empty()) files.push_back(dir + "/rules.json");
    nlohmann::ordered_json st;
    const AppState as = current_state();
    st["link"] = as.to_query();
    st["state"] = nlohmann::ordered_json::parse(as.to_json());
    st["figure"] = {{"width", fig.width}, {"height", fig.height}, {"pixels_per_point", kFigurePx}, {"parts", parts}};
    if (const ExplanationView* ex = s_->explanation.get()) st["summary"] = ex->summary;
    if (s_->neuron_graph()) st["path"] = path_description();
    AtomicFile f(dir + "/state.json", false);
    f.out() << st.dump(1) << "\n";
    f.commit();
    files.push_back(dir + "/state.json");
  } catch (const std::exception& e) {
    files.push_back(std::string("error: ") + e.what());
  }
  return files;
}

std::string Ui::export_now(const std::string& dir) {
  std::string out = download_zip_cb_ ? "/tmp/lrpscope-figure" : dir + "/lrpscope-figure";
  if (!download_zip_cb_)
    for (int n = 2; std::filesystem::exists(out); ++n) out = dir + "/lrpscope-figure-" + std::to_string(n);
  const auto files = export_figure(out);
  if (!files.empty() && files.back().rfind("error: ", 0) == 0) {
    e_->report_error("could not export the figure: " + files.back().substr(7));
    return "";
  }
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : "\n") + f;
  if (download_zip_cb_) {
    download_zip_cb_("lrpscope-figure.zip", list.c_str());
    last_export_ = "lrpscope-figure.zip";
  } else {
    last_export_ = out + "/ (" + std::to_string(files.size()) + " files)";
  }
  return out;
}

}  // namespace lrp::app
