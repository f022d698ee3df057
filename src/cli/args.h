// Command-line options: "--name value" and "--flag", checked against the options a command accepts.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace lrp::cli {

class Args {
 public:
  // values: options that take a value; flags: options without one. Throws Error on anything else. Output
  // options (--out, --out-*, --crop, --npy: files; --npy-dir: a folder) get their folders made here, before the
  // command does any work, or an error that says why they cannot be.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& values, const std::set<std::string>& flags);

  bool has(const std::string& name) const { return opts_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::string require(const std::string& name) const;
  int get_int(const std::string& name, int fallback) const;
  long long get_int64(const std::string& name, long long fallback) const;
  double get_double(const std::string& name, double fallback) const;
  bool flag(const std::string& name) const { return has(name); }

 private:
  void prepare_outputs() const;
  std::map<std::string, std::string> opts_;
};

int parse_int(const std::string& option, const std::string& text, long long lo, long long hi);

}  // namespace lrp::cli
