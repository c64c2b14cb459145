#include "secagg/votes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace fedsmear::secagg {
namespace {

TEST(VotesTest, WeightsAndFieldWidth) {
  EXPECT_EQ(VoteWeights({100, 50, 1}), (std::vector<uint32_t>{15, 8, 1}));
  EXPECT_EQ(VoteWeights({7, 7}), (std::vector<uint32_t>{15, 15}));
  EXPECT_TRUE(VoteWeights({}).empty());
  EXPECT_EQ(VoteFieldBits(0), 0u);
  EXPECT_EQ(VoteFieldBits(1), 1u);
  EXPECT_EQ(VoteFieldBits(15), 4u);
  EXPECT_EQ(VoteFieldBits(16), 5u);
  EXPECT_EQ(VoteFieldBits(60), 6u);  // 4 sites of weight 15
  EXPECT_EQ(PackedVoteWords(10, 6), 2u);  // 5 per word
  EXPECT_EQ(PackedVoteWords(11, 6), 3u);
  EXPECT_EQ(PackedVoteWords(3, 32), 3u);
}

// The sum of the sites' packed words (mod 2^32, as the unmasked SecAgg+ sum) unpacks to the
// per-coordinate weighted vote counts, also when every site votes + with the largest weight.
TEST(VotesTest, PackedWordsSumToPerCoordinateCounts) {
  std::mt19937 rng(7);
  std::normal_distribution<float> latent(0.0f, 1.0f);
  const std::vector<uint32_t> weights = {15, 9, 15, 1};
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  const uint32_t bits = VoteFieldBits(total);
  for (size_t count : {1u, 5u, 6u, 1001u}) {
    std::vector<uint32_t> sum_words(PackedVoteWords(count, bits), 0);
    std::vector<uint32_t> expected(count, 0);
    for (size_t k = 0; k < weights.size(); ++k) {
      std::vector<float> x(count);
      for (size_t i = 0; i < count; ++i) {
        x[i] = (i % 7 == 0) ? 0.5f : latent(rng);  // every 7th coordinate: all sites vote +
        if (x[i] >= 0) expected[i] += weights[k];
      }
      auto words = PackVotes(x.data(), count, weights[k], bits);
      ASSERT_TRUE(words.ok()) << words.status();
      for (size_t j = 0; j < words->size(); ++j) sum_words[j] += (*words)[j];  // wraps mod 2^32
    }
    auto sums = UnpackVoteSums(sum_words.data(), sum_words.size(), count, bits);
    ASSERT_TRUE(sums.ok()) << sums.status();
    EXPECT_EQ(*sums, expected) << count << " coordinates";
    EXPECT_EQ((*sums)[0], total);
  }
}

TEST(VotesTest, BadInputsAreRefused) {
  float x[3] = {1, -1, 0};
  EXPECT_FALSE(PackVotes(x, 3, 16, 4).ok());  // weight does not fit
  EXPECT_FALSE(PackVotes(x, 3, 0, 4).ok());
  EXPECT_FALSE(PackVotes(x, 3, 1, 0).ok());
  EXPECT_FALSE(PackVotes(x, 3, 1, 33).ok());
  float nan[1] = {std::nanf("")};
  EXPECT_FALSE(PackVotes(nan, 1, 1, 4).ok());
  uint32_t words[2] = {0, 0};
  EXPECT_FALSE(UnpackVoteSums(words, 2, 20, 4).ok());  // 20 coordinates need 3 words
  EXPECT_TRUE(UnpackVoteSums(words, 2, 16, 4).ok());
}

}  // namespace
}  // namespace fedsmear::secagg
