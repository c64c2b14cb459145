#include "secagg/consistency.h"

#include <cstring>
#include <string>

#include "secagg/crypto.h"

namespace fedsmear::secagg {

Result<std::array<uint8_t, 32>> DeriveGraphSeed(const std::array<uint8_t, 32>& public_seed,
                                               const std::map<uint32_t, AdvertisedKeys>& keys,
                                               uint32_t num_sites) {
  if (keys.size() != num_sites || keys.begin()->first != 1 || keys.rbegin()->first != num_sites) {
    return FailedPrecondition("secagg: the graph seed needs the keys of all " +
                              std::to_string(num_sites) + " sites, have " +
                              std::to_string(keys.size()));
  }
  Bytes ikm(public_seed.begin(), public_seed.end());
  ikm.reserve(ikm.size() + keys.size() * 68);
  for (const auto& [id, k] : keys) {
    for (int b = 0; b < 4; ++b) ikm.push_back(static_cast<uint8_t>(id >> (8 * b)));
    ikm.insert(ikm.end(), k.c_pk.begin(), k.c_pk.end());
    ikm.insert(ikm.end(), k.s_pk.begin(), k.s_pk.end());
  }
  const Bytes info = {'g', 'r', 'a', 'p', 'h', '-', 's', 'e', 'e', 'd'};
  ASSIGN_OR_RETURN(SecretBuffer out,
                   HkdfSha256(ikm.data(), ikm.size(), "fedsmear-secagg-v2", info, 32));
  std::array<uint8_t, 32> seed{};
  std::memcpy(seed.data(), out.data(), seed.size());
  return seed;
}

}  // namespace fedsmear::secagg
