// Issue 16, attacks 1, 2 and 4 at the site: a malicious coordinator's SecAggSetup and TrainTask
// fed straight into SecAggSession / SecAggPolicy. Each test documents how the attack went
// against the old code and asserts the refusal now, next to the honest setup that still runs.
#include "secagg/site_policy.h"

#include <gtest/gtest.h>

#include <cstring>

#include "secagg/crypto.h"
#include "secagg/site_secagg.h"

namespace fedsmear {
namespace {

struct Member {
  std::string name;
  secagg::Secret32 seed;
  std::string pub;  // raw 32 bytes
};

Member NewMember(const std::string& name) {
  auto seed = secagg::RandomSecret32();
  EXPECT_TRUE(seed.ok());
  auto pair = secagg::Ed25519KeyPair::FromPrivate(*seed);
  EXPECT_TRUE(pair.ok());
  const auto& pk = pair->public_key();
  return {name, *seed, std::string(reinterpret_cast<const char*>(pk.data()), pk.size())};
}

wire::SecAggSetup MakeSetup(const std::vector<Member>& members, uint32_t t, uint32_t k) {
  wire::SecAggSetup s;
  s.round = 1;
  s.task_id = 9;
  for (size_t i = 0; i < members.size(); ++i) {
    s.sites.push_back({members[i].name, static_cast<uint32_t>(i + 1), members[i].pub, 0, 100});
  }
  s.weight_cap = 1000;
  s.threshold = t;
  s.neighbours = k;
  s.mask_bits = 32;
  s.graph_seed = std::string(32, '\x05');
  s.clip = 4;
  s.stat_clip = 4096;
  s.total_weight = 100 * members.size();
  s.vector_length = 64;
  return s;
}

SecAggPolicy NoRosterPolicy(uint32_t min_neighbours) {
  SecAggPolicy p;
  p.require_roster = false;
  p.min_neighbours = min_neighbours;
  return p;
}

SigningRoster RosterOf(const std::vector<Member>& members) {
  SigningRoster r;
  for (const Member& m : members) r[m.name] = m.pub;
  return r;
}

// Attack 2, Sybil peers. Old behaviour: the site checked only its own key in the setup's
// directory, so a coordinator could list the victim plus peers whose keys it made itself; the
// victim advertised keys and then sealed its shares to them. Now every peer must be on the
// consortium roster with the roster's key, and Start refuses before anything is sent.
TEST(SitePolicyTest, SybilPeersAreRefusedByTheRoster) {
  std::vector<Member> consortium = {NewMember("site-a"), NewMember("site-b"), NewMember("site-c")};
  SecAggPolicy policy;
  policy.roster = RosterOf(consortium);
  // Peers the coordinator invented: one under a real site's name, one under a new name.
  std::vector<Member> forged = {consortium[0], NewMember("site-b"), NewMember("sybil-1")};
  wire::SecAggKeys keys;
  SessionLedger ledger;
  auto evil = SecAggSession::Start(MakeSetup(forged, 2, 2), {"run-1", "site-a", 100}, consortium[0].seed,
                           policy, ledger, &keys);
  ASSERT_FALSE(evil.ok());
  EXPECT_EQ(evil.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(evil.status().message().find("site-b"), std::string::npos) << evil.status();
  std::vector<Member> sybil = {consortium[0], consortium[1], NewMember("sybil-1")};
  auto unknown =
      SecAggSession::Start(MakeSetup(sybil, 2, 2), {"run-1", "site-a", 100}, consortium[0].seed,
                           policy, ledger, &keys);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("not on the consortium roster"), std::string::npos);
  // The honest setup with the roster's keys starts.
  auto honest =
      SecAggSession::Start(MakeSetup(consortium, 2, 2), {"run-1", "site-a", 100}, consortium[0].seed,
                           policy, ledger, &keys);
  EXPECT_TRUE(honest.ok()) << honest.status();
}

// Attack 4, weak parameters. Old behaviour: any t >= RecommendedThreshold(k) for the k the
// coordinator sent passed, so k = 2, t = 2 among 20 sites was accepted (two colluders next to
// the victim rebuild its secrets). Now the site's own minimums apply.
TEST(SitePolicyTest, WeakParametersAreRefusedByLocalMinimums) {
  std::vector<Member> members;
  for (int i = 0; i < 20; ++i) members.push_back(NewMember("site-" + std::to_string(i)));
  SecAggPolicy policy;
  policy.require_roster = false;  // this test is about t and k
  policy.min_threshold = 4;
  policy.min_neighbours = 6;
  wire::SecAggKeys keys;
  SessionLedger ledger;
  auto weak = SecAggSession::Start(MakeSetup(members, 2, 2), {"run-1", "site-3", 100}, members[3].seed,
                           policy, ledger, &keys);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(weak.status().message().find("threshold 2"), std::string::npos) << weak.status();
  auto few = SecAggSession::Start(MakeSetup(members, 4, 4), {"run-1", "site-3", 100}, members[3].seed,
                           policy, ledger, &keys);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("min_secagg_neighbours"), std::string::npos);
  auto ok = SecAggSession::Start(MakeSetup(members, 4, 6), {"run-1", "site-3", 100}, members[3].seed,
                           policy, ledger, &keys);
  EXPECT_TRUE(ok.ok()) << ok.status();
  // Small federations: min_secagg_neighbours is capped at n-1 (complete graph).
  std::vector<Member> three(members.begin(), members.begin() + 3);
  SessionLedger small_ledger;
  EXPECT_TRUE(SecAggSession::Start(MakeSetup(three, 2, 2), {"run-1", "site-0", 100}, members[0].seed,
                           NoRosterPolicy(6), small_ledger, &keys)
                  .ok());
}

// Exhaustion: a setup claiming 10,000 sites, or a huge vector, is refused before it is sized.
TEST(SitePolicyTest, OversizedSetupsAreRefused) {
  std::vector<Member> members = {NewMember("a"), NewMember("b"), NewMember("c")};
  wire::SecAggSetup big = MakeSetup(members, 2, 2);
  for (uint32_t i = 4; i <= 10000; ++i) big.sites.push_back({"x" + std::to_string(i), i, "", 0, 1});
  big.neighbours = 9999;
  wire::SecAggKeys keys;
  SessionLedger ledger;
  auto r = SecAggSession::Start(big, {"run-1", "a", 100}, members[0].seed,
                           NoRosterPolicy(0), ledger, &keys);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at most 1000"), std::string::npos) << r.status();
  wire::SecAggSetup wide = MakeSetup(members, 2, 2);
  wide.vector_length = uint64_t{1} << 40;
  EXPECT_EQ(SecAggSession::Start(wide, {"run-1", "a", 100}, members[0].seed,
                           NoRosterPolicy(0), ledger, &keys).status().code(),
            StatusCode::kPermissionDenied);
}

// Attack 1 at the policy level (the wire-level test is coordinator/malicious_test.cc).
TEST(SitePolicyTest, RequireSecureAggregationRefusesPlainTasks) {
  SecAggPolicy policy;
  policy.require_secure = true;
  wire::TrainTask task;
  task.round = 4;
  task.input_size = 64;
  EXPECT_NE(policy.TaskRefusal(task).find("requires secure aggregation"), std::string::npos);
  task.secure_aggregation = false;
  EXPECT_FALSE(policy.TaskRefusal(task).empty());
  task.secure_aggregation = true;
  EXPECT_EQ(policy.TaskRefusal(task), "");
  task.input_size = 100000;
  EXPECT_NE(policy.TaskRefusal(task).find("input size"), std::string::npos);
}

TEST(SitePolicyTest, RosterParsing) {
  const std::string a(64, 'a'), b(64, 'b');
  auto two = ParseSigningRoster("# consortium\nsite-a " + a + "\nsite-b " + b + "  # ward 3\n");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ(two->at("site-a"), std::string(32, '\xaa'));
  EXPECT_FALSE(ParseSigningRoster("site-a " + a + "\nsite-b " + a + "\n").ok());  // one key twice
  EXPECT_FALSE(ParseSigningRoster("site-a " + a + "\nsite-a " + b + "\n").ok());  // one id twice
  EXPECT_FALSE(ParseSigningRoster("site-a nothex\n").ok());
  EXPECT_FALSE(ParseSigningRoster("# empty\n").ok());
  // Policy: require_secure_aggregation without a roster is a configuration error.
  SitePolicy p;
  p.require_secure_aggregation = true;
  EXPECT_FALSE(SecAggPolicy::FromConfig(p).ok());
}

}  // namespace
}  // namespace fedsmear
