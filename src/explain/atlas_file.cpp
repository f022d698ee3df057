// The atlas file (docs/atlas.md): "LRPATLAS", a version, a JSON header (readable with `head`), then one
// zlib-compressed body with the references and the referenced pictures. Every count and size is checked against
// the header and the bytes there are before anything is allocated, so a damaged or hostile file fails with a
// sentence, not a crash.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "explain/atlas.h"
#include "model/deflate.h"

namespace lrp {

namespace {

constexpr char kMagic[8] = {'L', 'R', 'P', 'A', 'T', 'L', 'A', 'S'};
constexpr std::size_t kMaxHeader = 64u << 20, kMaxBody = 1u << 30;

// FNV-1a, 64 bits: the inflated body's check (stb's inflate does not check zlib's own sum)
uint64_t fnv(const std::vector<uint8_t>& b) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct Out {
  std::vector<uint8_t> b;
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof v);
  }
};

struct In {
  const uint8_t* p;
  std::size_t n, at = 0;
  void need(std::size_t k, const char* what) const {
    if (k > n - at) throw Error(std::string("atlas: the file ends inside ") + what + " (damaged or cut short)");
  }
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p + at, sizeof v);
    at += sizeof v;
    return v;
  }
};

}  // namespace

std::vector<uint8_t> write_atlas(const Atlas& a) {
  nlohmann::ordered_json h;
  h["format"] = "lrpscope-atlas";
  h["version"] = Atlas::kVersion;
  h["model"] = {{"name", a.model_name}, {"fingerprint", a.fingerprint}, {"arch", a.arch}, {"input", a.input_shape},
                {"classes", a.classes}};
  h["set"] = {{"kind", a.set_kind}, {"source", a.set_source}, {"count", a.set_count}, {"names", a.names}};
  h["composite"] = a.composite;
  h["top"] = a.top;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const AtlasLayer& l : a.layers)
    layers.push_back({{"name", l.name}, {"nick", l.nick}, {"kind", l.conv ? "conv" : "linear"}, {"channels", l.channels}});
  h["layers"] = layers;
  h["images"] = a.images.size();
  if (a.resume_at >= 0) h["resume_at"] = a.resume_at;
  Out body;
  for (const AtlasLayer& l : a.layers)
    for (const auto* lists : {&l.by_activation, &l.by_relevance})
      for (const auto& refs : *lists) {
        body.put(static_cast<uint16_t>(refs.size()));
        for (const AtlasRef& r : refs) {
          body.put(r.image);
          body.put(r.score);
          body.put(static_cast<int16_t>(r.y));
          body.put(static_cast<int16_t>(r.x));
          for (int v : {r.box.y0, r.box.x0, r.box.y1, r.box.x1}) body.put(static_cast<uint16_t>(v));
        }
      }
  for (std::size_t i = 0; i < a.images.size(); ++i) {
    const Image& img = a.images[i];
    // one channel when the picture is grey (Fashion-MNIST): a third of the bytes
    bool grey = true;
    for (std::size_t p = 0; p + 2 < img.rgb.size() && grey; p += 3) grey = img.rgb[p] == img.rgb[p + 1] && img.rgb[p] == img.rgb[p + 2];
    body.put(a.image_index[i]);
    body.put(static_cast<uint16_t>(img.width));
    body.put(static_cast<uint16_t>(img.height));
    body.put(static_cast<uint8_t>(grey ? 1 : 3));
    if (grey)
      for (std::size_t p = 0; p < img.rgb.size(); p += 3) body.b.push_back(img.rgb[p]);
    else
      body.b.insert(body.b.end(), img.rgb.begin(), img.rgb.end());
  }
  // the concept maps (and a checkpoint's profiles): per layer, three float lists, each with its count
  for (const AtlasLayer& l : a.layers)
    for (const auto* v : {&l.map_activation, &l.map_relevance, &l.profiles}) {
      body.put(static_cast<uint32_t>(v->size()));
      for (float x : *v) body.put(x);
    }
  const std::string header = h.dump();
  const std::vector<uint8_t> z = deflate_bytes(body.b);
  Out f;
  f.b.insert(f.b.end(), kMagic, kMagic + 8);
  f.put(static_cast<uint32_t>(Atlas::kVersion));
  f.put(static_cast<uint32_t>(header.size()));
  f.b.insert(f.b.end(), header.begin(), header.end());
  f.put(static_cast<uint64_t>(body.b.size()));
  f.put(static_cast<uint64_t>(z.size()));
  f.put(fnv(body.b));
  f.b.insert(f.b.end(), z.begin(), z.end());
  return std::move(f.b);
}

Atlas read_atlas(const uint8_t* data, std::size_t size) {
  In f{data, size};
  f.need(8, "its signature");
  if (std::memcmp(data, kMagic, 8) != 0) throw Error("not an lrpscope atlas (it does not start with LRPATLAS)");
  f.at = 8;
  const uint32_t version = f.get<uint32_t>("its version");
  if (version != Atlas::kVersion)
    throw Error("atlas format version " + std::to_string(version) + "; this lrpscope reads version " +
                std::to_string(Atlas::kVersion));
  const uint32_t hlen = f.get<uint32_t>("its header's size");
  if (hlen > kMaxHeader) throw Error("atlas: a header of " + std::to_string(hlen >> 20) + " MB is not an atlas'");
  f.need(hlen, "its header");
  Atlas a;
  nlohmann::json h;
  std::size_t nimages = 0;
  try {
    h = nlohmann::json::parse(data + f.at, data + f.at + hlen);
    if (h.at("format") != "lrpscope-atlas") throw Error("atlas: the header is not an atlas'");
    const auto& m = h.at("model");
    a.model_name = m.at("name").get<std::string>();
    a.fingerprint = m.at("fingerprint").get<std::string>();
    a.arch = m.at("arch").get<std::string>();
    a.input_shape = m.at("input").get<std::vector<int>>();
    a.classes = m.at("classes").get<int>();
    const auto& s = h.at("set");
    a.set_kind = s.at("kind").get<std::string>();
    a.set_source = s.at("source").get<std::string>();
    a.set_count = s.at("count").get<int>();
    a.names = s.at("names").get<std::vector<std::string>>();
    a.composite = h.at("composite").get<std::string>();
    a.top = h.at("top").get<int>();
    for (const auto& l : h.at("layers")) {
      AtlasLayer al;
      al.name = l.at("name").get<std::string>();
      al.nick = l.at("nick").get<std::string>();
      al.conv = l.at("kind").get<std::string>() == "conv";
      al.channels = l.at("channels").get<int>();
      if (al.channels < 1 || al.channels > 1 << 20) throw Error("atlas: layer " + al.name + " has a bad channel count");
      a.layers.push_back(std::move(al));
    }
    nimages = h.at("images").get<std::size_t>();
    a.resume_at = h.contains("resume_at") ? h.at("resume_at").get<int>() : -1;
    if (a.input_shape.size() != 3 || a.top < 1 || a.top > 1000 || a.set_count < 0 || a.layers.size() > 4096 ||
        static_cast<int>(a.names.size()) != a.set_count || a.resume_at > a.set_count)
      throw Error("atlas: the header's sizes are not consistent");
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("atlas: a bad header (") + e.what() + ")");
  }
  f.at += hlen;
  const uint64_t raw = f.get<uint64_t>("its body's size"), zlen = f.get<uint64_t>("its body's size");
  const uint64_t check = f.get<uint64_t>("its body's check");
  if (raw > kMaxBody) throw Error("atlas: a body of " + std::to_string(raw >> 20) + " MB is more than the 1024 MB limit");
  f.need(static_cast<std::size_t>(zlen), "its body");
  if (raw > zlen * 1032 + 64)  // deflate cannot expand more than that: a small file never allocates much
    throw Error("atlas: its body claims to inflate to more than deflate can (damaged)");
  std::vector<uint8_t> body;
  try {
    body = inflate_bytes(data + f.at, static_cast<std::size_t>(zlen), static_cast<std::size_t>(raw));
  } catch (const Error& e) {
    throw Error(std::string("atlas: ") + e.what());
  }
  if (fnv(body) != check) throw Error("atlas: damaged (its body does not match its check)");
  In b{body.data(), body.size()};
  for (AtlasLayer& l : a.layers)
    for (auto* lists : {&l.by_activation, &l.by_relevance}) {
      lists->resize(static_cast<std::size_t>(l.channels));
      for (auto& refs : *lists) {
        const uint16_t n = b.get<uint16_t>("a reference list");
        if (n > a.top) throw Error("atlas: a channel of " + l.name + " has more references than the atlas' top");
        b.need(static_cast<std::size_t>(n) * 20, "a reference list");
        refs.resize(n);
        for (AtlasRef& r : refs) {
          r.image = b.get<uint32_t>("a reference");
          r.score = b.get<float>("a reference");
          r.y = b.get<int16_t>("a reference");
          r.x = b.get<int16_t>("a reference");
          r.box.y0 = b.get<uint16_t>("a reference");
          r.box.x0 = b.get<uint16_t>("a reference");
          r.box.y1 = b.get<uint16_t>("a reference");
          r.box.x1 = b.get<uint16_t>("a reference");
          if (static_cast<int>(r.image) >= a.set_count) throw Error("atlas: a reference names an image outside the set");
        }
      }
    }
  if (nimages > b.n) throw Error("atlas: more pictures than bytes");
  for (std::size_t i = 0; i < nimages; ++i) {
    const uint32_t index = b.get<uint32_t>("a picture");
    if (!a.image_index.empty() && index <= a.image_index.back()) throw Error("atlas: the pictures are not in order");
    Image img;
    img.width = b.get<uint16_t>("a picture");
    img.height = b.get<uint16_t>("a picture");
    const uint8_t c = b.get<uint8_t>("a picture");
    if ((c != 1 && c != 3) || img.width < 1 || img.height < 1) throw Error("atlas: a picture with a bad size");
    const std::size_t px = static_cast<std::size_t>(img.width) * img.height;
    b.need(px * c, "a picture");
    img.rgb.resize(px * 3);
    for (std::size_t p = 0; p < px; ++p)
      for (int k = 0; k < 3; ++k) img.rgb[p * 3 + k] = b.p[b.at + p * c + (c == 3 ? k : 0)];
    b.at += px * c;
    a.image_index.push_back(index);
    a.images.push_back(std::move(img));
  }
  for (AtlasLayer& l : a.layers)
    for (auto* v : {&l.map_activation, &l.map_relevance, &l.profiles}) {
      const uint32_t n = b.get<uint32_t>("a concept map");
      if (v != &l.profiles && n != 0 && n != 2u * static_cast<uint32_t>(l.channels))
        throw Error("atlas: the concept map of " + l.name + " has the wrong size");
      b.need(static_cast<std::size_t>(n) * 4, "a concept map");
      v->resize(n);
      if (n > 0) std::memcpy(v->data(), b.p + b.at, static_cast<std::size_t>(n) * 4);  // (an empty list has no data())
      b.at += static_cast<std::size_t>(n) * 4;
    }
  if (b.at != b.n) throw Error("atlas: bytes left after the concept maps (damaged)");
  if (a.resume_at >= 0) return a;  // a checkpoint has no pictures yet
  for (const AtlasLayer& l : a.layers)
    for (const auto* lists : {&l.by_activation, &l.by_relevance})
      for (const auto& refs : *lists)
        for (const AtlasRef& r : refs)
          if (!a.image(r.image)) throw Error("atlas: a reference's picture is missing");
  return a;
}

Atlas read_atlas_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the atlas '" + path + "'");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return read_atlas(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace lrp
