// Site-side latent weights under a sign1 downlink: the site receives only signs (times a scale)
// of the binary-conv weights and rebuilds latent weights it can keep training.
// Rationale in coordinator/vote.h. Reentrant; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/train_config.h"
#include "models/model_state.h"

namespace fedsmear {

// The latent magnitude a site gives a binary weight it holds no state for (first round, a new
// site, a changed layout):
//   kEpsilon  +-epsilon, the same as a flipped sign;
//   kGlorot   +-GlorotMeanMagnitude(shape): what a freshly initialised weight of that layer
//             holds on average, as if the site had just initialised its model (Glorot normal,
//             models/densenet.cc) and taken the federation's signs.

// "epsilon" | "glorot": the coordinator's latent_start (default glorot, see
// docs/benchmarks.md) and latent_flip, sent with every task.
Result<FreshLatent> ParseFreshLatent(const std::string& name);

// E|w| of a Glorot-normal weight of this shape: sqrt(2 / (fan_in + fan_out)) * sqrt(2 / pi),
// with the fans of a [out, in, k...] kernel as PyTorch and Keras count them (in * prod(k),
// out * prod(k)); a 1-D shape counts its length as both fans; an empty shape gives 0.
float GlorotMeanMagnitude(const std::vector<int64_t>& shape);

// What ReinitLatentFromSigns did to the binary weights, for the site's log.
struct LatentReinitCounts {
  int64_t kept = 0;     // the site's own latent value: its sign agreed with the federation's
  int64_t flipped = 0;  // the federation's sign overrode the site's (the `flip` magnitude)
  int64_t fresh = 0;    // no matching state at the site (the `fresh` magnitude)
};

// Site side: rebuilds `site_latent` from the global model `received` (binary tensors hold
// signs, possibly times a scale). Float tensors, BN statistics and metadata are copied from
// `received`; each binary weight
//   - keeps the site's latent value where its sign (x >= 0 is +) agrees with the received sign;
//   - takes the `flip` magnitude with the received sign where it does not (kEpsilon: +-epsilon,
//     one small step from flipping back; kGlorot: the layer's initialiser magnitude, so the
//     federation's decision survives the site's first steps);
//   - takes the `fresh` magnitude with the received sign where the site holds no matching
//     tensor (same name and size; empty state = first round).
// Precondition: epsilon > 0 (std::invalid_argument otherwise).
LatentReinitCounts ReinitLatentFromSigns(const ModelState& received, ModelState* site_latent,
                                         float epsilon, FreshLatent fresh = FreshLatent::kEpsilon,
                                         FreshLatent flip = FreshLatent::kEpsilon);

// How many binary weights of `a` and `b` (same layout) have different signs (x >= 0 is +), and
// how many binary weights there are; tensors whose name or size differ are skipped.
struct SignAgreement {
  int64_t differ = 0;
  int64_t total = 0;
  double share() const { return total > 0 ? static_cast<double>(differ) / total : 0.0; }
};
SignAgreement CompareBinarySigns(const ModelState& a, const ModelState& b);

}  // namespace fedsmear
