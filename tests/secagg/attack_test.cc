// Issue 34 at the site: a malicious coordinator plays each attack against the real site code
// (SecAggSession, SecAggPolicy, secagg::Site, secagg::Server) and the site refuses it. Each test
// says how the attack went before, asserts the refusal now, and runs the honest variant.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "secagg/server.h"
#include "secagg/site.h"
#include "secagg/site_secagg_wire.h"
#include "secagg/votes.h"
#include "tests/secagg/session_federation.h"

namespace fedsmear {
namespace {

using namespace session_federation;  // NOLINT(build/namespaces): test-local helpers

bool Has(const Status& st, const std::string& text) {
  return st.message().find(text) != std::string::npos;
}

// Issue point 1. Before, a site packed its votes with whatever vote_weight the setup named. With
// weights 1, 2, 4, 8 the unmasked sum of the packed votes is a binary number whose bits are the
// sites' votes: the coordinator read every vote of every site. Now every site refuses the setup.
TEST(MaliciousVoteWeightsTest, PowerOfTwoWeightsThatDecodeEachVoteAreRefused) {
  const std::vector<Member> members = Consortium(4);
  const std::vector<uint32_t> weights = {1, 2, 4, 8};
  // The attack works on the arithmetic the site uses: pack, sum, read the bits back.
  const float latent[4][3] = {{1, -1, 1}, {-1, -1, 1}, {1, 1, -1}, {-1, 1, 1}};
  const uint32_t bits = secagg::VoteFieldBits(15);
  std::vector<uint32_t> sum(secagg::PackedVoteWords(3, bits), 0);
  for (int s = 0; s < 4; ++s) {
    auto packed = secagg::PackVotes(latent[s], 3, weights[s], bits);
    ASSERT_TRUE(packed.ok());
    for (size_t w = 0; w < sum.size(); ++w) sum[w] += (*packed)[w];
  }
  auto sums = secagg::UnpackVoteSums(sum.data(), sum.size(), 3, bits);
  ASSERT_TRUE(sums.ok());
  for (int s = 0; s < 4; ++s) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(((*sums)[c] >> s) & 1u, latent[s][c] >= 0 ? 1u : 0u);
  }
  // Every site refuses the setup that would allow it, and says why.
  std::vector<SiteUnderTest> sites = Sites(members);
  const wire::SecAggSetup evil = WithVotes(MakeSetup(members), weights);
  for (SiteUnderTest& s : sites) {
    Status st = s.Start(evil);
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st;
    EXPECT_TRUE(Has(st, "sign-vote weights differ")) << st;
  }
  // The coordinator's old sample-size weights (1..15) are refused the same way.
  const wire::SecAggSetup sized =
      WithVotes(MakeSetup(members), secagg::VoteWeights({900, 1200, 2500, 400}));
  EXPECT_EQ(sites[0].Start(sized).code(), StatusCode::kPermissionDenied);
  // Equal weights run; vote fields too narrow for their sum do not.
  const wire::SecAggSetup equal =
      WithVotes(MakeSetup(members, 1, 10), secagg::SecureVoteWeights(members.size()));
  for (SiteUnderTest& s : sites) EXPECT_TRUE(s.Start(equal).ok());
  wire::SecAggSetup narrow = equal;
  narrow.task_id = 11;
  narrow.vote_bits = 2;  // a sum of 4 needs 3 bits: fields would carry into each other
  EXPECT_TRUE(Has(sites[0].Start(narrow), "cannot hold a vote sum"));
}

// The property behind the check: for random vote weights, whatever a site accepts lets the sum
// fix no site's vote where the count of + votes leaves it open; and whatever it refuses would
// have (so the rule is as loose as the property allows). Enumerates every vote vector.
TEST(AttackVoteWeightsTest, AcceptedWeightsRevealNoVoteBeyondTheCount) {
  std::mt19937 rng(34);
  int accepted = 0, refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const auto n = static_cast<uint32_t>(3 + rng() % 7);          // 3..9 sites
    const auto spread = static_cast<uint32_t>(1 + rng() % 3);     // weights 1..spread
    const auto base = static_cast<uint32_t>(1 + rng() % 4);       // shifted by base - 1
    std::vector<uint32_t> w(n);
    for (uint32_t& x : w) x = base + static_cast<uint32_t>(rng() % spread);
    const std::vector<Member> members = Consortium(n);
    const wire::SecAggSetup setup = WithVotes(MakeSetup(members), w);
    auto config = SecAggConfigFromSetup(setup, kRun);
    ASSERT_TRUE(config.ok()) << config.status();
    const SecAggPolicy policy = RosterPolicy(members);
    const Status verdict = policy.CheckSetup(setup, *config, members[0].name);
    // sum -> for each site: votes seen (bit 0: voted 0, bit 1: voted 1); counts seen.
    std::map<uint64_t, std::vector<int>> seen;
    std::map<uint64_t, std::vector<uint32_t>> counts;
    for (uint32_t v = 0; v < (1u << n); ++v) {
      uint64_t sum = 0;
      for (uint32_t i = 0; i < n; ++i) sum += ((v >> i) & 1u) * w[i];
      auto& bits = seen[sum];
      bits.resize(n, 0);
      for (uint32_t i = 0; i < n; ++i) bits[i] |= 1 << ((v >> i) & 1u);
      counts[sum].push_back(static_cast<uint32_t>(__builtin_popcount(v)));
    }
    bool beyond_count = false;  // some site's vote fixed by the sum but not by the count
    for (const auto& [sum, bits] : seen) {
      const auto& c = counts[sum];
      const bool count_decides =
          std::all_of(c.begin(), c.end(), [&](uint32_t k) { return k == 0 || k == n; });
      for (uint32_t i = 0; i < n; ++i) beyond_count |= bits[i] != 3 && !count_decides;
    }
    if (verdict.ok()) {
      ++accepted;
      EXPECT_FALSE(beyond_count) << "accepted weights reveal a vote, n=" << n;
    } else {
      ++refused;
      EXPECT_TRUE(beyond_count) << "refused weights that reveal nothing: " << verdict;
    }
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(refused, 50);
}

// Issue point 2. Before, only the task id and the survivor set were signed: a coordinator gave
// the victim total_weight equal to its own weight and every other site 2^62, so the others'
// contributions vanished from the sum and the victim's update could be read from it. Now each
// site signs its setup's transcript with its round keys, and every site refuses the key relay
// as soon as one signer saw another setup, before any share leaves.
// Since protocol 5 the setup names every weight and a site checks that total_weight is their sum,
// so the per-site total is refused at once; a coordinator that keeps each setup consistent but
// lists the victim with a huge weight for the others is caught by the transcript.
TEST(MaliciousSetupTest, PerSiteTotalWeightIsolatingTheVictimIsRefused) {
  const std::vector<Member> members = Consortium(4);
  std::vector<SiteUnderTest> sites = Sites(members);
  const wire::SecAggSetup honest = MakeSetup(members);
  wire::SecAggSetup for_victim = honest;
  for_victim.total_weight = kSiteImages;  // the victim's own weight
  EXPECT_TRUE(Has(sites[0].Start(for_victim), "not the sum of its sites' weights"));
  wire::SecAggSetup for_others = honest;
  for_others.sites[0].weight = uint64_t{1} << 40;  // each other site checks only its own
  for_others.weight_cap = uint64_t{1} << 41;
  for_others.total_weight = for_others.sites[0].weight + 3 * kSiteImages;
  ASSERT_TRUE(sites[0].Start(honest).ok());
  for (size_t i = 1; i < sites.size(); ++i) ASSERT_TRUE(sites[i].Start(for_others).ok());
  const wire::SecAggKeysRelay relay = KeyRelay(sites, honest.round, honest.task_id);
  auto victim = sites[0].session->OnKeysRelay(relay);
  EXPECT_EQ(victim.status().code(), StatusCode::kPermissionDenied) << victim.status();
  for (size_t i = 1; i < sites.size(); ++i) {
    auto other = sites[i].session->OnKeysRelay(relay);
    ASSERT_FALSE(other.ok());
    EXPECT_TRUE(Has(other.status(), "site 1")) << other.status();  // the one that saw another setup
  }
  // Any other field, or another run id, is a different transcript too.
  wire::SecAggSetup changed = honest;
  changed.clip = 8;
  EXPECT_NE(SetupTranscript(changed, kRun), SetupTranscript(honest, kRun));
  EXPECT_NE(SetupTranscript(honest, "run-2"), SetupTranscript(honest, kRun));
  changed = honest;
  changed.sites[2].vote_weight = 1;
  EXPECT_NE(SetupTranscript(changed, kRun), SetupTranscript(honest, kRun));
  changed = honest;
  changed.sites[2].weight = 99;
  EXPECT_NE(SetupTranscript(changed, kRun), SetupTranscript(honest, kRun));
  changed = honest;
  changed.weight_cap = 99;
  EXPECT_NE(SetupTranscript(changed, kRun), SetupTranscript(honest, kRun));
  // The same setup everywhere runs through masking.
  std::vector<SiteUnderTest> fresh = Sites(members);
  EXPECT_TRUE(RunToMasked(fresh, MakeSetup(members, 1, 12)).ok());
}

// The coordinator's Server verifies signatures over its own transcript, and the consistency
// signature binds the transcript and the derived graph seed as well: a signature made for one
// setup never counts for another.
// Weights that single out one site: the victim keeps its true weight and every other site is
// named with weight 1, so the weighted sum is nearly the victim's update alone. Each site checks
// the weight it is given against its own training-set size (capped at the setup's weight_cap), so
// every other site refuses; the coordinator's one free choice, the cap, only equalises weights.
TEST(MaliciousSetupTest, WeightsThatSingleOutOneSiteAreRefused) {
  const std::vector<Member> members = Consortium(4);
  std::vector<SiteUnderTest> sites = Sites(members);
  wire::SecAggSetup evil = MakeSetup(members);
  for (size_t i = 1; i < evil.sites.size(); ++i) evil.sites[i].weight = 1;
  evil.total_weight = kSiteImages + 3;
  ASSERT_TRUE(sites[0].Start(evil).ok()) << "the victim's own weight is right";
  for (size_t i = 1; i < sites.size(); ++i) {
    EXPECT_TRUE(Has(sites[i].Start(evil), "could single out")) << i;
  }
  // A weight above the site's own count is refused the same way.
  std::vector<SiteUnderTest> again = Sites(members);
  wire::SecAggSetup inflated = MakeSetup(members, 1, 10);
  inflated.sites[0].weight = 10 * kSiteImages;
  inflated.total_weight += 9 * kSiteImages;
  EXPECT_TRUE(Has(again[0].Start(inflated), "could single out"));
  // An honest cap below the sites' counts gives everyone the cap: equal weights, accepted.
  std::vector<SiteUnderTest> capped = Sites(members);
  wire::SecAggSetup equal = MakeSetup(members, 1, 11);
  equal.weight_cap = 10;
  for (wire::SecAggSite& e : equal.sites) e.weight = 10;
  equal.total_weight = 40;
  for (SiteUnderTest& s : capped) EXPECT_TRUE(s.Start(equal).ok());
}

TEST(MaliciousSetupTest, ConsistencySignaturesBindTheTranscript) {
  std::array<uint8_t, 32> a{}, b{}, seed{};
  b[0] = 1;
  const std::vector<uint32_t> survivors = {1, 2, 3};
  EXPECT_NE(secagg::ConsistencyPayload(7, a, seed, survivors),
            secagg::ConsistencyPayload(7, b, seed, survivors));
  secagg::Config c;
  c.num_sites = 3;
  c.threshold = 2;
  c.neighbours = 2;
  c.vector_length = 4;
  c.round = 7;
  c.transcript = a;
  auto id = secagg::Ed25519KeyPair::Generate();
  ASSERT_TRUE(id.ok());
  const secagg::PublicKey32 pk = id->public_key();
  secagg::IdentityDirectory dir = {{1, pk}, {2, pk}, {3, pk}};
  auto site = secagg::Site::Create(c, 1, std::move(*id), dir);
  ASSERT_TRUE(site.ok());
  auto keys = site->AdvertiseKeys();
  ASSERT_TRUE(keys.ok());
  secagg::Config other = c;
  other.transcript = b;
  auto server_b = secagg::Server::Create(other, dir);
  ASSERT_TRUE(server_b.ok());
  EXPECT_EQ(server_b->AddAdvertisedKeys(*keys).code(), StatusCode::kPermissionDenied);
  auto server_a = secagg::Server::Create(c, dir);
  ASSERT_TRUE(server_a.ok());
  EXPECT_TRUE(server_a->AddAdvertisedKeys(*keys).ok());
}

// Every encoding of a small-order X25519 point: 0, 1, p - 1, the two points of order 8, the
// non-canonical p and p + 1, each also with the ignored top bit set.
std::vector<secagg::PublicKey32> SmallOrderKeys() {
  const std::vector<std::string> hex = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"};
  std::vector<secagg::PublicKey32> out;
  for (const std::string& h : hex) {
    secagg::PublicKey32 k{};
    for (size_t i = 0; i < 32; ++i) {
      k[i] = static_cast<uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
    }
    out.push_back(k);
    k[31] |= 0x80;
    out.push_back(k);
  }
  return out;
}

TEST(AttackSmallOrderKeyTest, TheCheckMatchesWhatX25519Kills) {
  auto mine = secagg::X25519KeyPair::Generate();
  ASSERT_TRUE(mine.ok());
  for (const secagg::PublicKey32& k : SmallOrderKeys()) {
    EXPECT_EQ(secagg::CheckX25519PublicKey(k).code(), StatusCode::kPermissionDenied);
    EXPECT_FALSE(mine->Agree(k).ok());  // the shared secret would be all zeros
  }
  for (int i = 0; i < 64; ++i) {
    auto peer = secagg::X25519KeyPair::Generate();
    ASSERT_TRUE(peer.ok());
    EXPECT_TRUE(secagg::CheckX25519PublicKey(peer->public_key()).ok());
  }
}

// Issue point 4. Before, a site advertised a validly signed small-order key; the coordinator
// relayed it, every honest neighbour's key agreement failed, they refused and were benched, and
// nothing named the culprit. Now the coordinator's Server refuses the key on arrival naming the
// sender (so the round goes on without it), and a site that is relayed such a key anyway
// refuses naming the sender, not itself.
TEST(MaliciousKeyTest, SmallOrderKeyIsRefusedOnArrivalNamingTheSender) {
  secagg::Config c;
  c.num_sites = 3;
  c.threshold = 2;
  c.neighbours = 2;
  c.vector_length = 4;
  c.round = 5;
  c.transcript[0] = 0x34;
  std::vector<secagg::Ed25519KeyPair> ids;
  secagg::IdentityDirectory dir;
  for (uint32_t i = 1; i <= 3; ++i) {
    auto id = secagg::Ed25519KeyPair::Generate();
    ASSERT_TRUE(id.ok());
    dir[i] = id->public_key();
    ids.push_back(std::move(*id));
  }
  auto evil_identity = secagg::Ed25519KeyPair::FromPrivate(secagg::Secret32());
  ASSERT_TRUE(evil_identity.ok());
  dir[3] = evil_identity->public_key();  // site 3 is the attacker; it signs what it likes
  auto victim = secagg::Site::Create(c, 1, std::move(ids[0]), dir);
  auto peer = secagg::Site::Create(c, 2, std::move(ids[1]), dir);
  ASSERT_TRUE(victim.ok() && peer.ok());
  auto server = secagg::Server::Create(c, dir);
  ASSERT_TRUE(server.ok());
  auto good = secagg::X25519KeyPair::Generate();
  ASSERT_TRUE(good.ok());
  for (const secagg::PublicKey32& bad : SmallOrderKeys()) {
    secagg::AdvertisedKeys evil;
    evil.site_id = 3;
    evil.round = c.round;
    evil.c_pk = good->public_key();
    evil.s_pk = bad;
    auto sig = evil_identity->Sign(secagg::SigningPayload(evil, c.transcript));
    ASSERT_TRUE(sig.ok());
    evil.signature = *sig;
    Status at_server = server->AddAdvertisedKeys(evil);
    EXPECT_EQ(at_server.code(), StatusCode::kPermissionDenied);
    EXPECT_TRUE(Has(at_server, "site 3")) << at_server;
  }
  // Relayed anyway (a coordinator that skips the check): the site refuses and names site 3.
  secagg::AdvertisedKeys evil;
  evil.site_id = 3;
  evil.round = c.round;
  evil.c_pk = SmallOrderKeys()[3];
  evil.s_pk = good->public_key();
  evil.signature = *evil_identity->Sign(secagg::SigningPayload(evil, c.transcript));
  auto k1 = victim->AdvertiseKeys();
  auto k2 = peer->AdvertiseKeys();
  ASSERT_TRUE(k1.ok() && k2.ok());
  auto shared = victim->ShareKeys({*k1, *k2, evil});
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(shared.status(), "site 3")) << shared.status();
  EXPECT_TRUE(Has(shared.status(), "should have dropped")) << shared.status();
  // The honest keys pass the server.
  EXPECT_TRUE(server->AddAdvertisedKeys(*k1).ok());
  EXPECT_TRUE(server->AddAdvertisedKeys(*k2).ok());
}

// Issue point 6. Before, a setup of two sites passed (min_secagg_neighbours was capped at
// n - 1 = 1), and the other member read this site's update from the sum by subtracting its own.
// Now a site refuses fewer than three sites whatever its policy says, and fewer than two
// neighbours.
TEST(MaliciousSetupTest, TwoSiteRoundIsRefused) {
  const std::vector<Member> members = Consortium(2);
  std::vector<SiteUnderTest> sites = Sites(members);
  sites[0].policy.min_sites = 0;  // even a policy that asks for less
  sites[0].policy.min_neighbours = 0;
  Status st = sites[0].Start(MakeSetup(members));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(st, "at least 3")) << st;
  const std::vector<Member> three = Consortium(3);
  std::vector<SiteUnderTest> ok = Sites(three);
  EXPECT_TRUE(ok[0].Start(MakeSetup(three)).ok());
  // A policy may ask for more sites.
  std::vector<SiteUnderTest> strict = Sites(three);
  strict[0].policy.min_sites = 4;
  EXPECT_TRUE(Has(strict[0].Start(MakeSetup(three)), "min_secagg_sites"));
}

// Without a roster (the default requires one) the coordinator would choose the peers.
TEST(MaliciousSetupTest, NoRosterIsRefusedByDefault) {
  const std::vector<Member> members = Consortium(3);
  std::vector<SiteUnderTest> sites = Sites(members);
  sites[0].policy.roster.reset();
  EXPECT_TRUE(Has(sites[0].Start(MakeSetup(members)), "no consortium roster"));
  sites[0].policy.require_roster = false;
  EXPECT_TRUE(sites[0].Start(MakeSetup(members)).ok());
}

// Issue point 7. Before, a new setup with a task id already in use wiped the previous session
// and started another, and any number of sessions could run in one round: two sums of the same
// round over different peers, subtracted, give one site's update. Now a site refuses a task id
// it already served in the run, and any session of a round in which its masked update left.
TEST(MaliciousSessionTest, ReusedTaskIdAndSecondSessionOfARoundAreRefused) {
  const std::vector<Member> members = Consortium(4);
  std::vector<SiteUnderTest> sites = Sites(members);
  ASSERT_TRUE(RunToMasked(sites, MakeSetup(members, /*round=*/1, /*task_id=*/9)).ok());
  // The same round again with three of the four (the difference is site-4's update).
  std::vector<Member> three(members.begin(), members.begin() + 3);
  Status again = sites[0].Start(MakeSetup(three, 1, 10));
  EXPECT_EQ(again.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(again, "second secure session of the same round")) << again;
  // The task id of round 1 reused in round 2.
  Status reused = sites[0].Start(MakeSetup(members, 2, 9));
  EXPECT_EQ(reused.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(reused, "already used")) << reused;
  // The next round with a fresh id runs; so does the first round of another run.
  EXPECT_TRUE(sites[0].Start(MakeSetup(members, 2, 11)).ok());
  EXPECT_TRUE(sites[0].Start(MakeSetup(members, 1, 9), "run-2").ok());
}

// A round whose session ended before this site masked (a peer left during the key stages) is
// retried under a fresh task id: that retry is not a second sum.
TEST(MaliciousSessionTest, RetryBeforeMaskingIsAllowed) {
  const std::vector<Member> members = Consortium(4);
  std::vector<SiteUnderTest> sites = Sites(members);
  ASSERT_TRUE(sites[0].Start(MakeSetup(members, 3, 20)).ok());  // the round stalls in stage 1
  std::vector<Member> three(members.begin(), members.begin() + 3);
  std::vector<SiteUnderTest> retry = Sites(three);
  retry[0].ledger = sites[0].ledger;
  EXPECT_TRUE(RunToMasked(retry, MakeSetup(three, 3, 21)).ok());
  EXPECT_EQ(retry[0].Start(MakeSetup(three, 3, 20)).code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace fedsmear
