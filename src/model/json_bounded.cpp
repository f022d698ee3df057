#include "model/json_bounded.h"

#include <fstream>

#include "engine/error.h"

namespace lrp {

nlohmann::json parse_json_bounded(const char* begin, const char* end, const std::string& what, const JsonLimits& limits) {
  const auto bytes = static_cast<std::size_t>(end - begin);
  if (bytes > limits.max_bytes)
    throw Error(what + " is " + std::to_string(bytes >> 20) + " MB of JSON, more than the limit of " +
                std::to_string(limits.max_bytes >> 20) + " MB");
  std::size_t values = 0;
  try {
    return nlohmann::json::parse(begin, end, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (++values > limits.max_values)
        throw Error(what + " has more than " + std::to_string(limits.max_values) + " JSON values: far more than it can need");
      if (depth > limits.max_depth)
        throw Error(what + " is nested more than " + std::to_string(limits.max_depth) + " levels deep");
      return true;
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(what + " is not valid JSON: " + e.what());
  }
}

std::string read_text_bounded(const std::string& path, std::size_t max_bytes, const std::string& what) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error("cannot open " + what + " '" + path + "'");
  const auto n = f.tellg();
  if (n < 0) throw Error("cannot read " + what + " '" + path + "'");
  if (static_cast<std::size_t>(n) > max_bytes)
    throw Error(what + " '" + path + "' is " + std::to_string(static_cast<long long>(n)) + " bytes, more than the limit of " +
                std::to_string(max_bytes) + " bytes");
  std::string text(static_cast<std::size_t>(n), '\0');
  f.seekg(0);
  if (n > 0 && !f.read(text.data(), n)) throw Error("cannot read " + what + " '" + path + "'");
  return text;
}

}  // namespace lrp
