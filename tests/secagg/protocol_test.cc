// End-to-end SecAgg+ rounds: n sites and a server exchanging the stage messages in memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <set>

#include "secagg/quantize.h"
#include "secagg/server.h"
#include "secagg/site.h"
#include "tests/secagg/secagg_federation.h"

namespace fedsmear::secagg {
namespace {

using namespace test_federation;  // NOLINT(build/namespaces): test-local helpers

// Complete graph (plain SecAgg): any dropout set leaving >= t survivors must work.
TEST(SecAggProtocolTest, ExactSumCompleteGraphWithDropouts) {
  const size_t len = 257;
  for (uint32_t n = 2; n <= 20; ++n) {
    const uint32_t t = n == 2 ? 1 : std::max<uint32_t>(2, 2 * n / 3);
    for (uint32_t drops : {0u, 1u, n - t}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " t=" + std::to_string(t) +
                   " drops=" + std::to_string(drops));
      Federation f = MakeFederation(n, t, n - 1, len);
      const auto x = RandomInputs(n, len, 32, static_cast<int>(n * 100 + drops));
      const auto dropped = PickDropped(n, drops, static_cast<int>(n + drops));
      auto sum = RunRound(f, x, dropped);
      ASSERT_TRUE(sum.ok()) << sum.status();
      EXPECT_EQ(*sum, PlainSum(x, Survivors(n, dropped), 32));
    }
  }
}

// Sparse SecAgg+ graphs (default k): 0 and 1 dropouts always work; n-t random dropouts work
// exactly when every needed secret still has t shares among survivors, else a clean abort.
TEST(SecAggProtocolTest, ExactSumSparseGraph) {
  const size_t len = 100;
  for (uint32_t n : {14u, 17u, 20u, 40u}) {
    const uint32_t k = DefaultNeighbourCount(n, 0);
    const uint32_t t = RecommendedThreshold(k);
    ASSERT_LT(k, n - 1);
    for (uint32_t drops : {0u, 1u, n - t}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " k=" + std::to_string(k) +
                   " t=" + std::to_string(t) + " drops=" + std::to_string(drops));
      Federation f = MakeFederation(n, t, 0, len, 20);
      const auto x = RandomInputs(n, len, 20, static_cast<int>(n * 7 + drops));
      const auto dropped = PickDropped(n, drops, static_cast<int>(n * 3 + drops));
      const auto survivors = Survivors(n, dropped);
      auto sum = RunRound(f, x, dropped);
      bool recoverable = true;  // every site's group keeps >= t survivors (graph of the round)
      for (uint32_t id = 1; id <= n; ++id) {
        uint32_t alive = 0;
        for (uint32_t m : f.server->graph().ShareGroup(id)) alive += survivors.count(m);
        recoverable = recoverable && alive >= t;
      }
      if (drops <= 1) {
        ASSERT_TRUE(recoverable);
      }
      if (recoverable) {
        ASSERT_TRUE(sum.ok()) << sum.status();
        EXPECT_EQ(*sum, PlainSum(x, survivors, 20));
      } else {
        ASSERT_FALSE(sum.ok());
        EXPECT_EQ(sum.status().code(), StatusCode::kAborted) << sum.status();
      }
    }
  }
}

TEST(SecAggProtocolTest, FewerThanTSurvivorsAbortsCleanly) {
  const uint32_t n = 10, t = 6;
  Federation f = MakeFederation(n, t, n - 1, 32);
  const auto x = RandomInputs(n, 32, 32, 1);
  auto sum = RunRound(f, x, PickDropped(n, n - t + 1, 2));
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kAborted) << sum.status();
}

TEST(SecAggProtocolTest, TooFewUnmaskResponsesAbortsCleanly) {
  const uint32_t n = 8, t = 5;
  Federation f = MakeFederation(n, t, n - 1, 16);
  const auto x = RandomInputs(n, 16, 32, 3);
  AdvertiseAndShare(f);
  Server& s = *f.server;
  for (Site& site : f.sites) {
    auto y = site.MaskInput(*s.SharesFor(site.id()), x[site.id() - 1]);
    ASSERT_TRUE(y.ok());
    ASSERT_TRUE(s.AddMaskedInput(*y).ok());
  }
  auto request = s.CloseMaskStage();
  ASSERT_TRUE(request.ok());
  ASSERT_TRUE(SignSurvivors(f, request->survivors).ok());
  for (uint32_t i = 0; i < t - 1; ++i) {  // only t-1 survivors answer stage 4
    ASSERT_TRUE(s.AddUnmaskResponse(*f.sites[i].Unmask(s.RequestFor(i + 1))).ok());
  }
  auto sum = s.Finish();
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kAborted);
}

TEST(SecAggProtocolTest, MaskedVectorLooksUniform) {
  const uint32_t n = 5;
  const size_t len = 1 << 16;
  Federation f = MakeFederation(n, 3, n - 1, len);
  AdvertiseAndShare(f);
  Server& s = *f.server;
  std::vector<uint32_t> x(len);
  for (size_t i = 0; i < len; ++i) x[i] = static_cast<uint32_t>(i % 7);  // highly structured
  auto y = f.sites[0].MaskInput(*s.SharesFor(1), x);
  ASSERT_TRUE(y.ok());
  size_t equal = 0;
  std::vector<double> ones(32, 0);
  std::vector<double> bins(256, 0);
  for (size_t i = 0; i < len; ++i) {
    const uint32_t v = y->masked[i];
    equal += v == x[i];
    for (int b = 0; b < 32; ++b) ones[b] += (v >> b) & 1;
    bins[v >> 24] += 1;
  }
  EXPECT_LE(equal, 2u);
  const double sigma = std::sqrt(len * 0.25);
  for (int b = 0; b < 32; ++b) EXPECT_NEAR(ones[b], len / 2.0, 5 * sigma) << "bit " << b;
  double chi2 = 0;
  const double expected = len / 256.0;
  for (double c : bins) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 255 + 6 * std::sqrt(2 * 255.0));  // df = 255
  EXPECT_GT(chi2, 255 - 6 * std::sqrt(2 * 255.0));
}

TEST(SecAggProtocolTest, TamperedShareCiphertextDetected) {
  const uint32_t n = 5;
  Federation f = MakeFederation(n, 3, n - 1, 8);
  AdvertiseAndShare(f);
  auto received = *f.server->SharesFor(2);
  ASSERT_FALSE(received.empty());
  received[0].ciphertext[20] ^= 0x10;
  auto y = f.sites[1].MaskInput(received, std::vector<uint32_t>(8, 1));
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::kCorrupt) << y.status();

  // A ciphertext relabelled as coming from another neighbour fails authentication too.
  auto relabelled = *f.server->SharesFor(3);
  std::swap(relabelled[0].from, relabelled[1].from);
  auto y3 = f.sites[2].MaskInput(relabelled, std::vector<uint32_t>(8, 1));
  EXPECT_EQ(y3.status().code(), StatusCode::kCorrupt) << y3.status();
}

TEST(SecAggProtocolTest, WrongAdvertisedKeySignatureDetected) {
  const uint32_t n = 4;
  Federation f = MakeFederation(n, 2, n - 1, 8);
  std::vector<AdvertisedKeys> keys;
  for (Site& site : f.sites) keys.push_back(*site.AdvertiseKeys());
  // The server rejects a forged signature.
  AdvertisedKeys forged = keys[1];
  forged.signature[0] ^= 1;
  EXPECT_EQ(f.server->AddAdvertisedKeys(forged).code(), StatusCode::kPermissionDenied);
  // A site rejects keys swapped in by a malicious relay (valid signature, wrong content).
  std::vector<AdvertisedKeys> relayed = keys;
  relayed[1].s_pk = keys[2].s_pk;
  auto shares = f.sites[0].ShareKeys(relayed);
  ASSERT_FALSE(shares.ok());
  EXPECT_EQ(shares.status().code(), StatusCode::kPermissionDenied) << shares.status();
  // A replay from another round is refused even with its genuine signature.
  for (const AdvertisedKeys& k : keys) ASSERT_TRUE(f.server->AddAdvertisedKeys(k).ok());
  AdvertisedKeys old = keys[2];
  old.round = 2;
  std::vector<AdvertisedKeys> replay = keys;
  replay[2] = old;
  EXPECT_EQ(f.sites[3].ShareKeys(replay).status().code(), StatusCode::kPermissionDenied);
}

TEST(SecAggProtocolTest, SiteNeverRevealsBothSharesOfAPeer) {
  const uint32_t n = 6;
  Federation f = MakeFederation(n, 4, n - 1, 8);
  AdvertiseAndShare(f);
  Server& s = *f.server;
  for (Site& site : f.sites) {
    auto y = site.MaskInput(*s.SharesFor(site.id()), std::vector<uint32_t>(8, site.id()));
    ASSERT_TRUE(y.ok());
  }
  Site& site = f.sites[0];
  const std::vector<uint32_t> survivors = {1, 2, 3, 4, 5};
  UnmaskRequest honest{survivors, {6}, SignedBy(f, survivors, survivors)};
  auto first = site.Unmask(honest);
  ASSERT_TRUE(first.ok());
  for (const RevealedShare& r : first->shares) {
    EXPECT_EQ(r.kind, r.owner == 6 ? ShareKind::kMaskingKey : ShareKind::kSelfMaskSeed);
  }
  // Now claim site 2 dropped (to get its s_sk share) and site 6 survived (to get its b share).
  UnmaskRequest lying{{1, 3, 4, 5, 6}, {2}};
  auto second = site.Unmask(lying);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kPermissionDenied);
  // Both kinds for one peer in a single request.
  UnmaskRequest both{{1, 2, 3, 4, 5}, {5}};
  EXPECT_EQ(f.sites[1].Unmask(both).status().code(), StatusCode::kPermissionDenied);
  // Listing the site itself as dropped is refused.
  UnmaskRequest self_dropped{{1, 2, 4, 5, 6}, {3}};
  EXPECT_EQ(f.sites[2].Unmask(self_dropped).status().code(), StatusCode::kPermissionDenied);
  // A consistent retry still works.
  EXPECT_TRUE(site.Unmask(honest).ok());
}

TEST(SecAggProtocolTest, TamperedRevealedShareDetectedByServer) {
  const uint32_t n = 6;
  Federation f = MakeFederation(n, 4, n - 1, 8);
  AdvertiseAndShare(f);
  Server& s = *f.server;
  for (Site& site : f.sites) {
    auto y = site.MaskInput(*s.SharesFor(site.id()), std::vector<uint32_t>(8, 1));
    ASSERT_TRUE(y.ok());
    ASSERT_TRUE(s.AddMaskedInput(*y).ok());
  }
  auto request = s.CloseMaskStage();
  ASSERT_TRUE(SignSurvivors(f, request->survivors).ok());
  for (Site& site : f.sites) {
    auto r = site.Unmask(s.RequestFor(site.id()));
    ASSERT_TRUE(r.ok());
    if (site.id() == 2) r->shares[0].share.values[1] ^= 1;
    ASSERT_TRUE(s.AddUnmaskResponse(*r).ok());
  }
  auto sum = s.Finish();
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kCorrupt) << sum.status();
}

TEST(SecAggProtocolTest, QuantizedMeanThroughSecureAggregation) {
  const uint32_t n = 7;
  const size_t len = 500;
  Federation f = MakeFederation(n, 4, n - 1, len);
  QuantizationParams q{0.5f, 32, n};
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  std::vector<std::vector<float>> floats(n, std::vector<float>(len));
  std::vector<std::vector<uint32_t>> x;
  for (uint32_t i = 0; i < n; ++i) {
    for (auto& v : floats[i]) v = dist(rng);
    x.push_back(*Quantize(floats[i].data(), len, q, 1000 + i));
  }
  auto sum = RunRound(f, x, {4});
  ASSERT_TRUE(sum.ok()) << sum.status();
  auto mean = DequantizeMean(*sum, q, n - 1);
  ASSERT_TRUE(mean.ok());
  for (size_t j = 0; j < len; ++j) {
    double m = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (i == 3) continue;  // site 4 dropped
      m += std::clamp(floats[i][j], -0.5f, 0.5f);
    }
    EXPECT_NEAR((*mean)[j], m / (n - 1), 1e-6);
  }
}

TEST(SecAggProtocolTest, StagesOutOfOrderRefused) {
  Federation f = MakeFederation(3, 2, 2, 4);
  EXPECT_EQ(f.sites[0].ShareKeys({}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.sites[0].Unmask({}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.server->Finish().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.server->CloseMaskStage().status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fedsmear::secagg
