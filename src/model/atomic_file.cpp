#include "model/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "engine/error.h"

namespace lrp {

AtomicFile::AtomicFile(const std::string& path, bool binary)
    : path_(path), tmp_(path + ".tmp-" + std::to_string(static_cast<long>(getpid()))) {
  std::remove(tmp_.c_str());  // a leftover (or a link planted there) is replaced, not followed
  f_.open(tmp_, binary ? std::ios::binary | std::ios::trunc : std::ios::trunc);
  if (!f_) throw Error("cannot write '" + path_ + "'");
}

AtomicFile::~AtomicFile() {
  if (!done_) {
    f_.close();
    std::remove(tmp_.c_str());
  }
}

void AtomicFile::commit() {
  f_.flush();
  const bool ok = static_cast<bool>(f_);
  f_.close();
  if (!ok || f_.fail()) throw Error("cannot write '" + path_ + "' (is the disk full?)");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) throw Error("cannot write '" + path_ + "'");
  done_ = true;
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  AtomicFile f(path);
  f.out().write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.commit();
}

void refuse_overwriting_inputs(const std::string& output, const std::vector<std::string>& inputs, const std::string& what) {
  struct stat o;
  if (::stat(output.c_str(), &o) != 0) return;  // nothing there yet: nothing to overwrite
  for (const auto& in : inputs) {
    struct stat i;
    if (::stat(in.c_str(), &i) == 0 && i.st_dev == o.st_dev && i.st_ino == o.st_ino)
      throw Error(what + " '" + output + "' is the input '" + in + "': writing it would destroy the input; choose another name");
  }
}

}  // namespace lrp
