// The protocol buffers wire format read without a schema, for ONNX models (onnx_file.h): a message is a
// sequence of fields, each a tag (field number and wire type) and a varint, a fixed 32/64-bit value or a
// length-delimited run of bytes (a string, a nested message or a packed repeated scalar). Every length is checked
// against the bytes that are left; a cut or damaged message raises Error naming `what`. Nothing is copied:
// length-delimited fields point into the caller's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lrp {

struct PbField {
  uint32_t number = 0;
  int wire = 0;                   // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  uint64_t value = 0;             // wire 0, 1 and 5
  const uint8_t* data = nullptr;  // wire 2
  std::size_t size = 0;
  std::string str() const { return std::string(reinterpret_cast<const char*>(data), size); }
  int64_t as_int64() const { return static_cast<int64_t>(value); }
  float as_float() const;    // wire 5
  double as_double() const;  // wire 1
};

class PbReader {
 public:
  PbReader(const uint8_t* bytes, std::size_t n, const std::string& what) : p_(bytes), end_(bytes + n), what_(what) {}
  // The next field; false at the end of the message.
  bool next(PbField& f);

 private:
  uint64_t varint();
  const uint8_t* p_;
  const uint8_t* end_;
  const std::string& what_;
};

// A repeated varint field (int64, int32, enums): packed (wire 2) or one value per field (wire 0), appended.
void pb_varints(const PbField& f, std::vector<int64_t>& out, const std::string& what);
// A repeated float field: packed (wire 2) or one value (wire 5), appended.
void pb_floats(const PbField& f, std::vector<float>& out, const std::string& what);

}  // namespace lrp
