// The directory of a zip archive (PKWARE APPNOTE 6.3: end of central directory, ZIP64 records, central and local
// headers), read from bytes in memory, for PyTorch's checkpoints (torch.save writes a zip whose entries are
// stored, not compressed). Every offset and size is checked against the archive before use; a damaged or cut
// archive raises Error naming what is wrong. Entries compressed with deflate are inflated on request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lrp {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;      // 0 stored, 8 deflate
  uint64_t size = 0;        // uncompressed
  uint64_t packed = 0;      // as stored in the archive
  uint64_t data = 0;        // where the stored bytes start in the archive (after the local header)
};

// The entries of the archive `bytes[0, n)`, in directory order. `what`: the file's name for messages.
std::vector<ZipEntry> read_zip_directory(const uint8_t* bytes, std::size_t n, const std::string& what);
// An entry's bytes: in place for a stored entry (no copy), inflated into `scratch` for a deflated one.
const uint8_t* zip_entry_bytes(const uint8_t* bytes, const ZipEntry& e, std::vector<uint8_t>& scratch,
                               const std::string& what);

}  // namespace lrp
