// The contribution rule: what a site adds to a round's sum, and with which weight. One place for
// the three parties that apply it: the coordinator's plain sums (coordinator/plain_sum.h and the
// accumulators under it), a site's SecAgg+ input (secagg/site_secagg.h QuantizeForSetup), and
// the setup a SecAgg+ round hands to its sites (coordinator/secagg_collector.cc).
//
// A site i that trained x_i from the model g it received adds, per tensor:
//   binary-conv latent weights, when the strategy votes (SumSpec::binary_votes in
//   coordinator/round_sum.h): a vote u_i * s_i, s_i = +1 where x_i >= 0 (VotesPlus), -1 else;
//   every other tensor: w_i * (x_i - g).
// w_i = ContributionWeight(the site's training-set size as in its hello, max_site_samples): the
// coordinator computes it from the hello, and in a secure round each site checks the weight the
// setup names for it against its own count, so no weight can single a site out. u_i is w_i in
// plain rounds and the same integer for every site under SecAgg+ (secagg/votes.h
// SecureVoteWeights), so that the unmasked vote sum reveals only a count.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>

namespace fedsmear {

// A site's weight in a round's sum: its training-set size in 1..cap (cap < 1 counts as 1).
inline uint64_t ContributionWeight(uint64_t num_train, int64_t cap) {
  const uint64_t top = static_cast<uint64_t>(std::max<int64_t>(1, cap));
  return std::clamp<uint64_t>(num_train, 1, top);
}

// The sign a latent binary weight votes for: + at zero too, as sign packing and the 1-bit
// engine read it.
inline bool VotesPlus(float latent) { return latent >= 0.f; }

}  // namespace fedsmear
