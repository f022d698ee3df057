// Reader for the IDX files of MNIST / Fashion-MNIST (optionally gzip-compressed, as Debian ships them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lrp {

struct IdxImages {
  int count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols
};

// A dataset file (inflated) is at most this large: Fashion-MNIST's training images are 47 MB.
constexpr uint64_t kMaxGunzipBytes = 1ull << 30;

// Reads a file's bytes, inflating it when it is gzip-compressed.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz);
IdxImages parse_idx_images(const std::vector<uint8_t>& bytes);
// Image i of the set as a picture (grey: the same value in R, G and B).
struct Image;
Image idx_image(const IdxImages& set, int i);
std::vector<uint8_t> parse_idx_labels(const std::vector<uint8_t>& bytes);

}  // namespace lrp
