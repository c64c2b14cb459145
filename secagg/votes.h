// Sign votes packed for SecAgg+: the secure form of the fedvote uplink.
//
// What: each site turns the signs of its binary-conv latent weights into votes: `weight` where
// the latent weight is >= 0 and 0 elsewhere (its integer vote weight, 1..2^bits-1), `bits` wide,
// floor(32 / bits) coordinates per 32-bit word, lowest bits first. The coordinator sums the
// masked words mod 2^32 (Config::mask_bits must be 32). Because the coordinator picks `bits` so
// that the sum of all sites' vote weights fits in a field (VoteFieldBits), no field ever carries
// into the next, so the unmasked sum of the packed words is the packing of the per-coordinate
// sums: P = sum of the weights of the sites voting +. With W = the survivors' total vote
// weight, the vote share is (2P - W) / W in [-1, 1], the same quantity the plain fedvote
// aggregator keeps (coordinator/vote.h), at a resolution of 1/W.
// Cost: 32 / floor(32 / bits) bits per binary weight, e.g. 6.4 bits for 4 sites with vote
// weights up to 15 (bits = 6), against 32 for a float delta.
// Thread-safety: pure functions. Ownership: returns new vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace fedsmear::secagg {

// Largest vote weight a site is given (weights are 1..kMaxVoteWeight, by training-set size).
inline constexpr uint32_t kMaxVoteWeight = 15;

// Integer vote weights proportional to `sizes` (the largest gets kMaxVoteWeight, every site at
// least 1). Empty input gives an empty result.
std::vector<uint32_t> VoteWeights(const std::vector<uint64_t>& sizes);

// Secure rounds: the unmasked sum of weight_i * vote_i reveals no more about any site's vote
// than the unweighted count of + votes exactly when all weights are equal (the sum is then
// weight * count). Any unequal weights give some coordinate where the sum fixes a site's vote
// and the count does not: with all sites but the lightest voting +, the sum W - w_min can only
// be reached with the heaviest site voting + (unless the heaviest weight equals w_min), while a
// count of n-1 leaves every site's vote open. Weight buckets, each shared by several sites,
// reveal every bucket's count and fail the same way (a bucket's count of 0 fixes its members'
// votes). So a site accepts a sign-vote setup only when this holds (site_policy.h).
// True when `weights` is non-empty and all its entries are equal and >= 1.
bool VoteWeightsRevealOnlyCount(const std::vector<uint32_t>& weights);

// Secure rounds' vote weights: 1 for each of `num_sites` sites (VoteWeightsRevealOnlyCount).
std::vector<uint32_t> SecureVoteWeights(size_t num_sites);

// Bits per coordinate so that `total_weight` (the sum of all vote weights) fits: 1..32, or 0
// when total_weight is 0.
uint32_t VoteFieldBits(uint64_t total_weight);

// Words needed for `count` coordinates at `bits` (1..32) per coordinate.
size_t PackedVoteWords(size_t count, uint32_t bits);

// Packs weight * [latent[i] >= 0] for i < count. kInvalidArgument when bits is not 1..32 or
// weight is 0 or does not fit in `bits`; NaN latent weights are refused.
Result<std::vector<uint32_t>> PackVotes(const float* latent, size_t count, uint32_t weight,
                                        uint32_t bits);

// The per-coordinate sums held in `words` (count coordinates at `bits` each).
Result<std::vector<uint32_t>> UnpackVoteSums(const uint32_t* words, size_t num_words, size_t count,
                                             uint32_t bits);

}  // namespace fedsmear::secagg
