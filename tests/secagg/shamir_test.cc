// Shamir sharing over GF(2^61-1) and the SecAgg+ neighbour graph.
#include "secagg/shamir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <set>

#include "secagg/config.h"

namespace fedsmear::secagg {
namespace {

Bytes Secret(size_t len, uint8_t base) {
  Bytes s(len);
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<uint8_t>(base * 31 + i * 7 + 0xA5);
  return s;
}

// All subsets of {0..n-1} of size k.
void ForEachSubset(uint32_t n, uint32_t k, const std::function<void(std::vector<uint32_t>)>& f) {
  std::vector<bool> pick(n, false);
  std::fill(pick.begin(), pick.begin() + k, true);
  do {
    std::vector<uint32_t> idx;
    for (uint32_t i = 0; i < n; ++i)
      if (pick[i]) idx.push_back(i);
    f(idx);
  } while (std::prev_permutation(pick.begin(), pick.end()));
}

TEST(ShamirTest, AnyTOfNReconstruct) {
  const Bytes secret = Secret(32, 1);
  const uint32_t t = 3, n = 6;
  auto shares = ShamirSplit(secret.data(), secret.size(), t, n);
  ASSERT_TRUE(shares.ok());
  for (uint32_t i = 0; i < n; ++i) EXPECT_EQ((*shares)[i].index, i + 1);
  int checked = 0;
  for (uint32_t k = t; k <= n; ++k) {
    ForEachSubset(n, k, [&](std::vector<uint32_t> idx) {
      std::vector<Share> subset;
      for (uint32_t i : idx) subset.push_back((*shares)[i]);
      auto r = ShamirCombine(subset, t, secret.size());
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->bytes(), secret);
      ++checked;
    });
  }
  EXPECT_EQ(checked, 20 + 15 + 6 + 1);
}

TEST(ShamirTest, FewerThanTSharesFail) {
  const Bytes secret = Secret(32, 2);
  auto shares = ShamirSplit(secret.data(), secret.size(), 4, 7);
  ASSERT_TRUE(shares.ok());
  std::vector<Share> three(shares->begin(), shares->begin() + 3);
  auto r = ShamirCombine(three, 4, secret.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  // A duplicated share does not count twice.
  three.push_back((*shares)[0]);
  EXPECT_EQ(ShamirCombine(three, 4, secret.size()).status().code(), StatusCode::kAborted);
}

TEST(ShamirTest, TamperedShareDetected) {
  const Bytes secret = Secret(32, 3);
  auto shares = ShamirSplit(secret.data(), secret.size(), 3, 5);
  ASSERT_TRUE(shares.ok());
  // More than t shares: the extras must lie on the polynomial -> always detected.
  std::vector<Share> all = *shares;
  all[1].values[2] = (all[1].values[2] + 1) % kShamirPrime;
  EXPECT_EQ(ShamirCombine(all, 3, secret.size()).status().code(), StatusCode::kCorrupt);
  // Exactly t shares, one value replaced by a random field element: caught by the chunk range
  // check (miss probability 2^-5 per 7-byte chunk, 2^-29 for the 4-byte last chunk; the seed is
  // fixed so the test is deterministic). A small targeted offset would pass this check; the
  // protocol relies on the >t consistency check and on s_pk for those.
  std::mt19937_64 rng(99);
  int caught = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const size_t chunk = trial % all[1].values.size();
    std::vector<Share> t_shares(shares->begin(), shares->begin() + 3);
    t_shares[1].values[chunk] = rng() & kShamirPrime;
    auto r = ShamirCombine(t_shares, 3, secret.size());
    caught += !r.ok() && r.status().code() == StatusCode::kCorrupt;
  }
  EXPECT_GE(caught, 180);                       // expected ~ 200 * (1 - 0.8 * 2^-5) = 195
  for (size_t chunk = 4; chunk < 5; ++chunk) {  // last chunk: 29 bits of redundancy
    std::vector<Share> t_shares(shares->begin(), shares->begin() + 3);
    t_shares[1].values[chunk] = rng() & kShamirPrime;
    auto r = ShamirCombine(t_shares, 3, secret.size());
    ASSERT_FALSE(r.ok()) << "chunk " << chunk;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  }
  // Two different shares with the same index.
  std::vector<Share> clash = {(*shares)[0], (*shares)[1], (*shares)[2], (*shares)[3]};
  clash[3].index = 1;
  EXPECT_EQ(ShamirCombine(clash, 3, secret.size()).status().code(), StatusCode::kCorrupt);
}

TEST(ShamirTest, OddLengthsAndThresholdOne) {
  for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{33}, size_t{64}}) {
    const Bytes secret = Secret(len, static_cast<uint8_t>(len));
    for (uint32_t t : {1u, 2u, 5u}) {
      auto shares = ShamirSplit(secret.data(), secret.size(), t, 5);
      ASSERT_TRUE(shares.ok());
      std::vector<Share> last(shares->end() - t, shares->end());
      auto r = ShamirCombine(last, t, len);
      ASSERT_TRUE(r.ok()) << "len " << len << " t " << t << ": " << r.status();
      EXPECT_EQ(r->bytes(), secret);
    }
  }
}

TEST(ShamirTest, SerializationRoundTripAndValidation) {
  const Bytes secret = Secret(32, 4);
  auto shares = ShamirSplit(secret.data(), secret.size(), 2, 3);
  ASSERT_TRUE(shares.ok());
  const Bytes wire = SerializeShare((*shares)[2]);
  EXPECT_EQ(wire.size(), 4u + 8u * ShamirChunkCount(32));
  auto parsed = ParseShare(wire.data(), wire.size(), ShamirChunkCount(32));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->index, 3u);
  EXPECT_EQ(parsed->values, (*shares)[2].values);
  EXPECT_EQ(ParseShare(wire.data(), wire.size() - 1, 5).status().code(), StatusCode::kCorrupt);
  Bytes big = wire;
  for (int b = 0; b < 8; ++b) big[4 + b] = 0xff;  // value >= p
  EXPECT_EQ(ParseShare(big.data(), big.size(), 5).status().code(), StatusCode::kCorrupt);
}

TEST(ShamirTest, BadParameters) {
  const Bytes secret = Secret(32, 5);
  EXPECT_EQ(ShamirSplit(secret.data(), secret.size(), 0, 3).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ShamirSplit(secret.data(), secret.size(), 4, 3).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ShamirSplit(secret.data(), 0, 1, 3).status().code(), StatusCode::kInvalidArgument);
}

TEST(NeighbourGraphTest, DefaultNeighbourCount) {
  EXPECT_EQ(DefaultNeighbourCount(2, 1), 1u);
  EXPECT_EQ(DefaultNeighbourCount(10, 4), 9u);  // complete: plain SecAgg
  EXPECT_EQ(DefaultNeighbourCount(13, 4), 12u);
  EXPECT_EQ(DefaultNeighbourCount(14, 4), 12u);  // ceil(3*log2 14) = 12 < 13
  EXPECT_EQ(DefaultNeighbourCount(50, 4), 18u);  // 17 rounded up to even
  EXPECT_EQ(DefaultNeighbourCount(1000, 4), 30u);
  EXPECT_EQ(DefaultNeighbourCount(50, 25), 26u);  // at least t
}

TEST(NeighbourGraphTest, SymmetricRegularDeterministic) {
  for (uint32_t n : {14u, 20u, 50u, 101u}) {
    Config c;
    c.num_sites = n;
    c.threshold = 3;
    c.vector_length = 1;
    c.round = 7;
    c.graph_seed[0] = 42;
    auto g = NeighbourGraph::Build(c);
    ASSERT_TRUE(g.ok()) << g.status();
    const uint32_t k = DefaultNeighbourCount(n, 3);
    EXPECT_EQ(g->degree(), k);
    for (uint32_t a = 1; a <= n; ++a) {
      const auto& nb = g->Neighbours(a);
      ASSERT_EQ(nb.size(), k) << "site " << a;
      EXPECT_EQ(std::set<uint32_t>(nb.begin(), nb.end()).size(), k);
      for (uint32_t b : nb) {
        EXPECT_NE(a, b);
        EXPECT_TRUE(g->AreNeighbours(b, a));
      }
      const auto group = g->ShareGroup(a);
      ASSERT_EQ(group.size(), k + 1);
      for (uint32_t i = 0; i < group.size(); ++i) EXPECT_EQ(g->ShareIndex(a, group[i]), i + 1);
    }
    auto again = NeighbourGraph::Build(c);
    c.graph_seed[0] = 43;
    auto other = NeighbourGraph::Build(c);
    bool same = true, differs = false;
    for (uint32_t a = 1; a <= n; ++a) {
      same = same && again->Neighbours(a) == g->Neighbours(a);
      differs = differs || other->Neighbours(a) != g->Neighbours(a);
    }
    EXPECT_TRUE(same);
    EXPECT_TRUE(differs);
  }
}

TEST(NeighbourGraphTest, ConfigValidation) {
  Config c;
  c.num_sites = 10;
  c.threshold = 11;
  c.vector_length = 4;
  EXPECT_EQ(ResolveConfig(c).status().code(), StatusCode::kInvalidArgument);  // t > k+1
  c.threshold = 3;
  c.neighbours = 5;  // odd and below n-1
  EXPECT_EQ(ResolveConfig(c).status().code(), StatusCode::kInvalidArgument);
  c.neighbours = 4;
  c.mask_bits = 33;
  EXPECT_EQ(ResolveConfig(c).status().code(), StatusCode::kInvalidArgument);
  c.mask_bits = 16;
  auto ok = ResolveConfig(c);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->neighbours, 4u);
  EXPECT_GT(RecommendedThreshold(4) * 2, 5u);
}

}  // namespace
}  // namespace fedsmear::secagg
