// Issue 16, attack 3 (unmask consistency): a malicious coordinator drives secagg::Site objects
// directly. Each test documents how the attack went against the old code and asserts the
// refusal now; the last one runs an honest round with the same parameters.
#include <gtest/gtest.h>

#include <numeric>

#include "secagg/server.h"
#include "secagg/site.h"
#include "tests/secagg/secagg_federation.h"

namespace fedsmear::secagg {
namespace {

using namespace test_federation;  // NOLINT(build/namespaces): test-local helpers

// n = 5, t = 3, complete graph: the example.
constexpr uint32_t kN = 5, kT = 3, kLen = 16;

// Old behaviour: relaying to site 1 only the shares of sites 2 and 3 made it mask with those
// two alone; asking sites 1, 4, 5 to unmask with survivors {1,4,5} and dropped {2,3} then gave
// the coordinator b1, s_sk2 and s_sk3, hence x1. Now site 1 refuses to mask at all.
TEST(SecAggMaliciousTest, ShareRelayOmittingPeersIsRefused) {
  Federation f = MakeFederation(kN, kT, kN - 1, kLen);
  AdvertiseAndShare(f);
  auto all = f.server->SharesFor(1);
  ASSERT_TRUE(all.ok());
  std::vector<EncryptedShares> partial;
  for (const EncryptedShares& e : *all) {
    if (e.from == 2 || e.from == 3) partial.push_back(e);
  }
  auto masked = f.sites[0].MaskInput(partial, std::vector<uint32_t>(kLen, 7));
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ(masked.status().code(), StatusCode::kPermissionDenied) << masked.status();
  EXPECT_NE(masked.status().message().find("omits site 4"), std::string::npos) << masked.status();
  // The complete relay is accepted.
  EXPECT_TRUE(f.sites[0].MaskInput(*all, std::vector<uint32_t>(kLen, 7)).ok());
}

// The same attack one stage earlier: a key relay without sites 4 and 5 made site 1 share its
// secrets with {1,2,3} only. Now ShareKeys refuses a relay that omits a graph neighbour.
TEST(SecAggMaliciousTest, KeyRelayOmittingNeighboursIsRefused) {
  Federation f = MakeFederation(kN, kT, kN - 1, kLen);
  std::vector<AdvertisedKeys> keys;
  for (Site& site : f.sites) keys.push_back(*site.AdvertiseKeys());
  std::vector<AdvertisedKeys> partial(keys.begin(), keys.begin() + 3);  // sites 1..3
  auto shares = f.sites[0].ShareKeys(partial);
  ASSERT_FALSE(shares.ok());
  EXPECT_EQ(shares.status().code(), StatusCode::kPermissionDenied) << shares.status();
  EXPECT_TRUE(f.sites[1].ShareKeys(keys).ok());
}

// Old behaviour: ids were not range-checked, so a survivor list padded with ids that do not
// exist passed the "at least t survivors" test and made holders reveal masking-key shares of
// every neighbour listed as dropped. Now ids outside 1..n are refused.
TEST(SecAggMaliciousTest, UnmaskRequestWithIdsOutOfRangeIsRefused) {
  Federation f = MakeFederation(kN, kT, kN - 1, kLen);
  AdvertiseAndShare(f);
  for (Site& site : f.sites) {
    ASSERT_TRUE(site.MaskInput(*f.server->SharesFor(site.id()), std::vector<uint32_t>(kLen, 1)).ok());
  }
  UnmaskRequest padded{{1, 6, 7}, {2, 3, 4, 5}};
  auto r = f.sites[0].Unmask(padded);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  UnmaskRequest zero{{0, 1, 2}, {3}};
  EXPECT_EQ(f.sites[0].Unmask(zero).status().code(), StatusCode::kInvalidArgument);
  // Nothing was revealed, so an honest request (signed by the survivors) still works.
  const std::vector<uint32_t> all = {1, 2, 3, 4, 5};
  auto honest = f.sites[0].Unmask({all, {}, SignedBy(f, all, all)});
  ASSERT_TRUE(honest.ok()) << honest.status();
  EXPECT_EQ(honest->shares.size(), kN);
}

// Sparse SecAgg+ graph: a request naming sites outside the holder's share group is refused
// (old behaviour: silently accepted, counting foreign ids towards the t survivors).
TEST(SecAggMaliciousTest, UnmaskRequestOutsideTheShareGroupIsRefused) {
  const uint32_t n = 20, k = 6, t = RecommendedThreshold(k);
  Federation f = MakeFederation(n, t, k, kLen);
  AdvertiseAndShare(f);
  for (Site& s : f.sites) {
    ASSERT_TRUE(s.MaskInput(*f.server->SharesFor(s.id()), std::vector<uint32_t>(kLen, 1)).ok());
  }
  Site& site = f.sites[0];
  const std::vector<uint32_t> group = f.server->graph().ShareGroup(1);
  uint32_t stranger = 0;
  for (uint32_t i = 2; i <= n && stranger == 0; ++i) {
    if (!std::binary_search(group.begin(), group.end(), i)) stranger = i;
  }
  ASSERT_NE(stranger, 0u);
  std::vector<uint32_t> survivors = group;
  survivors.push_back(stranger);
  auto r = site.Unmask({survivors, {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status();
  std::vector<uint32_t> everyone(n);
  std::iota(everyone.begin(), everyone.end(), 1);
  EXPECT_TRUE(site.Unmask({group, {}, SignedBy(f, group, everyone)}).ok());
}

// The consistency round. Without it, a coordinator could tell different sites different
// survivor sets: site 4 "1 survived, 2 dropped" (its b1 and s_sk2 shares), site 5 the same, and
// site 3 "2 survived" ... collecting both kinds of shares for chosen sites across holders. Now a
// site signs one set per round, and unmasks only with t signatures of its group over that set.
TEST(SecAggMaliciousTest, UnmaskNeedsTSignaturesOverTheSetThisSiteSigned) {
  Federation f = MakeFederation(kN, kT, kN - 1, kLen);
  AdvertiseAndShare(f);
  for (Site& site : f.sites) {
    ASSERT_TRUE(site.MaskInput(*f.server->SharesFor(site.id()), std::vector<uint32_t>(kLen, 1)).ok());
  }
  const std::vector<uint32_t> set_a = {1, 3, 4, 5}, set_b = {1, 2, 3, 4};
  // Site 1 signs A; asked to sign B as well, it refuses.
  ASSERT_TRUE(f.sites[0].SignSurvivors(set_a).ok());
  EXPECT_EQ(f.sites[0].SignSurvivors(set_b).status().code(), StatusCode::kPermissionDenied);
  // An unmask request for B (2 survived, 5 dropped) is refused by the site that signed A...
  auto by_b = SignedBy(f, {2}, set_b);
  EXPECT_EQ(f.sites[0].Unmask({set_b, {5}, by_b}).status().code(), StatusCode::kPermissionDenied);
  // ... and so is a request for A with fewer than t = 3 valid signatures over A.
  auto by_a = SignedBy(f, {3, 4}, set_a);
  by_a[2] = by_b[2];  // a signature over another set does not count
  auto few = f.sites[0].Unmask({set_a, {2}, by_a});
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("consistency signatures"), std::string::npos)
      << few.status();
  // With t signatures over A it answers (b shares for A, s_sk share for 2).
  by_a.erase(2);
  by_a[1] = *f.sites[0].SignSurvivors(set_a);  // signing the same set again is fine
  auto ok = f.sites[0].Unmask({set_a, {2}, by_a});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->shares.size(), kN);
}

// Honest rounds with the attacked parameters still give the exact plaintext sum, with and
// without dropouts after masking, on the complete and on a sparse graph.
TEST(SecAggMaliciousTest, HonestRoundsStillMatchThePlaintextSum) {
  for (uint32_t drops : {0u, 2u}) {
    Federation f = MakeFederation(kN, kT, kN - 1, kLen);
    const auto x = RandomInputs(kN, kLen, 32, 11 + static_cast<int>(drops));
    const auto dropped = PickDropped(kN, drops, 5);
    auto sum = RunRound(f, x, dropped);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(*sum, PlainSum(x, Survivors(kN, dropped), 32));
  }
  const uint32_t n = 20, k = 6;
  Federation f = MakeFederation(n, RecommendedThreshold(k), k, kLen);
  const auto x = RandomInputs(n, kLen, 32, 4);
  auto sum = RunRound(f, x, {});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, PlainSum(x, Survivors(n, {}), 32));
}

}  // namespace
}  // namespace fedsmear::secagg
