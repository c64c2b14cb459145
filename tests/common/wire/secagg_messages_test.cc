// Round trips and rejections of the SecAgg+ wire messages.
#include <gtest/gtest.h>

#include "common/wire/messages.h"

namespace fedsmear::wire {
namespace {

Message Wrap(Body body) {
  Message m;
  m.run_id = "run-42";
  m.body = std::move(body);
  return m;
}

SecAggSetup SampleSetup() {
  SecAggSetup s;
  s.round = 3;
  s.task_id = 17;
  for (uint32_t i = 1; i <= 3; ++i) {
    s.sites.push_back(
        {"site-" + std::to_string(i), 4 - i, std::string(32, static_cast<char>(i)), 0, 100});
  }
  s.weight_cap = 500;
  s.threshold = 2;
  s.neighbours = 2;
  s.mask_bits = 31;
  s.graph_seed = std::string(32, '\x5a');
  s.model_sha256 = std::string(32, '\x3c');
  s.clip = 4.0;
  s.total_weight = 300;
  s.vector_length = 1234;
  s.stat_clip = 512;
  return s;
}

SecAggMasked Masked() {
  SecAggMasked m;
  m.round = 3;
  m.task_id = 17;
  m.num_samples = 100;
  m.masked = std::string(40, '\x01');
  m.metrics.train_loss = 0.5;
  m.metrics.train_accuracy = 0.75;
  m.metrics.val_loss = 0.6;
  m.metrics.val_accuracy = 0.7;
  m.metrics.num_val = 9;
  m.metrics.train_seconds = 12;
  return m;
}

template <typename T>
T RoundTrip(const Body& body) {
  const std::string bytes = Encode(Wrap(body));
  auto decoded = Decode(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return T{};
  EXPECT_EQ(Encode(*decoded), bytes) << "re-encoding differs for " << BodyName(body);
  return std::get<T>(decoded->body);
}

template <typename T, typename Fn>
StatusCode CodeAfter(T value, Fn mutate) {
  mutate(value);
  auto r = Decode(Encode(Wrap(value)));
  return r.ok() ? StatusCode::kOk : r.status().code();
}

TEST(SecAggWire, SetupRoundTrip) {
  SecAggSetup s = RoundTrip<SecAggSetup>(SampleSetup());
  ASSERT_EQ(s.sites.size(), 3u);
  EXPECT_EQ(s.sites[0].site_id, "site-1");
  EXPECT_EQ(s.sites[0].secagg_id, 3u);
  EXPECT_EQ(s.sites[2].sign_public_key, std::string(32, '\x03'));
  EXPECT_EQ(s.threshold, 2u);
  EXPECT_EQ(s.neighbours, 2u);
  EXPECT_EQ(s.mask_bits, 31u);
  EXPECT_EQ(s.clip, 4.0);
  EXPECT_EQ(s.total_weight, 300u);
  EXPECT_EQ(s.weight_cap, 500u);
  EXPECT_EQ(s.sites[1].weight, 100u);
  EXPECT_EQ(s.vector_length, 1234u);
  EXPECT_EQ(s.stat_clip, 512.0);
  EXPECT_EQ(s.model_sha256, std::string(32, '\x3c'));
  EXPECT_EQ(s.purpose, SecAggPurpose::kTraining);
  EXPECT_STREQ(BodyName(Body(s)), "secaggSetup");
  SecAggSetup bn = SampleSetup();
  bn.purpose = SecAggPurpose::kBnStatistics;
  EXPECT_EQ(RoundTrip<SecAggSetup>(bn).purpose, SecAggPurpose::kBnStatistics);
  // A statistics session carries no votes.
  bn.mask_bits = 32;
  bn.vote_bits = 5;
  for (SecAggSite& e : bn.sites) e.vote_weight = 1;
  EXPECT_EQ(CodeAfter(bn, [](SecAggSetup&) {}), StatusCode::kCorrupt);
}

TEST(SecAggWire, StageMessagesRoundTrip) {
  SecAggKeys k{3, 17, std::string(32, 'c'), std::string(32, 's'), std::string(64, 'g')};
  EXPECT_EQ(RoundTrip<SecAggKeys>(k).signature, k.signature);
  SecAggKeysRelay kr{3, 17, {{2, k.c_pk, k.s_pk, k.signature}, {3, k.c_pk, k.s_pk, k.signature}}};
  EXPECT_EQ(RoundTrip<SecAggKeysRelay>(kr).keys[1].secagg_id, 3u);
  SecAggShares sh{3, 17, {{1, 2, std::string(100, 'x')}, {1, 3, std::string(100, 'y')}}};
  EXPECT_EQ(RoundTrip<SecAggShares>(sh).shares[1].ciphertext, std::string(100, 'y'));
  SecAggSharesRelay sr{3, 17, {{2, 1, std::string(100, 'z')}}};
  EXPECT_EQ(RoundTrip<SecAggSharesRelay>(sr).shares[0].from, 2u);
  SecAggMasked m = RoundTrip<SecAggMasked>(Masked());
  EXPECT_EQ(m.masked, std::string(40, '\x01'));
  EXPECT_EQ(m.metrics.num_val, 9u);
  SecAggUnmaskRequest rq{3, 17, {1, 3}, {2}};
  auto rq2 = RoundTrip<SecAggUnmaskRequest>(rq);
  EXPECT_EQ(rq2.survivors, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(rq2.dropped, (std::vector<uint32_t>{2}));
  SecAggUnmaskResponse rs{3, 17, {{1, 1, std::string(44, 'a')}, {2, 2, std::string(44, 'b')}}};
  auto rs2 = RoundTrip<SecAggUnmaskResponse>(rs);
  EXPECT_EQ(rs2.shares[1].kind, 2u);
  EXPECT_EQ(rs2.shares[1].share, std::string(44, 'b'));
}

TEST(SecAggWire, SetupRejections) {
  const auto bad = StatusCode::kCorrupt;
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup&) {}), StatusCode::kOk);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites.clear(); }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[0].secagg_id = 2; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[0].secagg_id = 4; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[1].site_id = "site-1"; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[1].sign_public_key.pop_back(); }),
            bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[1].sign_public_key += "x"; }),
            bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.threshold = 4; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.threshold = 0; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.neighbours = 3; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.mask_bits = 33; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.graph_seed.resize(16); }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.model_sha256.clear(); }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.clip = -1; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.stat_clip = 0; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.total_weight = 0; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.total_weight = 299; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.sites[0].weight = 0; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.weight_cap = 99; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& s) { s.vector_length = 0; }), bad);
  // Too many sites for the decoder's limit.
  DecodeLimits tight;
  tight.max_secagg_sites = 2;
  EXPECT_EQ(Decode(Encode(Wrap(SampleSetup())), tight).status().code(), bad);
}

TEST(SecAggWire, SignVoteSetupRoundTripAndLimits) {
  auto votes = [](SecAggSetup s) {
    s.mask_bits = 32;
    s.vote_bits = 5;  // weights 15 + 9 + 1 = 25 < 32
    s.sites[0].vote_weight = 15;
    s.sites[1].vote_weight = 9;
    s.sites[2].vote_weight = 1;
    return s;
  };
  SecAggSetup s = RoundTrip<SecAggSetup>(votes(SampleSetup()));
  EXPECT_EQ(s.vote_bits, 5u);
  EXPECT_EQ(s.sites[0].vote_weight, 15u);
  EXPECT_EQ(s.sites[2].vote_weight, 1u);
  const auto bad = StatusCode::kCorrupt;
  EXPECT_EQ(CodeAfter(votes(SampleSetup()), [](SecAggSetup& v) { v.sites[1].vote_weight = 16; }),
            bad);  // 32 overflows 5 bits
  EXPECT_EQ(CodeAfter(votes(SampleSetup()), [](SecAggSetup& v) { v.sites[1].vote_weight = 0; }),
            bad);
  EXPECT_EQ(CodeAfter(votes(SampleSetup()), [](SecAggSetup& v) { v.mask_bits = 31; }), bad);
  EXPECT_EQ(CodeAfter(votes(SampleSetup()), [](SecAggSetup& v) { v.vote_bits = 33; }), bad);
  EXPECT_EQ(CodeAfter(SampleSetup(), [](SecAggSetup& v) { v.sites[0].vote_weight = 1; }), bad);
}

TEST(SecAggWire, StageRejections) {
  const auto bad = StatusCode::kCorrupt;
  SecAggKeys k{3, 17, std::string(32, 'c'), std::string(32, 's'), std::string(64, 'g')};
  EXPECT_EQ(CodeAfter(k, [](SecAggKeys& x) { x.c_pk.resize(31); }), bad);
  EXPECT_EQ(CodeAfter(k, [](SecAggKeys& x) { x.signature.resize(63); }), bad);
  SecAggKeysRelay kr{3, 17, {{2, k.c_pk, k.s_pk, k.signature}}};
  EXPECT_EQ(CodeAfter(kr, [](SecAggKeysRelay& x) { x.keys[0].secagg_id = 0; }), bad);
  EXPECT_EQ(CodeAfter(kr, [](SecAggKeysRelay& x) { x.keys.push_back(x.keys[0]); }), bad);
  SecAggShares sh{3, 17, {{1, 2, std::string(100, 'x')}}};
  EXPECT_EQ(CodeAfter(sh, [](SecAggShares& x) { x.shares[0].to = 1; }), bad);
  EXPECT_EQ(CodeAfter(sh, [](SecAggShares& x) { x.shares[0].ciphertext.resize(10); }), bad);
  EXPECT_EQ(CodeAfter(sh, [](SecAggShares& x) { x.shares[0].ciphertext.resize(5000); }), bad);
  EXPECT_EQ(CodeAfter(sh, [](SecAggShares& x) { x.shares.push_back(x.shares[0]); }), bad);
  EXPECT_EQ(CodeAfter(Masked(), [](SecAggMasked& x) { x.masked.pop_back(); }), bad);
  EXPECT_EQ(CodeAfter(Masked(), [](SecAggMasked& x) { x.masked.clear(); }), bad);
  EXPECT_EQ(CodeAfter(Masked(), [](SecAggMasked& x) { x.num_samples = 0; }), bad);
  EXPECT_EQ(CodeAfter(Masked(), [](SecAggMasked& x) { x.metrics.train_accuracy = 2; }), bad);
  SecAggUnmaskRequest rq{3, 17, {1, 3}, {2}};
  EXPECT_EQ(CodeAfter(rq, [](SecAggUnmaskRequest& x) { x.survivors = {3, 1}; }), bad);
  EXPECT_EQ(CodeAfter(rq, [](SecAggUnmaskRequest& x) { x.dropped = {3}; }), bad);
  EXPECT_EQ(CodeAfter(rq, [](SecAggUnmaskRequest& x) { x.survivors.clear(); }), bad);
  SecAggUnmaskResponse rs{3, 17, {{1, 1, std::string(44, 'a')}}};
  EXPECT_EQ(CodeAfter(rs, [](SecAggUnmaskResponse& x) { x.shares[0].kind = 3; }), bad);
  EXPECT_EQ(CodeAfter(rs, [](SecAggUnmaskResponse& x) { x.shares[0].share.resize(45); }), bad);
  EXPECT_EQ(CodeAfter(rs, [](SecAggUnmaskResponse& x) { x.shares[0].owner = 0; }), bad);
}

}  // namespace
}  // namespace fedsmear::wire
