// lrpscope atlas: the reference atlas of a model over an image set (explain/atlas.h, docs/atlas.md), with progress,
// an ETA and a resumable checkpoint; lrpscope references: one channel's references from an atlas, as JSON or as a
// labelled grid of crops masked by their conditional heatmaps.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/error.h"
#include "engine/timer.h"
#include "explain/atlas.h"
#include "explain/atlas_view.h"
#include "explain/conditional.h"
#include "explain/heatmap.h"
#include "explain/workspace.h"
#include "model/atomic_file.h"
#include "model/idx_dataset.h"

namespace lrp::cli {

namespace {

// An image set: Fashion-MNIST's test images (in file order) or a folder's pictures (sorted file names).
struct ImageSet {
  std::string kind, source;
  std::vector<std::string> names;
  IdxImages idx;                    // fashion-mnist
  std::vector<std::string> files;   // images
  InvertMode invert = InvertMode::Auto;
  int count() const { return static_cast<int>(names.size()); }
  Image get(int i) const {
    return kind == "images" ? load_image(files[static_cast<std::size_t>(i)]) : idx_image(idx, i);
  }
};

ImageSet open_set(const Args& a) {
  ImageSet s;
  if (a.has("fashion-mnist") == a.has("images")) throw Error("atlas: give --fashion-mnist DIR or --images DIR");
  if (a.has("fashion-mnist")) {
    s.kind = "fashion-mnist";
    s.source = a.get("fashion-mnist");
    std::string file;
    for (const char* ext : {".gz", ""})
      if (file.empty() && std::filesystem::exists(s.source + "/t10k-images-idx3-ubyte" + ext)) file = s.source + "/t10k-images-idx3-ubyte" + ext;
    if (file.empty()) throw Error("no t10k-images-idx3-ubyte(.gz) in '" + s.source + "'");
    s.idx = parse_idx_images(read_maybe_gzip(file));
    s.invert = InvertMode::Off;  // the training pictures themselves
    for (int i = 0; i < s.idx.count; ++i) s.names.push_back("t10k:" + std::to_string(i));
  } else {
    s.kind = "images";
    s.source = a.get("images");
    std::error_code ec;
    if (!std::filesystem::is_directory(s.source, ec)) throw Error("--images: '" + s.source + "' is not a folder");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(s.source, ec))
      if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {  // pictures only (by their first bytes): a README or a thumbs.db is not one
      std::ifstream in(f, std::ios::binary);
      uint8_t head[64] = {};
      in.read(reinterpret_cast<char*>(head), sizeof head);
      if (!decodable(sniff_format(head, static_cast<std::size_t>(in.gcount())))) continue;
      s.files.push_back(f);
      s.names.push_back(std::filesystem::path(f).filename().string());
    }
    if (s.files.empty()) throw Error("--images: no pictures in '" + s.source + "'");
  }
  return s;
}

std::string eta(double seconds) {
  char buf[48];
  if (seconds < 90) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  return buf;
}

}  // namespace

int cmd_atlas(const Argv& argv) {
  Args a(argv, {"model", "fashion-mnist", "images", "out", "layers", "top", "composite", "limit", "threads", "stop-after"},
         {"json", "quiet"});
  apply_threads(a);
  auto net = load_model(a);
  const std::string out = a.require("out");
  ImageSet set = open_set(a);
  const int limit = std::min(set.count(), parse_int("limit", a.get("limit", "1000000000"), 1, 1000000000));
  AtlasOptions opt;
  opt.top = parse_int("top", a.get("top", "16"), 1, 1000);
  const std::string layers = a.get("layers", "all");
  if (layers == "conv") {
    for (int i : default_atlas_layers(*net))
      if (net->layer(i).kind == LayerKind::Conv) opt.layers.push_back(i);
  } else if (layers != "all") {
    std::size_t p = 0;
    while (p <= layers.size()) {
      std::size_t c = layers.find(',', p);
      if (c == std::string::npos) c = layers.size();
      if (c > p) opt.layers.push_back(net->require_layer(layers.substr(p, c - p)));
      p = c + 1;
    }
  }
  const std::string composite_name = a.get("composite", "epsilon-plus-flat");
  const Composite composite = Composite::preset(composite_name, *net);
  Workspace ws;
  ws.set_model(net, true);
  AtlasBuilder builder(*net, opt);
  // the header of the atlas and of its checkpoints
  auto describe = [&](Atlas& at) {
    at.model_name = std::filesystem::path(a.get("model")).filename().string();
    at.fingerprint = model_fingerprint(*net);
    at.arch = net->spec().arch_name();
    at.input_shape = net->input_shape();
    at.classes = net->num_classes();
    at.set_kind = set.kind;
    at.set_source = std::filesystem::path(set.source).filename().string();
    at.set_count = limit;
    at.names.assign(set.names.begin(), set.names.begin() + limit);
    at.composite = composite_name;
  };
  auto save = [](const std::string& path, const Atlas& at) {
    const std::vector<uint8_t> bytes = write_atlas(at);
    AtomicFile f(path, true);
    f.out().write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.commit();
    return bytes.size();
  };
  // an interrupted build of the same atlas goes on where it stopped (its checkpoint: ATLAS.partial)
  const std::string partial = out + ".partial";
  int start = 0;
  if (std::filesystem::exists(partial)) {
    std::string why;
    try {
      const Atlas cp = read_atlas_file(partial);
      Atlas now;
      describe(now);
      if (cp.resume_at < 0 || cp.fingerprint != now.fingerprint || cp.set_kind != now.set_kind ||
          cp.set_source != now.set_source || cp.set_count != limit || cp.composite != composite_name || cp.names != now.names)
        why = "it was made with other options";
      else
        builder.resume(cp);  // (throws when the layers or the top differ)
      if (why.empty()) start = cp.resume_at;
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (!a.flag("quiet") && why.empty()) std::fprintf(stderr, "atlas: going on from image %d (%s)\n", start, partial.c_str());
    if (!a.flag("quiet") && !why.empty()) std::fprintf(stderr, "atlas: not going on from %s: %s\n", partial.c_str(), why.c_str());
    if (!why.empty()) builder = AtlasBuilder(*net, opt);
  }
  const int stop_after = a.has("stop-after") ? parse_int("stop-after", a.get("stop-after"), 1, 1000000000) : -1;
  Timer total;
  auto last = std::chrono::steady_clock::now(), saved = last;
  for (int i = start; i < limit; ++i) {
    try {
      ws.set_image(set.get(i), set.invert);
    } catch (const std::exception& e) {
      throw Error(set.names[static_cast<std::size_t>(i)] + ": " + e.what());
    }
    ws.start_forward()->run();
    auto ex = ws.explanation(composite, ExplainOptions{});
    ex->run();
    builder.add(static_cast<uint32_t>(i), *ws.fwd, *ex);
    const auto now = std::chrono::steady_clock::now();
    const bool stop = i + 1 - start == stop_after;
    if ((now - saved > std::chrono::seconds(60) || stop) && i + 1 < limit) {  // a checkpoint a minute
      saved = now;
      Atlas cp = builder.finish(nullptr);
      describe(cp);
      cp.resume_at = i + 1;
      save(partial, cp);
    }
    if (stop && i + 1 < limit) {
      if (!a.flag("quiet")) std::fprintf(stderr, "\natlas: stopped after %d images (--stop-after); %s holds them\n", stop_after, partial.c_str());
      return 3;
    }
    if (!a.flag("quiet") && (now - last > std::chrono::seconds(2) || i + 1 == limit)) {
      last = now;
      const double rate = (i + 1 - start) / (total.ms() / 1000.0);
      std::fprintf(stderr, "\ratlas: %d of %d images, %.1f images/s, %s left   ", i + 1, limit, rate,
                   eta((limit - i - 1) / rate).c_str());
      std::fflush(stderr);
    }
  }
  if (!a.flag("quiet")) std::fprintf(stderr, "\n");
  const double build_s = total.ms() / 1000.0;
  const int looked_at = limit - start;
  Atlas atlas = builder.finish([&](uint32_t i) {
    ws.set_image(set.get(static_cast<int>(i)), set.invert);
    return ws.pre.view;
  });
  describe(atlas);
  const std::size_t size = save(out, atlas);
  std::error_code ec;
  std::filesystem::remove(partial, ec);
  int channels = 0;
  for (const AtlasLayer& l : atlas.layers) channels += l.channels;
  if (a.flag("json")) {
    nlohmann::ordered_json j;
    j["atlas"] = out;
    j["images"] = limit;
    j["layers"] = atlas.layers.size();
    j["channels"] = channels;
    j["top"] = atlas.top;
    j["referenced_images"] = atlas.images.size();
    j["bytes"] = size;
    j["resumed_at"] = start;
    j["seconds"] = build_s;
    j["images_per_second"] = looked_at / build_s;
    j["fingerprint"] = atlas.fingerprint;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("atlas %s: %d images, %zu layers, %d channels, top %d, %zu pictures kept, %.1f MB; %.1f s (%.1f images/s)\n",
                out.c_str(), limit, atlas.layers.size(), channels, atlas.top, atlas.images.size(), size / 1e6,
                build_s, looked_at / build_s);
  }
  return 0;
}

int cmd_references(const Argv& argv) {
  Args a(argv, {"atlas", "layer", "channel", "by", "out", "model"}, {"json"});
  const std::string path = a.require("atlas");
  const Atlas atlas = read_atlas_file(path);
  const std::string lname = a.require("layer");
  const AtlasLayer* l = atlas.layer(lname);
  if (!l) {
    std::string names;
    for (const AtlasLayer& x : atlas.layers) names += (names.empty() ? "" : ", ") + x.nick;
    throw Error("the atlas has no layer '" + lname + "' (it has " + names + ")");
  }
  const int channel = parse_int("channel", a.require("channel"), 0, l->channels - 1);
  const std::string by_name = a.get("by", "activation");
  if (by_name != "activation" && by_name != "relevance") throw Error("--by must be activation or relevance");
  const AtlasBy by = by_name == "activation" ? AtlasBy::Activation : AtlasBy::Relevance;
  const auto& refs = atlas.refs(*l, channel, by);
  if (a.has("out")) {
    // the grid: each reference's receptive field, masked by its conditional heatmap when the model is given
    std::shared_ptr<Network> net;
    if (a.has("model")) {
      net = load_model(a);
      if (const std::string why = atlas_mismatch(atlas, *net); !why.empty()) throw Error(why);
    }
    save_png(a.get("out"), reference_grid(atlas, *l, channel, by, net));
  }
  nlohmann::ordered_json j;
  j["layer"] = l->name;
  j["channel"] = channel;
  j["by"] = by_name;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const AtlasRef& r : refs)
    list.push_back({{"image", r.image}, {"name", atlas.names[r.image]}, {"score", r.score},
                    {"box", {r.box.y0, r.box.x0, r.box.y1, r.box.x1}}});
  j["references"] = list;
  if (!l->map_activation.empty())  // the channel's place on the concept maps
    j["map"] = {{"activation", {l->map_activation[channel * 2], l->map_activation[channel * 2 + 1]}},
                {"relevance", {l->map_relevance[channel * 2], l->map_relevance[channel * 2 + 1]}}};
  if (a.flag("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s (%s) channel %d, by %s:\n", l->nick.c_str(), l->name.c_str(), channel, by_name.c_str());
    for (const AtlasRef& r : refs)
      std::printf("  %-16s score %.4g  box rows %d-%d, columns %d-%d\n", atlas.names[r.image].c_str(), r.score, r.box.y0,
                  r.box.y1 - 1, r.box.x0, r.box.x1 - 1);
  }
  return 0;
}

}  // namespace lrp::cli
