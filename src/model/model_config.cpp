#include "model/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"
#include "model/json_bounded.h"

namespace lrp {

using nlohmann::json;

ModelConfig ModelConfig::imagenet() { return ModelConfig{}; }

const char* color_name(ColorOrder c) {
  switch (c) {
    case ColorOrder::RGB: return "rgb";
    case ColorOrder::BGR: return "bgr";
    default: return "gray";
  }
}

const char* resize_name(ResizeMode m) {
  switch (m) {
    case ResizeMode::ShorterCrop: return "shorter-crop";
    case ResizeMode::Stretch: return "resize";
    default: return "fit";
  }
}

float ModelConfig::normalise(int c, float v) const {
  const float m = mean.empty() ? 0.0f : mean[static_cast<std::size_t>(c) % mean.size()];
  const float s = stdev.empty() ? 1.0f : stdev[static_cast<std::size_t>(c) % stdev.size()];
  return (v - m) / s;
}

// An integer field in [lo, hi]; a float, a huge number or text is an error naming the field (never converted).
static int read_int(const json& j, const char* key, int fallback, long long lo, long long hi, const char* where = "") {
  if (!j.contains(key)) return fallback;
  const json& v = j.at(key);
  const std::string name = std::string(where) + key;
  if (!v.is_number_integer())
    throw Error("model config: '" + name + "' must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  const long long x = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi)
                          ? hi + 1 : v.get<long long>();
  if (x < lo || x > hi)
    throw Error("model config: '" + name + "' is " + v.dump() + ", must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(x);
}

// A number from the config: finite and within [lo, hi] in magnitude rules below (no float->int conversions).
static float read_float(const json& v, const std::string& name) {
  if (!v.is_number()) throw Error("model config: '" + name + "' must hold numbers");
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e30) throw Error("model config: '" + name + "' is not a usable number");
  return static_cast<float>(d);
}

static std::vector<float> read_floats(const json& j, const char* key) {
  std::vector<float> out;
  const json& v = j.at(key);
  if (v.is_number()) return {read_float(v, key)};
  if (!v.is_array()) throw Error(std::string("model config: '") + key + "' must be a number or a list");
  if (v.size() > 4) throw Error(std::string("model config: '") + key + "' has more values than channels");
  for (const auto& x : v) out.push_back(read_float(x, key));
  return out;
}

ModelConfig ModelConfig::from_json(const std::string& text) {
  ModelConfig c;
  c.from_metadata = true;
  const json j = parse_json_bounded(text, "model config (lrpscope.config)");
  if (!j.is_object()) throw Error("model config (lrpscope.config) is not a JSON object");
  try {
    if (j.contains("name")) c.name = j.at("name").get<std::string>();
    if (j.contains("input")) {
      const json& in = j.at("input");
      if (!in.is_object()) throw Error("model config: 'input' must be an object {channels, height, width}");
      c.channels = read_int(in, "channels", c.channels, 1, 3, "input.");
      c.height = read_int(in, "height", c.height, 8, 4096, "input.");
      c.width = read_int(in, "width", c.width, 8, 4096, "input.");
    }
    if (j.contains("mean")) c.mean = read_floats(j, "mean");
    if (j.contains("std")) c.stdev = read_floats(j, "std");
    if (j.contains("scale")) c.scale = read_float(j.at("scale"), "scale");
    if (j.contains("color")) {
      const std::string s = j.at("color").get<std::string>();
      if (s == "rgb") c.color = ColorOrder::RGB;
      else if (s == "bgr") c.color = ColorOrder::BGR;
      else if (s == "gray" || s == "grey") c.color = ColorOrder::Gray;
      else throw Error("model config: unknown colour order '" + s + "' (rgb, bgr or gray)");
    }
    if (j.contains("resize")) {
      const std::string s = j.at("resize").get<std::string>();
      if (s == "shorter-crop") c.resize = ResizeMode::ShorterCrop;
      else if (s == "resize" || s == "stretch") c.resize = ResizeMode::Stretch;
      else if (s == "fit") c.resize = ResizeMode::Fit;
      else throw Error("model config: unknown resize mode '" + s + "' (shorter-crop, resize or fit)");
    }
    c.resize_shorter = read_int(j, "resize_shorter", c.resize_shorter, 8, 8192);
    c.content_size = read_int(j, "content_size", c.content_size, 0, 4096);
    if (j.contains("background")) c.dark_background = j.at("background").get<std::string>() == "dark";
    c.note = j.value("note", std::string());
    if (j.contains("labels")) {
      c.labels = j.at("labels").get<std::vector<std::string>>();
      if (c.labels.size() > 100000) throw Error("model config: more than 100000 labels");
      // labels are shown and printed: control characters (terminal escape sequences) become '?', length is bounded
      for (auto& l : c.labels) {
        if (l.size() > 200) l = l.substr(0, 200);
        for (auto& ch : l)
          if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string("model config (lrpscope.config) has a field of the wrong type: ") + e.what());
  }
  if (j.contains("color") || !j.contains("input") || !j.at("input").contains("channels")) {
    if (c.color == ColorOrder::Gray && !(j.contains("input") && j.at("input").contains("channels"))) c.channels = 1;
  }
  require(c.channels == 1 || c.channels == 3, "model config: input channels must be 1 or 3");
  require(c.height >= 8 && c.width >= 8 && c.height <= 4096 && c.width <= 4096,
          "model config: input size must be between 8 and 4096 pixels");
  require((c.color == ColorOrder::Gray) == (c.channels == 1), "model config: colour order and channels disagree");
  require(!c.mean.empty() && !c.stdev.empty(), "model config: mean and std must not be empty");
  // values that would turn a pixel into inf or NaN (std 1e-38) are refused here, not found as NaN logits later
  for (float s : c.stdev)
    require(std::isfinite(s) && std::fabs(s) >= 1e-4f && std::fabs(s) <= 1e4f, "model config: std must be between 1e-4 and 1e4");
  for (float m : c.mean) require(std::isfinite(m) && std::fabs(m) <= 1e4f, "model config: mean must be between -1e4 and 1e4");
  require(std::isfinite(c.scale) && c.scale > 1e-6f && c.scale <= 1e3f, "model config: scale must be between 1e-6 and 1000");
  require(c.resize_shorter >= 8 && c.resize_shorter <= 8192, "model config: resize_shorter out of range");
  require(c.content_size >= 0 && c.content_size <= std::min(c.height, c.width),
          "model config: content_size must fit the input");
  return c;
}

std::string ModelConfig::to_json() const {
  json j;
  j["name"] = name;
  j["input"] = {{"channels", channels}, {"height", height}, {"width", width}};
  j["mean"] = mean;
  j["std"] = stdev;
  j["scale"] = scale;
  j["color"] = color_name(color);
  j["resize"] = resize_name(resize);
  j["resize_shorter"] = resize_shorter;
  j["content_size"] = content_size;
  j["background"] = dark_background ? "dark" : "any";
  j["note"] = note;
  j["labels"] = labels;
  return j.dump();
}

std::string ModelConfig::describe() const {
  std::ostringstream s;
  s << "input " << channels << "x" << height << "x" << width << ", " << color_name(color) << ", ";
  if (resize == ResizeMode::ShorterCrop) s << "resize shorter side to " << resize_shorter << " then center-crop";
  else if (resize == ResizeMode::Fit) s << "fit into " << (content_size ? content_size : height) << " and pad";
  else s << "resize to the input size";
  s << ", value = (pixel*" << scale << " - mean) / std, mean [";
  for (std::size_t i = 0; i < mean.size(); ++i) s << (i ? ", " : "") << mean[i];
  s << "], std [";
  for (std::size_t i = 0; i < stdev.size(); ++i) s << (i ? ", " : "") << stdev[i];
  s << "]";
  if (dark_background) s << ", expects light objects on a dark background";
  if (!from_metadata) s << " (no lrpscope.config metadata: ImageNet conventions)";
  return s.str();
}

}  // namespace lrp
