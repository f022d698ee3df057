#include "model/zip_reader.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"
#include "model/deflate.h"

namespace lrp {

namespace {

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Reads little-endian fields from [at, end) of the archive, refusing to pass its end.
struct Cursor {
  const uint8_t* base;
  std::size_t n, at;
  const std::string& what;
  void need(std::size_t k, const char* part) const {
    if (at > n || n - at < k) throw Error(what + ": not a complete zip archive (its " + part + " is cut off)");
  }
  uint64_t get(int k, const char* part) {
    need(static_cast<std::size_t>(k), part);
    const uint64_t v = le(base + at, k);
    at += static_cast<std::size_t>(k);
    return v;
  }
};

constexpr uint32_t kEnd = 0x06054b50, kEnd64 = 0x06064b50, kLocator64 = 0x07064b50, kCentral = 0x02014b50,
                   kLocal = 0x04034b50;
constexpr std::size_t kMaxEntries = 1u << 20;  // a checkpoint has a few hundred

}  // namespace

std::vector<ZipEntry> read_zip_directory(const uint8_t* b, std::size_t n, const std::string& what) {
  if (n < 22) throw Error(what + ": not a zip archive (" + std::to_string(n) + " bytes)");
  // the end of central directory record: the last 22 bytes, or before a comment of at most 64 KB
  std::size_t end = std::string::npos;
  for (std::size_t k = n - 22, stop = n - 22 - std::min<std::size_t>(n - 22, 65535);; --k) {
    if (le(b + k, 4) == kEnd && k + 22 + le(b + k + 20, 2) == n) {
      end = k;
      break;
    }
    if (k == stop) break;
  }
  if (end == std::string::npos) throw Error(what + ": not a complete zip archive (no end of central directory: the file may be cut off)");
  uint64_t count = le(b + end + 10, 2), cd_size = le(b + end + 12, 4), cd_at = le(b + end + 16, 4);
  if (le(b + end + 4, 2) != 0 || le(b + end + 6, 2) != 0) throw Error(what + ": a zip archive split over several files");
  if (end >= 20 && le(b + end - 20, 4) == kLocator64) {  // ZIP64: the real numbers are in the ZIP64 record
    const uint64_t at = le(b + end - 12, 8);
    if (at > n || n - at < 56 || le(b + at, 4) != kEnd64) throw Error(what + ": damaged zip archive (its ZIP64 record is not where it says)");
    count = le(b + at + 32, 8);
    cd_size = le(b + at + 40, 8);
    cd_at = le(b + at + 48, 8);
  }
  if (cd_at > n || cd_size > n - cd_at) throw Error(what + ": damaged zip archive (its directory lies outside the file)");
  if (count > kMaxEntries) throw Error(what + ": a zip archive of " + std::to_string(count) + " entries is not a checkpoint");
  std::vector<ZipEntry> out;
  Cursor c{b, static_cast<std::size_t>(cd_at + cd_size), static_cast<std::size_t>(cd_at), what};
  for (uint64_t i = 0; i < count; ++i) {
    if (c.get(4, "directory") != kCentral) throw Error(what + ": damaged zip archive (entry " + std::to_string(i) + " of its directory)");
    c.at += 4;  // versions
    const uint64_t flags = c.get(2, "directory");
    ZipEntry e;
    e.method = static_cast<uint16_t>(c.get(2, "directory"));
    c.at += 8;  // time, date, crc
    e.packed = c.get(4, "directory");
    e.size = c.get(4, "directory");
    const std::size_t name_len = static_cast<std::size_t>(c.get(2, "directory")), extra_len = static_cast<std::size_t>(c.get(2, "directory")),
                      comment_len = static_cast<std::size_t>(c.get(2, "directory"));
    c.at += 8;  // disk, attributes
    uint64_t local = c.get(4, "directory");
    c.need(name_len + extra_len + comment_len, "directory");
    e.name.assign(reinterpret_cast<const char*>(b + c.at), name_len);
    // ZIP64 extra field: the 64-bit sizes and offset of the fields that say 0xFFFFFFFF, in this order
    for (std::size_t x = c.at + name_len, xe = x + extra_len; x + 4 <= xe;) {
      const uint64_t id = le(b + x, 2), len = le(b + x + 2, 2);
      if (x + 4 + len > xe) throw Error(what + ": damaged zip archive (the extra field of '" + e.name + "')");
      if (id == 1) {
        Cursor z{b, static_cast<std::size_t>(x + 4 + len), x + 4, what};
        if (e.size == 0xFFFFFFFFu) e.size = z.get(8, "ZIP64 field");
        if (e.packed == 0xFFFFFFFFu) e.packed = z.get(8, "ZIP64 field");
        if (local == 0xFFFFFFFFu) local = z.get(8, "ZIP64 field");
      }
      x += 4 + len;
    }
    c.at += name_len + extra_len + comment_len;
    if (flags & 1) throw Error(what + ": the zip entry '" + e.name + "' is encrypted");
    if (e.method != 0 && e.method != 8)
      throw Error(what + ": the zip entry '" + e.name + "' uses compression method " + std::to_string(e.method) + " (stored or deflate expected)");
    if (e.method == 0 && e.packed != e.size) throw Error(what + ": damaged zip archive (the stored entry '" + e.name + "' has two sizes)");
    // the local header repeats the name; the data follow it and its extra field
    if (local > n || n - local < 30 || le(b + local, 4) != kLocal)
      throw Error(what + ": damaged zip archive (the entry '" + e.name + "' is not where its directory says)");
    const uint64_t data = local + 30 + le(b + local + 26, 2) + le(b + local + 28, 2);
    if (data > n || e.packed > n - data)
      throw Error(what + ": not a complete zip archive (the entry '" + e.name + "' is cut off)");
    e.data = data;
    out.push_back(std::move(e));
  }
  return out;
}

const uint8_t* zip_entry_bytes(const uint8_t* bytes, const ZipEntry& e, std::vector<uint8_t>& scratch,
                               const std::string& what) {
  if (e.method == 0) return bytes + e.data;
  try {
    scratch = inflate_raw_bytes(bytes + e.data, static_cast<std::size_t>(e.packed), static_cast<std::size_t>(e.size));
  } catch (const Error& err) {
    throw Error(what + ": the zip entry '" + e.name + "': " + err.what());
  }
  return scratch.data();
}

}  // namespace lrp
