// Small files that claim or unpack to huge sizes: refused with a message before the memory is taken.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "model/idx_dataset.h"
#include "model/json_bounded.h"
#include "model/safetensors.h"

// stb_image_write's deflate (compiled into the model library)
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len, int quality);

namespace lrp {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A gzip file of `n` zero bytes whose trailer claims `claimed` bytes.
std::vector<uint8_t> gzip_zeros(int n, uint32_t claimed) {
  std::vector<uint8_t> zeros(static_cast<std::size_t>(n));
  int len = 0;
  unsigned char* z = stbi_zlib_compress(zeros.data(), n, &len, 5);
  std::vector<uint8_t> gz(10 + static_cast<std::size_t>(len - 6));
  const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  std::memcpy(gz.data(), header, 10);
  std::memcpy(gz.data() + 10, z + 2, static_cast<std::size_t>(len - 6));  // the raw deflate inside the zlib wrapper
  std::free(z);
  for (int i = 0; i < 4; ++i) gz.push_back(0);  // CRC (not checked)
  for (int i = 0; i < 4; ++i) gz.push_back(static_cast<uint8_t>(claimed >> (8 * i)));
  return gz;
}

TEST(MemoryBombs, GzipInflatesOnlyToWhatItsTrailerSaysWithinTheLimit) {
  const auto honest = gzip_zeros(8 << 20, 8u << 20);
  EXPECT_LT(honest.size(), 100000u);
  EXPECT_EQ(gunzip(honest).size(), 8u << 20);
  // the trailer lies: it claims 1000 bytes and the stream inflates to 8 MB (the output buffer never grows)
  const std::string lying = error_of([&] { gunzip(gzip_zeros(8 << 20, 1000)); });
  EXPECT_NE(lying.find("more than its trailer says"), std::string::npos) << lying;
  // the trailer says 3.2 GB: refused before anything is allocated
  const std::string big = error_of([&] { gunzip(gzip_zeros(1 << 16, 3'200'000'000u)); });
  EXPECT_NE(big.find("more than the limit"), std::string::npos) << big;
}

TEST(MemoryBombs, CheckpointHeadersAreBoundedByWhatAVggCanHave) {
  auto file_with_header = [](const std::string& h) {
    std::vector<uint8_t> b(8 + h.size());
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(h.size()) >> (8 * i));
    std::memcpy(b.data() + 8, h.data(), h.size());
    return b;
  };
  // 3 MB of "[0,0,0,...]": 1.5 million values (nlohmann would take hundreds of MB for them)
  std::string zeros = "{\"x\":[";
  for (int i = 0; i < 1'500'000; ++i) zeros += i ? ",0" : "0";
  zeros += "]}";
  const std::string many = error_of([&] { SafetensorsFile(ByteSource::from_buffer(file_with_header(zeros))); });
  EXPECT_NE(many.find("more than 1000000 JSON values"), std::string::npos) << many;
  // 17 MB of header: refused by its length
  std::string padded = "{\"__metadata__\":{\"a\":\"" + std::string(17u << 20, 'a') + "\"}}";
  const std::string large = error_of([&] { SafetensorsFile(ByteSource::from_buffer(file_with_header(padded))); });
  EXPECT_NE(large.find("larger than the limit of 16 MB"), std::string::npos) << large;
  // nesting
  const std::string deep = error_of([] { parse_json_bounded(std::string(100, '[') + std::string(100, ']'), "a test"); });
  EXPECT_NE(deep.find("nested more than"), std::string::npos) << deep;
  EXPECT_NE(error_of([] { parse_json_bounded("{\"a\":", "a test"); }).find("a test is not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace lrp
