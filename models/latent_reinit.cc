#include "models/latent_reinit.h"

#include <cmath>
#include <stdexcept>

namespace fedsmear {

Result<FreshLatent> ParseFreshLatent(const std::string& name) {
  if (name == "epsilon") return FreshLatent::kEpsilon;
  if (name == "glorot") return FreshLatent::kGlorot;
  return InvalidArgument("latent_start '" + name + "' is not one of epsilon | glorot");
}

float GlorotMeanMagnitude(const std::vector<int64_t>& shape) {
  if (shape.empty()) return 0.f;
  double fan_in = static_cast<double>(shape[0]);
  double fan_out = fan_in;
  if (shape.size() >= 2) {
    double receptive = 1;
    for (size_t i = 2; i < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
    fan_in = static_cast<double>(shape[1]) * receptive;
    fan_out = static_cast<double>(shape[0]) * receptive;
  }
  if (!(fan_in + fan_out > 0)) return 0.f;
  const double kPi = 3.14159265358979323846;
  return static_cast<float>(std::sqrt(2.0 / (fan_in + fan_out)) * std::sqrt(2.0 / kPi));
}

void ReinitLatentFromSigns(const ModelState& received, ModelState* site_latent, float epsilon,
                           FreshLatent fresh) {
  if (!(epsilon > 0) || !std::isfinite(epsilon)) {
    throw std::invalid_argument("ReinitLatentFromSigns: epsilon must be a positive number");
  }
  ModelState out = received;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    NamedTensor& t = out.tensors[i];
    if (t.kind != TensorKind::kBinary) continue;
    // The site's own tensor: same position first (the usual case), else by name.
    const NamedTensor* own = nullptr;
    if (i < site_latent->tensors.size() && site_latent->tensors[i].name == t.name) {
      own = &site_latent->tensors[i];
    } else {
      own = site_latent->Find(t.name);
    }
    if (own && own->values.size() != t.values.size()) own = nullptr;
    float start = epsilon;
    if (!own && fresh == FreshLatent::kGlorot) {
      const float m = GlorotMeanMagnitude(t.shape);
      if (m > 0) start = m;
    }
    for (size_t k = 0; k < t.values.size(); ++k) {
      const bool plus = t.values[k] >= 0.f;
      if (own && (own->values[k] >= 0.f) == plus && std::isfinite(own->values[k])) {
        t.values[k] = own->values[k];
      } else {
        t.values[k] = plus ? start : -start;
      }
    }
  }
  *site_latent = std::move(out);
}

}  // namespace fedsmear
