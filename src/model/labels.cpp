#include "model/labels.h"

#include <sstream>

namespace lrp {

extern const char* const kImagenetLabelsText;  // generated from assets/labels/imagenet.txt

const std::vector<std::string>& imagenet_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> out;
    std::istringstream in(kImagenetLabelsText);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(line);
    return out;
  }();
  return labels;
}

}  // namespace lrp
