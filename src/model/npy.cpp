#include "model/npy.h"
#include "model/atomic_file.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace lrp {

std::vector<uint8_t> npy_bytes(const Tensor& t) {
  std::ostringstream h;
  h << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < t.rank(); ++i) h << t.dim(i) << (t.rank() == 1 || i + 1 < t.rank() ? ", " : "");
  h << "), }";
  std::string header = h.str();
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* p = reinterpret_cast<const uint8_t*>(t.data());
  out.insert(out.end(), p, p + t.size() * sizeof(float));
  return out;
}

void write_npy(const std::string& path, const Tensor& t) {
  const auto b = npy_bytes(t);
  write_file_atomic(path, b.data(), b.size());
}

Tensor read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open '" + path + "'");
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (b.size() < 10 || b[0] != 0x93 || std::memcmp(&b[1], "NUMPY", 5) != 0) throw Error("'" + path + "' is not a .npy file");
  const std::size_t hl = b[8] | static_cast<std::size_t>(b[9]) << 8;
  if (10 + hl > b.size()) throw Error("'" + path + "': truncated header");
  const std::string h(b.begin() + 10, b.begin() + 10 + static_cast<long>(hl));
  if (h.find("'<f4'") == std::string::npos || h.find("False") == std::string::npos)
    throw Error("'" + path + "': only little-endian float32 C-order arrays are supported");
  const auto lp = h.find('('), rp = h.find(')');
  std::vector<int> shape;
  std::stringstream ss(h.substr(lp + 1, rp - lp - 1));
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (tok.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoi(tok));
  Tensor t(shape);
  if (b.size() != 10 + hl + t.size() * 4) throw Error("'" + path + "': data size does not match the shape");
  std::memcpy(t.data(), b.data() + 10 + hl, t.size() * 4);
  return t;
}

}  // namespace lrp
