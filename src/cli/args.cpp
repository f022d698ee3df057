#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/error.h"
#include "model/atomic_file.h"
#include "model/weight_store.h"

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
  prepare_outputs();
}

namespace {

// Output options: their folders are made (or the reason they cannot be is given) before a command does any work.
bool is_output_file(const std::string& n) { return n == "out" || n.rfind("out-", 0) == 0 || n == "crop" || n == "npy"; }
bool is_output_dir(const std::string& n) { return n == "npy-dir"; }

void make_folder(const std::string& option, const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  if (std::filesystem::exists(dir, ec))
    throw Error("--" + option + ": '" + dir.string() + "' exists and is not a folder");
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("--" + option + ": cannot create the folder '" + dir.string() + "': " + ec.message());
}

}  // namespace

void Args::prepare_outputs() const {
  // the files this command reads: an output must never be one of them (by identity, not by spelling)
  std::vector<std::string> inputs;
  for (const char* in : {"model", "image", "rules", "atlas"})
    if (has(in))
      for (const auto& f : std::string(in) == "model" ? WeightStore::files_of(get(in)) : std::vector<std::string>{get(in)})
        inputs.push_back(f);
  for (const auto& [name, value] : opts_) {
    if (is_output_file(name)) refuse_overwriting_inputs(value, inputs, "--" + name);
    if (is_output_dir(name)) {
      if (value.empty()) throw Error("--" + name + " needs a folder");
      make_folder(name, value);
    } else if (is_output_file(name)) {
      if (value.empty() || value.back() == '/') throw Error("--" + name + " needs a file name, got '" + value + "'");
      std::error_code ec;
      if (std::filesystem::is_directory(value, ec)) throw Error("--" + name + ": '" + value + "' is a folder, not a file");
      make_folder(name, std::filesystem::path(value).parent_path());
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
