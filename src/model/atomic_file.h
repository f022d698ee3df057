// Writing outputs safely: through a temporary file next to the target, renamed over it only when complete. An
// error never leaves a half-written file, an existing file stays as it was until the new one is whole, and a
// symbolic link planted at the target is replaced, not written through.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace lrp {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path, bool binary = true);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  std::ofstream& out() { return f_; }
  void commit();  // throws Error naming the file when anything failed

 private:
  std::string path_, tmp_;
  std::ofstream f_;
  bool done_ = false;
};

// Writes bytes to path through an AtomicFile.
void write_file_atomic(const std::string& path, const void* data, std::size_t size);

// Throws Error when `output` would replace one of `inputs`: the same file by identity (device and inode, so
// another spelling, a hard link or a symbolic link to it counts), not by name.
void refuse_overwriting_inputs(const std::string& output, const std::vector<std::string>& inputs, const std::string& what);

}  // namespace lrp
