// SecAgg+ round configuration and the public neighbour graph (Bell et al. 2020).
//
// What: Config fixes n sites (ids 1..n), the reconstruction threshold t, the neighbour count k,
// the mask modulus 2^mask_bits and the vector length for one round. NeighbourGraph derives the
// symmetric, k-regular SecAgg+ graph deterministically from the public `graph_seed` and the round,
// so the coordinator and every site compute the same graph without talking.
//
// Choice of k: DefaultNeighbourCount(n, t) = min(n-1, max(t, ceil(3*log2(n)))), rounded up to an
// even number when below n-1. Bell et al. show that k = O(log n) neighbours give the same privacy
// and dropout robustness as the complete graph with high probability; the factor 3 is a
// conservative constant (n=50 -> k=18, n=1000 -> k=30). For n <= 13 this is the complete graph,
// i.e. plain SecAgg (Bonawitz et al. 2017).
// Graph: Harary graph H(k, n) on a pseudo-random permutation of the ids: sites sit on a ring in
// permuted order and each is linked to the k/2 nearest sites on either side (complete when
// k = n-1). The permutation is a Fisher-Yates shuffle driven by AES-CTR(HKDF(graph_seed, round)).
// In a round, graph_seed is replaced by DeriveGraphSeed (consistency.h) once all sites' keys
// are known, so the coordinator does not choose the graph alone.
// Share groups: a site's secrets are t-of-(k+1) shared among itself and its k neighbours; the
// share index of a holder is its 1-based position in the sorted group. Requires 1 <= t <= k+1.
// Security notes: the graph is public. Against a malicious coordinator choose t > (k+1)/2
// (RecommendedThreshold) so that it cannot collect t shares of both secrets of one site;
// ValidateConfig does not enforce it so tiny test federations (n = 2) still run.
// Thread-safety: values; const methods are thread-safe. Ownership: plain data.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace fedsmear::secagg {

struct Config {
  uint32_t num_sites = 0;                // n; site ids are 1..n
  uint32_t threshold = 0;                // t: shares needed to rebuild any secret
  uint32_t neighbours = 0;               // k; 0 = DefaultNeighbourCount(n, t)
  uint32_t mask_bits = 32;               // masks and sums live in Z_{2^mask_bits}, 1..32
  uint64_t round = 0;                    // bound into signatures, AAD and key derivation
  std::array<uint8_t, 32> graph_seed{};  // public randomness for the neighbour graph
  size_t vector_length = 0;              // words per (quantized) update
  // Hash of the whole round setup (SetupTranscript, secagg/site_secagg_wire.h), bound into
  // every key and consistency signature: sites that saw different setups refuse each other.
  std::array<uint8_t, 32> transcript{};
};

uint32_t DefaultNeighbourCount(uint32_t num_sites, uint32_t threshold);
// Smallest t with t > (k+1)/2.
uint32_t RecommendedThreshold(uint32_t neighbours);
// The config with `neighbours` filled in, or kInvalidArgument.
Result<Config> ResolveConfig(const Config& config);

class NeighbourGraph {
 public:
  // `config` must be resolved (ResolveConfig).
  static Result<NeighbourGraph> Build(const Config& config);

  uint32_t num_sites() const { return static_cast<uint32_t>(adjacency_.size()); }
  uint32_t degree() const { return degree_; }
  // Sorted neighbour ids of `site` (1..n); empty for unknown ids.
  const std::vector<uint32_t>& Neighbours(uint32_t site) const;
  bool AreNeighbours(uint32_t a, uint32_t b) const;
  // `owner` and its neighbours, sorted; holder h gets share index position(h) + 1.
  std::vector<uint32_t> ShareGroup(uint32_t owner) const;
  // 1-based share index of `holder` in `owner`'s group, 0 when not a member.
  uint32_t ShareIndex(uint32_t owner, uint32_t holder) const;

 private:
  uint32_t degree_ = 0;
  std::vector<std::vector<uint32_t>> adjacency_;  // [id-1] -> sorted neighbours
  std::vector<uint32_t> empty_;
};

}  // namespace fedsmear::secagg
