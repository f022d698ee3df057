// Weight modifications of the LRP rules (rho(w) in the literature), applied element-wise to weights and biases.
#pragma once

#include <string>

namespace lrp {

enum class WeightMod {
  Identity,       // w
  Positive,       // max(w, 0)
  Negative,       // min(w, 0)
  GammaPositive,  // w + gamma * max(w, 0)
  GammaNegative,  // w + gamma * min(w, 0)
  Square,         // w^2
  Ones,           // 1 (the flat rule)
};

inline float apply_mod(float w, WeightMod m, float gamma) {
  switch (m) {
    case WeightMod::Identity: return w;
    case WeightMod::Positive: return w > 0.0f ? w : 0.0f;
    case WeightMod::Negative: return w < 0.0f ? w : 0.0f;
    case WeightMod::GammaPositive: return w + gamma * (w > 0.0f ? w : 0.0f);
    case WeightMod::GammaNegative: return w + gamma * (w < 0.0f ? w : 0.0f);
    case WeightMod::Square: return w * w;
    case WeightMod::Ones: return 1.0f;
  }
  return w;
}

const char* weight_mod_name(WeightMod m);

}  // namespace lrp
