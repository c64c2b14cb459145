// Session-level SecAgg+ federations for tests: real SecAggSession objects (the site's code) of
// roster members, driven by a test that plays the coordinator with wire messages (header-only;
// used by the Malicious*/Attack* tests).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "secagg/crypto.h"
#include "secagg/site_policy.h"
#include "secagg/site_secagg.h"
#include "secagg/votes.h"

namespace fedsmear::session_federation {

inline constexpr const char* kRun = "run-1";

struct Member {
  std::string name;
  secagg::Secret32 seed;
  std::string pub;  // raw 32 bytes
};

inline Member NewMember(const std::string& name) {
  auto seed = secagg::RandomSecret32();
  EXPECT_TRUE(seed.ok());
  auto pair = secagg::Ed25519KeyPair::FromPrivate(*seed);
  EXPECT_TRUE(pair.ok());
  const auto& pk = pair->public_key();
  return {name, *seed, std::string(reinterpret_cast<const char*>(pk.data()), pk.size())};
}

inline std::vector<Member> Consortium(size_t n) {
  std::vector<Member> out;
  for (size_t i = 0; i < n; ++i) out.push_back(NewMember("site-" + std::to_string(i + 1)));
  return out;
}

// Every test site holds this many training images (its weight, below the cap).
inline constexpr uint64_t kSiteImages = 100;

// Complete graph, t = RecommendedThreshold(n - 1), no sign votes, equal sample weights.
inline wire::SecAggSetup MakeSetup(const std::vector<Member>& members, uint32_t round = 1,
                                   uint64_t task_id = 9) {
  wire::SecAggSetup s;
  s.round = round;
  s.task_id = task_id;
  for (size_t i = 0; i < members.size(); ++i) {
    s.sites.push_back(
        {members[i].name, static_cast<uint32_t>(i + 1), members[i].pub, 0, kSiteImages});
  }
  s.weight_cap = 1000000;
  s.neighbours = static_cast<uint32_t>(members.size() - 1);
  s.threshold = secagg::RecommendedThreshold(s.neighbours);
  s.mask_bits = 32;
  s.graph_seed = std::string(32, '\x05');
  s.clip = 4;
  s.stat_clip = 4096;
  s.total_weight = kSiteImages * members.size();
  s.vector_length = 16;
  return s;
}

// Sign-vote rounds: `weights` per site and the vote field width their total needs.
inline wire::SecAggSetup WithVotes(wire::SecAggSetup s, const std::vector<uint32_t>& weights) {
  uint64_t total = 0;
  for (size_t i = 0; i < s.sites.size(); ++i) {
    s.sites[i].vote_weight = weights[i];
    total += weights[i];
  }
  s.vote_bits = secagg::VoteFieldBits(total);
  return s;
}

inline SecAggPolicy RosterPolicy(const std::vector<Member>& members) {
  SecAggPolicy p;
  p.require_secure = true;
  p.roster.emplace();
  for (const Member& m : members) (*p.roster)[m.name] = m.pub;
  return p;
}

// One site's daemon state for secure rounds: its policy, ledger and current session.
struct SiteUnderTest {
  Member member;
  SecAggPolicy policy;
  SessionLedger ledger;
  std::unique_ptr<SecAggSession> session;
  wire::SecAggKeys keys;

  Status Start(const wire::SecAggSetup& setup, const std::string& run = kRun) {
    auto s = SecAggSession::Start(setup, {run, member.name, kSiteImages}, member.seed, policy,
                                  ledger, &keys);
    if (!s.ok()) return s.status();
    session = std::move(*s);
    return Status::Ok();
  }
};

inline std::vector<SiteUnderTest> Sites(const std::vector<Member>& members) {
  std::vector<SiteUnderTest> out(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    out[i].member = members[i];
    out[i].policy = RosterPolicy(members);
  }
  return out;
}

// The key relay a coordinator builds from the sites' stage-1 answers (secagg ids 1..n).
inline wire::SecAggKeysRelay KeyRelay(const std::vector<SiteUnderTest>& sites, uint32_t round,
                                      uint64_t task_id) {
  wire::SecAggKeysRelay relay{round, task_id, {}};
  for (size_t i = 0; i < sites.size(); ++i) {
    const wire::SecAggKeys& k = sites[i].keys;
    relay.keys.push_back({static_cast<uint32_t>(i + 1), k.c_pk, k.s_pk, k.signature});
  }
  return relay;
}

// Stages 1-3 for every site with the same setup: each masks a vector of ones. Returns the
// first failure.
inline Status RunToMasked(std::vector<SiteUnderTest>& sites, const wire::SecAggSetup& setup) {
  for (SiteUnderTest& s : sites) RETURN_IF_ERROR(s.Start(setup));
  const wire::SecAggKeysRelay relay = KeyRelay(sites, setup.round, setup.task_id);
  std::vector<wire::SecAggShare> all;
  for (SiteUnderTest& s : sites) {
    ASSIGN_OR_RETURN(wire::SecAggShares shares, s.session->OnKeysRelay(relay));
    all.insert(all.end(), shares.shares.begin(), shares.shares.end());
  }
  for (size_t i = 0; i < sites.size(); ++i) {
    wire::SecAggSharesRelay mine{setup.round, setup.task_id, {}};
    for (const wire::SecAggShare& sh : all) {
      if (sh.to == i + 1) mine.shares.push_back(sh);
    }
    RETURN_IF_ERROR(sites[i].session->OnSharesRelay(mine));
    SecAggInput in;
    in.task_id = setup.task_id;
    in.quantized.assign(setup.vector_length, 1);
    RETURN_IF_ERROR(sites[i].session->SetInput(std::move(in)));
    ASSIGN_OR_RETURN(std::optional<wire::SecAggMasked> masked, sites[i].session->TakeMasked());
    if (!masked) return Internal("no masked input");
  }
  return Status::Ok();
}

}  // namespace fedsmear::session_federation
