#include "models/latent_reinit.h"

#include <cmath>
#include <stdexcept>

namespace fedsmear {

Result<FreshLatent> ParseFreshLatent(const std::string& name) {
  if (auto parsed = settings::ParseEnum<FreshLatent>(name)) return *parsed;
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

namespace {

// The magnitude `kind` gives a weight of tensor `t`: epsilon, or the layer's Glorot magnitude
// (epsilon when the shape has none).
float StartMagnitude(FreshLatent kind, const NamedTensor& t, float epsilon) {
  if (kind != FreshLatent::kGlorot) return epsilon;
  const float m = GlorotMeanMagnitude(t.shape);
  return m > 0 ? m : epsilon;
}

// The site's tensor matching `t` (position `i` in `received`): same position first (the usual
// case), else by name; null when there is none of the same size.
const NamedTensor* Own(const ModelState& site, size_t i, const NamedTensor& t) {
  const NamedTensor* own = nullptr;
  if (i < site.tensors.size() && site.tensors[i].name == t.name) {
    own = &site.tensors[i];
  } else {
    own = site.Find(t.name);
  }
  return own != nullptr && own->values.size() == t.values.size() ? own : nullptr;
}

}  // namespace

LatentReinitCounts ReinitLatentFromSigns(const ModelState& received, ModelState* site_latent,
                                         float epsilon, FreshLatent fresh, FreshLatent flip) {
  if (!(epsilon > 0) || !std::isfinite(epsilon)) {
    throw std::invalid_argument("ReinitLatentFromSigns: epsilon must be a positive number");
  }
  LatentReinitCounts counts;
  ModelState out = received;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    NamedTensor& t = out.tensors[i];
    if (t.kind != TensorKind::kBinary) continue;
    const NamedTensor* own = Own(*site_latent, i, t);
    const float start = StartMagnitude(own ? flip : fresh, t, epsilon);
    for (size_t k = 0; k < t.values.size(); ++k) {
      const bool plus = t.values[k] >= 0.f;
      if (own && (own->values[k] >= 0.f) == plus && std::isfinite(own->values[k])) {
        t.values[k] = own->values[k];
        ++counts.kept;
      } else {
        t.values[k] = plus ? start : -start;
        ++(own ? counts.flipped : counts.fresh);
      }
    }
  }
  *site_latent = std::move(out);
  return counts;
}

SignAgreement CompareBinarySigns(const ModelState& a, const ModelState& b) {
  SignAgreement out;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const NamedTensor& t = a.tensors[i];
    if (t.kind != TensorKind::kBinary) continue;
    const NamedTensor* other = Own(b, i, t);
    if (other == nullptr) continue;
    for (size_t k = 0; k < t.values.size(); ++k) {
      out.differ += (t.values[k] >= 0.f) != (other->values[k] >= 0.f);
    }
    out.total += static_cast<int64_t>(t.values.size());
  }
  return out;
}

}  // namespace fedsmear
