#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/error.h"

namespace lrp::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& values,
           const std::set<std::string>& flags) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) throw Error("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    bool has_value = false;
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (values.count(name)) {
      if (!has_value) {
        if (i + 1 >= argv.size()) throw Error("option --" + name + " needs a value");
        value = argv[++i];
      }
      opts_[name] = value;
    } else if (flags.count(name)) {
      if (has_value) throw Error("option --" + name + " takes no value");
      opts_[name] = "1";
    } else {
      std::string known;
      for (auto& v : values) known += " --" + v;
      for (auto& f : flags) known += " --" + f;
      throw Error("unknown option --" + name + " (accepted:" + known + ")");
    }
  }
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = opts_.find(name);
  return it == opts_.end() ? fallback : it->second;
}

std::string Args::require(const std::string& name) const {
  auto it = opts_.find(name);
  if (it == opts_.end()) throw Error("missing required option --" + name);
  return it->second;
}

int parse_int(const std::string& option, const std::string& text, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    throw Error("option --" + option + " must be an integer between " + std::to_string(lo) + " and " +
                std::to_string(hi) + ", got '" + text + "'");
  return static_cast<int>(v);
}

int Args::get_int(const std::string& name, int fallback) const {
  if (!has(name)) return fallback;
  return parse_int(name, get(name), -2147483647LL, 2147483647LL);
}

long long Args::get_int64(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  errno = 0;
  char* end = nullptr;
  const std::string t = get(name);
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0' || errno != 0) throw Error("option --" + name + " must be an integer, got '" + t + "'");
  return v;
}

double Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string t = get(name);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || errno != 0 || !std::isfinite(v))
    throw Error("option --" + name + " must be a number, got '" + t + "'");
  return v;
}

}  // namespace lrp::cli
