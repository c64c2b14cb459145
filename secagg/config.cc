#include "secagg/config.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "secagg/crypto.h"
#include "secagg/prg.h"

namespace fedsmear::secagg {
namespace {

// Uniform value in [0, bound) from 32-bit PRG words (rejection sampling).
Result<uint32_t> UniformBelow(AesCtrPrg& prg, uint32_t bound) {
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  for (;;) {
    uint32_t w = 0;
    RETURN_IF_ERROR(prg.FillWords32(&w, 1));
    if (w < limit) return w % bound;
  }
}

}  // namespace

uint32_t DefaultNeighbourCount(uint32_t num_sites, uint32_t threshold) {
  if (num_sites <= 1) return 0;
  const uint32_t log_term =
      static_cast<uint32_t>(std::ceil(3.0 * std::log2(static_cast<double>(num_sites))));
  uint32_t k = std::min(num_sites - 1, std::max(threshold, log_term));
  if (k < num_sites - 1 && k % 2 == 1) ++k;  // Harary graphs below n-1 need even k
  return k;
}

uint32_t RecommendedThreshold(uint32_t neighbours) { return (neighbours + 1) / 2 + 1; }

Result<Config> ResolveConfig(const Config& config) {
  Config c = config;
  if (c.num_sites < 2 || c.num_sites > 65535) {
    return InvalidArgument("secagg: num_sites must be in 2..65535");
  }
  if (c.mask_bits < 1 || c.mask_bits > 32)
    return InvalidArgument("secagg: mask_bits must be 1..32");
  if (c.vector_length == 0) return InvalidArgument("secagg: vector_length must be > 0");
  if (c.neighbours == 0) c.neighbours = DefaultNeighbourCount(c.num_sites, c.threshold);
  if (c.neighbours > c.num_sites - 1) return InvalidArgument("secagg: neighbours must be <= n-1");
  if (c.neighbours < c.num_sites - 1 && c.neighbours % 2 == 1) {
    return InvalidArgument("secagg: neighbours must be even unless n-1 (Harary graph)");
  }
  if (c.threshold < 1 || c.threshold > c.neighbours + 1) {
    return InvalidArgument("secagg: threshold " + std::to_string(c.threshold) +
                           " must be in 1..k+1 = " + std::to_string(c.neighbours + 1));
  }
  return c;
}

Result<NeighbourGraph> NeighbourGraph::Build(const Config& config) {
  ASSIGN_OR_RETURN(Config c, ResolveConfig(config));
  const uint32_t n = c.num_sites;
  const uint32_t k = c.neighbours;
  NeighbourGraph g;
  g.degree_ = k;
  g.adjacency_.assign(n, {});
  if (k == n - 1) {
    for (uint32_t a = 1; a <= n; ++a) {
      for (uint32_t b = 1; b <= n; ++b) {
        if (a != b) g.adjacency_[a - 1].push_back(b);
      }
    }
    return g;
  }
  // Ring order: Fisher-Yates shuffle of 1..n keyed by the public seed and round.
  Bytes info = {'g', 'r', 'a', 'p', 'h'};
  for (int b = 0; b < 8; ++b) info.push_back(static_cast<uint8_t>(c.round >> (8 * b)));
  Secret32 seed(c.graph_seed);
  ASSIGN_OR_RETURN(Secret32 key, HkdfSha256Key(seed, "fedsmear-secagg-v1", info));
  ASSIGN_OR_RETURN(AesCtrPrg prg, AesCtrPrg::Create(key));
  std::vector<uint32_t> ring(n);
  for (uint32_t i = 0; i < n; ++i) ring[i] = i + 1;
  for (uint32_t i = n - 1; i > 0; --i) {
    ASSIGN_OR_RETURN(uint32_t j, UniformBelow(prg, i + 1));
    std::swap(ring[i], ring[j]);
  }
  for (uint32_t p = 0; p < n; ++p) {
    for (uint32_t d = 1; d <= k / 2; ++d) {
      g.adjacency_[ring[p] - 1].push_back(ring[(p + d) % n]);
      g.adjacency_[ring[p] - 1].push_back(ring[(p + n - d) % n]);
    }
  }
  for (auto& nb : g.adjacency_) std::sort(nb.begin(), nb.end());
  return g;
}

const std::vector<uint32_t>& NeighbourGraph::Neighbours(uint32_t site) const {
  if (site == 0 || site > adjacency_.size()) return empty_;
  return adjacency_[site - 1];
}

bool NeighbourGraph::AreNeighbours(uint32_t a, uint32_t b) const {
  const auto& nb = Neighbours(a);
  return std::binary_search(nb.begin(), nb.end(), b);
}

std::vector<uint32_t> NeighbourGraph::ShareGroup(uint32_t owner) const {
  if (owner == 0 || owner > adjacency_.size()) return {};
  std::vector<uint32_t> group = adjacency_[owner - 1];
  group.insert(std::upper_bound(group.begin(), group.end(), owner), owner);
  return group;
}

uint32_t NeighbourGraph::ShareIndex(uint32_t owner, uint32_t holder) const {
  const std::vector<uint32_t> group = ShareGroup(owner);
  auto it = std::lower_bound(group.begin(), group.end(), holder);
  if (it == group.end() || *it != holder) return 0;
  return static_cast<uint32_t>(it - group.begin()) + 1;
}

}  // namespace fedsmear::secagg
