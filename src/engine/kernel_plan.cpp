#include "engine/kernel_plan.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"
#include "engine/gemm_kernel.h"

namespace lrp {

int KernelPolicy::native_max_tile() {
#if defined(LRPSCOPE_KERNEL_AVX512) || defined(LRPSCOPE_KERNEL_AVX2)
  return 2;  // measured: equal time, 4/(16/9) the weight memory
#else
  return 4;
#endif
}

KernelPolicy KernelPolicy::at_most(int m) const {
  KernelPolicy p = *this;
  p.max_tile = std::min(p.max_tile, m);
  return p;
}

KernelPolicy KernelPolicy::without_winograd() const {
  KernelPolicy p = *this;
  p.winograd = false;
  return p;
}

KernelPolicy KernelPolicy::parse(const char* text) {
  KernelPolicy p;
  if (!text || !*text) return p;
  if (!std::strcmp(text, "0")) p.winograd = false;
  else if (!std::strcmp(text, "2")) p.max_tile = 2;
  else if (!std::strcmp(text, "4")) p.max_tile = 4;
  else throw Error(std::string("kernel policy '") + text + "': expected 0 (no Winograd), 2 (F(2x2) at most) or 4");
  return p;
}

std::string KernelPolicy::describe() const {
  if (!winograd) return "no Winograd";
  return max_tile >= 4 ? "Winograd F(4x4) at most" : "Winograd F(2x2) at most";
}

const char* conv_path_name(ConvPath p) {
  switch (p) {
    case ConvPath::None: return "none";
    case ConvPath::Im2col: return "im2col GEMM";
    case ConvPath::Winograd2: return "Winograd F(2x2)";
    case ConvPath::Winograd4: return "Winograd F(4x4)";
    case ConvPath::FlippedConv: return "flipped-weights im2col GEMM";
    case ConvPath::FlippedWinograd2: return "flipped-weights Winograd F(2x2)";
    case ConvPath::FlippedWinograd4: return "flipped-weights Winograd F(4x4)";
    case ConvPath::Col2im: return "GEMM + col2im";
  }
  return "?";
}

std::string ConvPlan::describe() const {
  return std::string("forward ") + conv_path_name(forward) + ", transposed " + conv_path_name(transposed) + ", tile " +
         std::to_string(mr) + "x" + std::to_string(nr);
}

bool winograd_eligible(const ConvShape& s) {
  // tiles are processed four abreast: maps narrower than 7 would mostly compute padding
  return s.kh == 3 && s.kw == 3 && s.stride == 1 && s.pad == 1 && s.cin >= 16 && s.cout >= 16 && s.w >= 7 && s.h >= 2;
}

int winograd_tile(ConvPath p) {
  switch (p) {
    case ConvPath::Winograd2:
    case ConvPath::FlippedWinograd2: return 2;
    case ConvPath::Winograd4:
    case ConvPath::FlippedWinograd4: return 4;
    default: return 0;
  }
}

namespace {

// 0: no Winograd for this shape, else the tile.
int winograd_choice(const ConvShape& s, const KernelPolicy& p) {
  if (!p.winograd || !winograd_eligible(s)) return 0;
  return p.max_tile >= 4 && s.w >= 14 && s.h >= 4 ? 4 : 2;
}

}  // namespace

ConvPath plan_conv_forward(const ConvShape& s, const KernelPolicy& p) {
  switch (winograd_choice(s, p)) {
    case 2: return ConvPath::Winograd2;
    case 4: return ConvPath::Winograd4;
    default: return ConvPath::Im2col;
  }
}

ConvShape flipped_conv_shape(const ConvShape& f) {
  ConvShape t;
  t.cin = f.cout;
  t.h = f.oh();
  t.w = f.ow();
  t.cout = f.cin;
  t.kh = f.kh;
  t.kw = f.kw;
  t.stride = 1;
  t.pad = f.kh - 1 - f.pad;
  return t;
}

ConvPath plan_conv_transposed(const ConvShape& s, const KernelPolicy& p) {
  // Stride 1 runs as a convolution with flipped weights, unless the layer has only a few input channels (the first
  // layer: 3): that convolution would have 3 output rows, so W^T s (cin*kh*kw rows) + col2im is faster.
  const bool as_conv = s.stride == 1 && s.cin >= 8 && s.pad <= s.kh - 1 && s.pad <= s.kw - 1 &&
                       s.kh - 1 - s.pad == s.kw - 1 - s.pad;
  if (!as_conv) return ConvPath::Col2im;
  switch (winograd_choice(flipped_conv_shape(s), p)) {
    case 2: return ConvPath::FlippedWinograd2;
    case 4: return ConvPath::FlippedWinograd4;
    default: return ConvPath::FlippedConv;
  }
}

double conv_subset_limit(const ConvShape& s, int needed_in) {
  const double full = static_cast<double>(s.cout) * s.cin;
  return full / (3.0 * static_cast<double>(std::max(1, needed_in)));
}

bool conv_subset_pays(const ConvShape& s, int active_out, int needed_in) {
  return static_cast<double>(active_out) <= conv_subset_limit(s, needed_in);
}

}  // namespace lrp
