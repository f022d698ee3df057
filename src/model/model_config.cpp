#include "model/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"

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

static std::vector<float> read_floats(const json& j, const char* key) {
  std::vector<float> out;
  const json& v = j.at(key);
  if (v.is_number()) return {v.get<float>()};
  if (!v.is_array()) throw Error(std::string("model config: '") + key + "' must be a number or a list");
  for (const auto& x : v) {
    if (!x.is_number()) throw Error(std::string("model config: '") + key + "' must hold numbers");
    out.push_back(x.get<float>());
  }
  return out;
}

ModelConfig ModelConfig::from_json(const std::string& text) {
  ModelConfig c;
  c.from_metadata = true;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw Error(std::string("model config (lrpscope.config) is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw Error("model config (lrpscope.config) is not a JSON object");
  try {
    if (j.contains("name")) c.name = j.at("name").get<std::string>();
    if (j.contains("input")) {
      const json& in = j.at("input");
      c.channels = in.value("channels", c.channels);
      c.height = in.value("height", c.height);
      c.width = in.value("width", c.width);
    }
    if (j.contains("mean")) c.mean = read_floats(j, "mean");
    if (j.contains("std")) c.stdev = read_floats(j, "std");
    if (j.contains("scale")) c.scale = j.at("scale").get<float>();
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
    c.resize_shorter = j.value("resize_shorter", c.resize_shorter);
    c.content_size = j.value("content_size", c.content_size);
    if (j.contains("background")) c.dark_background = j.at("background").get<std::string>() == "dark";
    c.note = j.value("note", std::string());
    if (j.contains("labels")) c.labels = j.at("labels").get<std::vector<std::string>>();
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
  for (float s : c.stdev) require(std::isfinite(s) && s != 0.0f, "model config: std must be finite and non-zero");
  for (float m : c.mean) require(std::isfinite(m), "model config: mean must be finite");
  require(std::isfinite(c.scale) && c.scale > 0.0f, "model config: scale must be positive");
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
