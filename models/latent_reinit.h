// Site-side latent weights under a sign1 downlink: the site receives only signs (times a scale)
// of the binary-conv weights and rebuilds latent weights it can keep training.
// Rationale in coordinator/vote.h. Reentrant; plain values.
#pragma once

#include "models/model_state.h"

namespace fedsmear {

// Site side: rebuilds `site_latent` from the global model `received` (binary tensors hold
// signs, possibly times a scale). Float tensors, BN statistics and metadata are copied from
// `received`; each binary weight keeps the site's latent value where its sign (x >= 0 is +)
// agrees with the received sign, and becomes +-epsilon with the received sign where it does
// not or where the site holds no matching tensor (same name and size; empty state = first
// round). Precondition: epsilon > 0 (std::invalid_argument otherwise).
void ReinitLatentFromSigns(const ModelState& received, ModelState* site_latent, float epsilon);

}  // namespace fedsmear
