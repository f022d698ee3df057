// Class names: ImageNet's 1000 (embedded from assets/labels/imagenet.txt at build time).
#pragma once

#include <string>
#include <vector>

namespace lrp {

const std::vector<std::string>& imagenet_labels();

}  // namespace lrp
