#include "secagg/votes.h"

#include <algorithm>
#include <cmath>

#include "models/contribution.h"

namespace fedsmear::secagg {
namespace {

Status CheckBits(uint32_t bits) {
  if (bits < 1 || bits > 32) return InvalidArgument("votes: bits must be in 1..32");
  return Status::Ok();
}

uint64_t FieldMask(uint32_t bits) { return (uint64_t{1} << bits) - 1; }

}  // namespace

std::vector<uint32_t> VoteWeights(const std::vector<uint64_t>& sizes) {
  const uint64_t largest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  std::vector<uint32_t> out;
  for (uint64_t n : sizes) {
    const double share = largest == 0 ? 1.0 : static_cast<double>(n) / static_cast<double>(largest);
    out.push_back(std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(share * kMaxVoteWeight))));
  }
  return out;
}

bool VoteWeightsRevealOnlyCount(const std::vector<uint32_t>& weights) {
  if (weights.empty() || weights.front() == 0) return false;
  return std::all_of(weights.begin(), weights.end(),
                     [&](uint32_t w) { return w == weights.front(); });
}

std::vector<uint32_t> SecureVoteWeights(size_t num_sites) {
  return std::vector<uint32_t>(num_sites, 1);
}

uint32_t VoteFieldBits(uint64_t total_weight) {
  uint32_t bits = 0;
  while (bits < 64 && (uint64_t{1} << bits) <= total_weight) ++bits;
  return std::min<uint32_t>(bits, 64);
}

size_t PackedVoteWords(size_t count, uint32_t bits) {
  if (bits < 1 || bits > 32) return 0;
  const size_t per_word = 32 / bits;
  return (count + per_word - 1) / per_word;
}

Result<std::vector<uint32_t>> PackVotes(const float* latent, size_t count, uint32_t weight,
                                        uint32_t bits) {
  RETURN_IF_ERROR(CheckBits(bits));
  if (weight == 0 || weight > FieldMask(bits)) {
    return InvalidArgument("votes: weight " + std::to_string(weight) + " does not fit in " +
                           std::to_string(bits) + " bits");
  }
  const size_t per_word = 32 / bits;
  std::vector<uint32_t> words(PackedVoteWords(count, bits), 0);
  for (size_t i = 0; i < count; ++i) {
    if (std::isnan(latent[i])) return InvalidArgument("votes: NaN at index " + std::to_string(i));
    if (VotesPlus(latent[i])) {
      words[i / per_word] |= weight << (bits * static_cast<uint32_t>(i % per_word));
    }
  }
  return words;
}

Result<std::vector<uint32_t>> UnpackVoteSums(const uint32_t* words, size_t num_words, size_t count,
                                             uint32_t bits) {
  RETURN_IF_ERROR(CheckBits(bits));
  if (num_words != PackedVoteWords(count, bits)) {
    return InvalidArgument("votes: " + std::to_string(num_words) + " words cannot hold " +
                           std::to_string(count) + " coordinates of " + std::to_string(bits) +
                           " bits");
  }
  const size_t per_word = 32 / bits;
  std::vector<uint32_t> sums(count);
  for (size_t i = 0; i < count; ++i) {
    const uint32_t shift = bits * static_cast<uint32_t>(i % per_word);
    sums[i] = static_cast<uint32_t>((uint64_t{words[i / per_word]} >> shift) & FieldMask(bits));
  }
  return sums;
}

}  // namespace fedsmear::secagg
