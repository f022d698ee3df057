// JSON from untrusted files (checkpoint headers, shard indexes, model metadata, rules files), parsed with bounds:
// a size, a number of values and a nesting depth that what lrpscope reads never comes near, so that a small file of
// millions of tiny values is refused with a message instead of taking gigabytes.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace lrp {

struct JsonLimits {
  std::size_t max_bytes = 16u << 20;
  std::size_t max_values = 1'000'000;
  int max_depth = 8;
};

// Parses text as JSON within limits; errors (including invalid JSON) name `what`.
nlohmann::json parse_json_bounded(const char* begin, const char* end, const std::string& what, const JsonLimits& limits = {});
inline nlohmann::json parse_json_bounded(const std::string& text, const std::string& what, const JsonLimits& limits = {}) {
  return parse_json_bounded(text.data(), text.data() + text.size(), what, limits);
}

// A small text file (JSON) read whole, refused when it is larger than max_bytes; errors name `what` and the path.
std::string read_text_bounded(const std::string& path, std::size_t max_bytes, const std::string& what);

constexpr std::size_t kMaxRulesBytes = 1u << 20;  // a rules file for every layer of a VGG is a few kilobytes

}  // namespace lrp
