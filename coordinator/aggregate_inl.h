// Template definitions for coordinator/aggregate.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fedsmear {

template <typename Rng>
std::vector<size_t> SampleSites(size_t n, double fraction, int min_sites, Rng& rng) {
  size_t want = static_cast<size_t>(std::ceil(fraction * static_cast<double>(n)));
  want = std::min(n, std::max(want, static_cast<size_t>(std::max(min_sites, 0))));
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  // Partial Fisher-Yates with the caller's generator (reproducible across platforms).
  for (size_t i = 0; i < want; ++i) {
    size_t j = i + static_cast<size_t>(rng() % (n - i));
    std::swap(all[i], all[j]);
  }
  all.resize(want);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace fedsmear
