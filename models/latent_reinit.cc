#include "models/latent_reinit.h"

#include <cmath>
#include <stdexcept>

namespace fedsmear {

void ReinitLatentFromSigns(const ModelState& received, ModelState* site_latent, float epsilon) {
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
    for (size_t k = 0; k < t.values.size(); ++k) {
      const bool plus = t.values[k] >= 0.f;
      if (own && (own->values[k] >= 0.f) == plus && std::isfinite(own->values[k])) {
        t.values[k] = own->values[k];
      } else {
        t.values[k] = plus ? epsilon : -epsilon;
      }
    }
  }
  *site_latent = std::move(out);
}

}  // namespace fedsmear
