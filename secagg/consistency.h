// Round parameters that no single party chooses (docs/security.md).
//
// What: DeriveGraphSeed fixes the SecAgg+ neighbour graph only after every site's fresh,
// signed round keys are known: the seed is HKDF-SHA256 over the coordinator's public seed and,
// for ids 1..n in order, id || c_pk || s_pk. A coordinator can no longer redraw the graph until
// a victim's neighbours are its colluders: it cannot predict honest sites' fresh keys, and it
// cannot alter them (they are signed). Sites and server both call it once all n sites'
// advertised keys are in (a key set with a missing site is refused, so the graph is the same
// everywhere).
// Thread-safety: pure function. Ownership: values.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "common/status.h"
#include "secagg/messages.h"

namespace fedsmear::secagg {

// kFailedPrecondition unless `keys` holds exactly the ids 1..n.
Result<std::array<uint8_t, 32>> DeriveGraphSeed(const std::array<uint8_t, 32>& public_seed,
                                               const std::map<uint32_t, AdvertisedKeys>& keys,
                                               uint32_t num_sites);

}  // namespace fedsmear::secagg
