#include "model/protobuf_wire.h"

#include <cstring>

#include "engine/error.h"

namespace lrp {

float PbField::as_float() const {
  const uint32_t u = static_cast<uint32_t>(value);
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

double PbField::as_double() const {
  double v;
  std::memcpy(&v, &value, 8);
  return v;
}

uint64_t PbReader::varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) throw Error(what_ + " is cut short (inside a protobuf varint)");
    const uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  throw Error(what_ + " is damaged (a protobuf varint longer than 10 bytes)");
}

bool PbReader::next(PbField& f) {
  if (p_ == end_) return false;
  const uint64_t tag = varint();
  f = PbField{};
  f.wire = static_cast<int>(tag & 7);
  const uint64_t number = tag >> 3;
  if (number == 0 || number > 536870911u) throw Error(what_ + " is damaged (protobuf field number " + std::to_string(number) + ")");
  f.number = static_cast<uint32_t>(number);
  const std::size_t left = static_cast<std::size_t>(end_ - p_);
  switch (f.wire) {
    case 0:
      f.value = varint();
      return true;
    case 1:
      if (left < 8) throw Error(what_ + " is cut short (inside a 64-bit protobuf field)");
      std::memcpy(&f.value, p_, 8);
      p_ += 8;
      return true;
    case 5: {
      if (left < 4) throw Error(what_ + " is cut short (inside a 32-bit protobuf field)");
      uint32_t u;
      std::memcpy(&u, p_, 4);
      f.value = u;
      p_ += 4;
      return true;
    }
    case 2: {
      const uint64_t n = varint();
      if (n > static_cast<uint64_t>(end_ - p_))
        throw Error(what_ + " is cut short (protobuf field " + std::to_string(number) + " claims " + std::to_string(n) +
                    " bytes, " + std::to_string(end_ - p_) + " are left)");
      f.data = p_;
      f.size = static_cast<std::size_t>(n);
      p_ += n;
      return true;
    }
    default:
      throw Error(what_ + " is damaged or not protobuf (wire type " + std::to_string(f.wire) + " in field " +
                  std::to_string(number) + ")");
  }
}

void pb_varints(const PbField& f, std::vector<int64_t>& out, const std::string& what) {
  if (f.wire == 0) {
    out.push_back(f.as_int64());
    return;
  }
  if (f.wire != 2) throw Error(what + " is damaged (a repeated integer field of wire type " + std::to_string(f.wire) + ")");
  const uint8_t* p = f.data;
  const uint8_t* end = f.data + f.size;
  while (p < end) {
    uint64_t v = 0;
    int shift = 0;
    for (;; shift += 7) {
      if (p == end || shift >= 64) throw Error(what + " is damaged (inside a packed protobuf varint)");
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    out.push_back(static_cast<int64_t>(v));
  }
}

void pb_floats(const PbField& f, std::vector<float>& out, const std::string& what) {
  if (f.wire == 5) {
    out.push_back(f.as_float());
    return;
  }
  if (f.wire != 2 || f.size % 4 != 0) throw Error(what + " is damaged (a repeated float field)");
  const std::size_t n = f.size / 4, at = out.size();
  out.resize(at + n);
  if (n) std::memcpy(out.data() + at, f.data, f.size);
}

}  // namespace lrp
