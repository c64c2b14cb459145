// In-memory SecAgg+ federations for tests: n secagg::Site objects and a Server exchanging the
// stage messages directly (shared by protocol_test.cc and malicious_test.cc; header-only).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "secagg/server.h"
#include "secagg/site.h"

namespace fedsmear::secagg::test_federation {

struct Federation {
  Config config;
  std::vector<Site> sites;  // sites[i] has id i+1
  std::optional<Server> server;
};

inline Federation MakeFederation(uint32_t n, uint32_t t, uint32_t k, size_t len, uint32_t bits = 32) {
  Federation f;
  f.config.num_sites = n;
  f.config.threshold = t;
  f.config.neighbours = k;
  f.config.mask_bits = bits;
  f.config.vector_length = len;
  f.config.round = 3;
  f.config.graph_seed[0] = static_cast<uint8_t>(n);
  IdentityDirectory dir;
  std::vector<Ed25519KeyPair> ids;
  for (uint32_t i = 1; i <= n; ++i) {
    auto id = Ed25519KeyPair::Generate();
    EXPECT_TRUE(id.ok());
    dir[i] = id->public_key();
    ids.push_back(std::move(id).value());
  }
  for (uint32_t i = 1; i <= n; ++i) {
    auto site = Site::Create(f.config, i, std::move(ids[i - 1]), dir);
    EXPECT_TRUE(site.ok()) << site.status();
    f.sites.push_back(std::move(site).value());
  }
  auto server = Server::Create(f.config, dir);
  EXPECT_TRUE(server.ok()) << server.status();
  f.server.emplace(std::move(server).value());
  return f;
}

inline std::vector<std::vector<uint32_t>> RandomInputs(uint32_t n, size_t len, uint32_t bits, int seed) {
  std::mt19937 rng(seed);
  const uint32_t mask = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
  std::vector<std::vector<uint32_t>> x(n, std::vector<uint32_t>(len));
  for (auto& v : x)
    for (auto& w : v) w = rng() & mask;
  return x;
}

inline std::vector<uint32_t> PlainSum(const std::vector<std::vector<uint32_t>>& x,
                               const std::set<uint32_t>& survivors, uint32_t bits) {
  std::vector<uint32_t> sum(x[0].size(), 0);
  for (uint32_t id : survivors)
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += x[id - 1][i];
  if (bits < 32)
    for (auto& w : sum) w &= (1u << bits) - 1;
  return sum;
}

// Stages 1-2 for everyone.
inline void AdvertiseAndShare(Federation& f) {
  Server& s = *f.server;
  for (Site& site : f.sites) {
    auto keys = site.AdvertiseKeys();
    ASSERT_TRUE(keys.ok()) << keys.status();
    ASSERT_TRUE(s.AddAdvertisedKeys(*keys).ok());
  }
  ASSERT_TRUE(s.CloseAdvertiseStage().ok());
  for (Site& site : f.sites) {
    auto shares = site.ShareKeys(*s.KeysFor(site.id()));
    ASSERT_TRUE(shares.ok()) << shares.status();
    ASSERT_TRUE(s.AddEncryptedShares(site.id(), *shares).ok());
  }
  ASSERT_TRUE(s.CloseShareStage().ok());
}

// Consistency round: every site in `survivors` signs the set, and the server collects it.
inline Status SignSurvivors(Federation& f, const std::vector<uint32_t>& survivors) {
  for (uint32_t id : survivors) {
    ASSIGN_OR_RETURN(Signature64 signature, f.sites[id - 1].SignSurvivors(survivors));
    RETURN_IF_ERROR(f.server->AddConsistencySignature(id, signature));
  }
  return Status::Ok();
}

// Signatures of `signers` over `survivors`, as a coordinator relays them (without a server).
inline std::map<uint32_t, Signature64> SignedBy(Federation& f, const std::vector<uint32_t>& signers,
                                                const std::vector<uint32_t>& survivors) {
  std::map<uint32_t, Signature64> out;
  for (uint32_t id : signers) {
    auto signature = f.sites[id - 1].SignSurvivors(survivors);
    EXPECT_TRUE(signature.ok()) << signature.status();
    if (signature.ok()) out[id] = *signature;
  }
  return out;
}

// Full round; sites in `dropped` vanish after sharing keys. Returns the server's result.
inline Result<std::vector<uint32_t>> RunRound(Federation& f, const std::vector<std::vector<uint32_t>>& x,
                                       const std::set<uint32_t>& dropped) {
  AdvertiseAndShare(f);
  Server& s = *f.server;
  for (Site& site : f.sites) {
    if (dropped.count(site.id())) continue;
    ASSIGN_OR_RETURN(MaskedInput y, site.MaskInput(*s.SharesFor(site.id()), x[site.id() - 1]));
    RETURN_IF_ERROR(s.AddMaskedInput(y));
  }
  ASSIGN_OR_RETURN(UnmaskRequest request, s.CloseMaskStage());
  RETURN_IF_ERROR(SignSurvivors(f, request.survivors));
  for (Site& site : f.sites) {
    if (dropped.count(site.id())) continue;
    ASSIGN_OR_RETURN(UnmaskResponse r, site.Unmask(s.RequestFor(site.id())));
    RETURN_IF_ERROR(s.AddUnmaskResponse(r));
  }
  return s.Finish();
}

inline std::set<uint32_t> PickDropped(uint32_t n, uint32_t count, int seed) {
  std::vector<uint32_t> ids(n);
  std::iota(ids.begin(), ids.end(), 1);
  std::mt19937 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  return std::set<uint32_t>(ids.begin(), ids.begin() + count);
}

inline std::set<uint32_t> Survivors(uint32_t n, const std::set<uint32_t>& dropped) {
  std::set<uint32_t> s;
  for (uint32_t i = 1; i <= n; ++i)
    if (!dropped.count(i)) s.insert(i);
  return s;
}

}  // namespace fedsmear::secagg::test_federation
