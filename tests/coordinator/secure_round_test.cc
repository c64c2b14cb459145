// Secure aggregation: the SecAgg+ stages over the wire codec (sessions + secagg::Server + the
// coordinator's SecureRoundSum finished by a strategy), and end-to-end federated runs with
// secure_aggregation secagg+.
#include "coordinator/secure_round.h"

#include <cmath>

#include "coordinator/strategies.h"
#include "coordinator/vote.h"
#include "secagg/server.h"
#include "secagg/site_secagg_wire.h"
#include "secagg/votes.h"
#include "tests/coordinator/federation_harness.h"

namespace fedsmear {
namespace {

using namespace testing_federation;  // NOLINT(build/namespaces): test-local harness

template <typename T>
T ViaWire(const T& value) {
  auto decoded = wire::Decode(wire::Encode({wire::kProtocolVersion, "run", value}));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return std::get<T>(decoded->body);
}

// Tests here trust the setup's directory (the roster is site_policy_test's business).
SecAggPolicy OpenPolicy() {
  SecAggPolicy p;
  p.require_roster = false;
  return p;
}

secagg::Secret32 SeedOf(const SigningKeyHex& hex) {
  std::string raw = *HexDecodeKey(hex.secret_seed, "seed");
  std::array<uint8_t, 32> bytes{};
  std::memcpy(bytes.data(), raw.data(), 32);
  return secagg::Secret32(bytes);
}

// Two tensors: trainable values, then BN-statistics-like values (the last quarter).
ModelState TwoTensors(const std::vector<float>& values) {
  ModelState s;
  s.meta.arch = "test";
  const size_t half = values.size() * 3 / 4;
  s.tensors.push_back({"w",
                       {static_cast<int64_t>(half)},
                       TensorKind::kFloat,
                       std::vector<float>(values.begin(), values.begin() + half)});
  s.tensors.push_back({"bn.running_var",
                       {static_cast<int64_t>(values.size() - half)},
                       TensorKind::kStat,
                       std::vector<float>(values.begin() + half, values.end())});
  return s;
}

struct Outcome {
  ModelState result;
  size_t masked_equal_words = 0;  // masked words equal to the site's own quantized input
};

// Three sites with weights 10, 20, 30 run one SecAgg+ round; `drop` (if not 0) shares keys but
// never sends its masked input.
Outcome RunRound(uint32_t drop) {
  const size_t len = 2000;
  const std::vector<uint64_t> weights = {10, 20, 30};
  std::vector<SigningKeyHex> keys = {NewSigningKey(), NewSigningKey(), NewSigningKey()};
  wire::SecAggSetup setup;
  setup.round = 5;
  setup.task_id = 77;
  for (uint32_t i = 1; i <= 3; ++i) {
    setup.sites.push_back({"s" + std::to_string(i), i, *HexDecodeKey(keys[i - 1].public_key, "k"),
                           0, weights[i - 1]});
  }
  setup.weight_cap = 1000;
  setup.threshold = 2;
  setup.neighbours = 2;
  setup.mask_bits = 32;
  setup.graph_seed = std::string(32, '\x11');
  setup.model_sha256 = std::string(32, '\x12');
  setup.clip = 1.0;
  setup.total_weight = 60;
  setup.vector_length = len;
  setup.stat_clip = 100;
  setup = ViaWire(setup);
  auto config = SecAggConfigFromSetup(setup, "run-1");
  auto server = secagg::Server::Create(*config, *DirectoryFromSetup(setup));
  EXPECT_TRUE(server.ok());
  std::vector<SessionLedger> ledgers(3);  // outlive the sessions
  std::vector<std::unique_ptr<SecAggSession>> sessions;
  for (uint32_t i = 1; i <= 3; ++i) {
    wire::SecAggKeys k;
    auto s = SecAggSession::Start(setup, {"run-1", "s" + std::to_string(i), weights[i - 1]},
                                  SeedOf(keys[i - 1]),
                                  OpenPolicy(), ledgers[i - 1], &k);
    EXPECT_TRUE(s.ok()) << s.status();
    sessions.push_back(std::move(*s));
    EXPECT_TRUE(server->AddAdvertisedKeys(*KeysFromWire(ViaWire(k), i, setup.task_id)).ok());
  }
  EXPECT_TRUE(server->CloseAdvertiseStage().ok());
  for (uint32_t i = 1; i <= 3; ++i) {
    wire::SecAggKeysRelay relay{5, 77, {}};
    auto peer_keys = server->KeysFor(i);
    EXPECT_TRUE(peer_keys.ok());
    for (const auto& k : *peer_keys) relay.keys.push_back(PeerKeysToWire(k));
    auto shares = sessions[i - 1]->OnKeysRelay(ViaWire(relay));
    EXPECT_TRUE(shares.ok()) << shares.status();
    std::vector<secagg::EncryptedShares> plain;
    for (const auto& e : ViaWire(*shares).shares) plain.push_back(ShareFromWire(e));
    EXPECT_TRUE(server->AddEncryptedShares(i, plain).ok());
  }
  EXPECT_TRUE(server->CloseShareStage().ok());
  const ModelState global = TwoTensors(std::vector<float>(len, 0.5f));
  std::vector<double> expected(len, 0);
  uint64_t survivor_weight = 0;
  Outcome out;
  for (uint32_t i = 1; i <= 3; ++i) {
    wire::SecAggSharesRelay relay{5, 77, {}};
    auto for_me = server->SharesFor(i);
    EXPECT_TRUE(for_me.ok());
    for (const auto& e : *for_me) relay.shares.push_back(ShareToWire(e));
    EXPECT_TRUE(sessions[i - 1]->OnSharesRelay(ViaWire(relay)).ok());
    std::vector<float> trained(len);
    for (size_t j = 0; j < len; ++j) {
      // BN statistics move by far more than the trainable clip of 1 allows.
      const float scale = j >= len * 3 / 4 ? 30.0f : 0.01f;
      trained[j] = 0.5f + scale * i * std::sin(0.1f * j + i);
    }
    auto q = QuantizeDelta(TwoTensors(trained), global, weights[i - 1], 60, QuantizationFor(setup),
                           static_cast<float>(setup.stat_clip), i);
    EXPECT_TRUE(q.ok()) << q.status();
    const std::vector<uint32_t> input = *q;
    EXPECT_TRUE(sessions[i - 1]->SetInput({77, *q, weights[i - 1], {}}).ok());
    auto masked = sessions[i - 1]->TakeMasked();
    EXPECT_TRUE(masked.ok() && masked->has_value());
    EXPECT_FALSE(sessions[i - 1]->TakeMasked()->has_value());  // exactly once
    if (i == drop) continue;
    auto words = WordsFromBytes(ViaWire(**masked).masked, len);
    for (size_t j = 0; j < len; ++j) out.masked_equal_words += (*words)[j] == input[j];
    EXPECT_TRUE(server->AddMaskedInput({i, *words}).ok());
    survivor_weight += weights[i - 1];
    for (size_t j = 0; j < len; ++j) expected[j] += weights[i - 1] * (trained[j] - 0.5);
  }
  auto request = server->CloseMaskStage();
  EXPECT_TRUE(request.ok());
  for (uint32_t i : request->survivors) {  // consistency round
    auto signature = sessions[i - 1]->OnConsistencyCheck(
        ViaWire(wire::SecAggConsistencyCheck{5, 77, request->survivors}));
    EXPECT_TRUE(signature.ok()) << signature.status();
    EXPECT_TRUE(server
                    ->AddConsistencySignature(i, *Signature64FromBytes(ViaWire(*signature).signature))
                    .ok());
  }
  for (uint32_t i : request->survivors) {
    const wire::SecAggUnmaskRequest wreq = UnmaskRequestToWire(server->RequestFor(i), 5, 77);
    auto response = sessions[i - 1]->OnUnmaskRequest(ViaWire(wreq));
    EXPECT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(server->AddUnmaskResponse(*UnmaskResponseFromWire(ViaWire(*response), i)).ok());
  }
  auto sum = server->Finish();
  EXPECT_TRUE(sum.ok()) << sum.status();
  SecureSumShape shape;
  shape.params = QuantizationFor(setup);
  shape.stat_clip = static_cast<float>(setup.stat_clip);
  shape.survivors = static_cast<uint32_t>(request->survivors.size());
  shape.total_weight = 60;
  shape.survivor_weight = survivor_weight;
  auto round_sum = SecureRoundSum(global, *sum, shape);
  EXPECT_TRUE(round_sum.ok()) << round_sum.status();
  FedAvg fedavg(1.0, 1);
  auto result = fedavg.Finish(5, global, *round_sum);
  EXPECT_TRUE(result.ok()) << result.status();
  out.result = *result;
  for (size_t j = 0; j < len; ++j) {
    const size_t half = len * 3 / 4;
    const float got =
        j < half ? out.result.tensors[0].values[j] : out.result.tensors[1].values[j - half];
    EXPECT_NEAR(got, 0.5 + expected[j] / survivor_weight, j < half ? 1e-5 : 1e-3) << j;
  }
  return out;
}

TEST(SecureRound, CoordinatorSeesOnlyMaskedVectorsAndGetsTheWeightedMean) {
  Outcome o = RunRound(0);
  // A masked word equals the plain one with probability 2^-32 per word.
  EXPECT_LE(o.masked_equal_words, 2u);
}

TEST(SecureRound, DropoutAfterSharingIsRecovered) {
  Outcome o = RunRound(3);
  EXPECT_LE(o.masked_equal_words, 2u);
}

TEST(SecureRound, SiteRefusesUnsafeThresholdsAndForeignKeys) {
  SigningKeyHex a = NewSigningKey(), b = NewSigningKey(), c = NewSigningKey();
  wire::SecAggSetup setup;
  setup.round = 1;
  setup.task_id = 2;
  setup.sites = {{"a", 1, *HexDecodeKey(a.public_key, "k"), 0, 1},
                 {"b", 2, *HexDecodeKey(b.public_key, "k"), 0, 1},
                 {"c", 3, *HexDecodeKey(c.public_key, "k"), 0, 1}};
  setup.weight_cap = 1;
  setup.threshold = 1;  // k = 2 needs t >= 2
  setup.neighbours = 2;
  setup.graph_seed = std::string(32, '\x01');
  setup.clip = 1;
  setup.total_weight = 3;
  setup.vector_length = 10;
  setup.stat_clip = 10;
  wire::SecAggKeys keys;
  SessionLedger ledger;
  const SecAggPolicy policy = OpenPolicy();
  auto low = SecAggSession::Start(setup, {"run-1", "a", 1}, SeedOf(a), policy, ledger, &keys);
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(low.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(low.status().message().find("below the safe minimum"), std::string::npos);
  setup.threshold = 2;
  EXPECT_TRUE(
      SecAggSession::Start(setup, {"run-1", "a", 1}, SeedOf(a), policy, ledger, &keys).ok());
  // The directory has a's key.
  auto foreign = SecAggSession::Start(setup, {"run-1", "a", 1}, SeedOf(b), policy, ledger, &keys);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("another signing key"), std::string::npos);
  EXPECT_FALSE(
      SecAggSession::Start(setup, {"run-1", "stranger", 1}, SeedOf(a), policy, ledger, &keys).ok());
}

// Sign votes without the masking (which cancels exactly, see RunRound): three sites' vectors
// summed mod 2^32 give the weighted vote shares for binary weights and FedAvg elsewhere.
TEST(SecureRound, SignVotesSumToTheVoteShares) {
  ModelState base;
  base.meta.arch = "test";
  base.tensors.push_back({"conv", {6}, TensorKind::kBinary, {0.5f, -0.5f, 0.5f, -0.5f, 0.1f, -0.1f}});
  base.tensors.push_back({"w", {3}, TensorKind::kFloat, {1.f, 2.f, 3.f}});
  base.tensors.push_back({"bn.running_var", {2}, TensorKind::kStat, {10.f, 20.f}});
  const std::vector<uint64_t> sizes = {10, 20, 30};
  const std::vector<uint32_t> votes = secagg::VoteWeights(sizes);  // 5, 10, 15
  ASSERT_EQ(votes, (std::vector<uint32_t>{5, 10, 15}));
  wire::SecAggSetup setup;
  setup.mask_bits = 32;
  setup.clip = 4;
  setup.stat_clip = 4096;
  setup.total_weight = 60;
  setup.vote_bits = secagg::VoteFieldBits(30);  // 5
  for (uint32_t i = 0; i < 3; ++i) {
    setup.sites.push_back({"s" + std::to_string(i), i + 1, "", votes[i], sizes[i]});
  }
  setup.weight_cap = 1000;
  // Latent signs per site: coordinate 0 all +, 1 all -, 2 only the heaviest +, 3 the two light
  // ones + (15 against 15: a tie), 4 and 5 mixed.
  const std::vector<std::vector<float>> latent = {{1, -1, -1, 1, 1, -1},
                                                  {1, -1, -1, 1, -1, 1},
                                                  {1, -1, 1, -1, 1, 1}};
  std::vector<uint32_t> sum(SecureVectorLength(base, setup.vote_bits), 0);
  EXPECT_EQ(sum.size(), secagg::PackedVoteWords(6, 5) + 5);
  for (size_t k = 0; k < 3; ++k) {
    ModelState trained = base;
    trained.tensors[0].values = latent[k];
    for (float& v : trained.tensors[1].values) v += static_cast<float>(k + 1);  // +1, +2, +3
    trained.tensors[2].values[0] += 100.f * static_cast<float>(k);
    auto words = QuantizeForSetup(trained, base, sizes[k], setup, "s" + std::to_string(k), 11 + k);
    ASSERT_TRUE(words.ok()) << words.status();
    ASSERT_EQ(words->size(), sum.size());
    for (size_t j = 0; j < sum.size(); ++j) sum[j] += (*words)[j];
  }
  SecureSumShape shape;
  shape.params = {4.f, 32, 3};
  shape.stat_clip = 4096.f;
  shape.vote_bits = setup.vote_bits;
  shape.survivors = 3;
  shape.total_weight = shape.survivor_weight = 60;
  shape.survivor_votes = 30;
  auto round_sum = SecureRoundSum(base, sum, shape);
  ASSERT_TRUE(round_sum.ok()) << round_sum.status();
  SignVoteStrategy fedvote(1.0, 1, 0, kMajorityFlipShare);
  auto next = fedvote.Finish(1, base, *round_sum);
  ASSERT_TRUE(next.ok()) << next.status();
  const auto& v = next->tensors[0].values;
  EXPECT_FLOAT_EQ(v[0], 1.f);
  EXPECT_FLOAT_EQ(v[1], -1.f);
  EXPECT_FLOAT_EQ(v[4], (2.f * 20.f - 30.f) / 30.f);   // 5 + 15 vote +
  EXPECT_FLOAT_EQ(v[5], (2.f * 25.f - 30.f) / 30.f);   // 10 + 15 vote +
  // 15 against 15: ties keep the previous global sign at the tie magnitude.
  EXPECT_FLOAT_EQ(v[2], kVoteTieMagnitude);
  EXPECT_FLOAT_EQ(v[3], -kVoteTieMagnitude);
  // Floats: the sample-weighted mean delta (1*10 + 2*20 + 3*30) / 60 = 2.333.
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(next->tensors[1].values[i], base.tensors[1].values[i] + 140.f / 60.f, 1e-4);
  }
  EXPECT_NEAR(next->tensors[2].values[0], 10.f + (0 * 10 + 100 * 20 + 200 * 30) / 60.f, 1e-2);
  // A vote sum larger than the voters' weight cannot come from honest sites.
  shape.survivor_votes = 10;
  EXPECT_FALSE(SecureRoundSum(base, sum, shape).ok());
}

class SecureFederationTest : public FederationTest {
 protected:
  CoordinatorConfig SecureConfig(int rounds, int min_sites, int start_sites) {
    CoordinatorConfig c = MakeConfig(rounds, min_sites, start_sites);
    c.secure_aggregation = SecureAggregation::kSecAggPlus;
    c.secagg_stage_deadline_s = 20;
    return c;
  }
  // Runs three sites under SecureConfig(3, 3, 3) changed by `adjust`, then the same federation
  // with secure aggregation off; both must finish. Returns both runs' metrics rows.
  std::pair<std::vector<nlohmann::json>, std::vector<nlohmann::json>> SecureThenPlain(
      const std::function<void(CoordinatorConfig&)>& adjust) {
    std::vector<ClientConfig> sites;  // registered in the allowlist before the config is made
    for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
    CoordinatorConfig secure = SecureConfig(3, 3, 3);
    secure.federated_evaluation = false;
    adjust(secure);
    std::string endpoint = StartCoordinator(secure);
    for (auto& s : sites) StartSite(s, endpoint);
    Finish();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
    auto rows = Metrics();
    CoordinatorConfig plain = secure;
    plain.secure_aggregation = SecureAggregation::kOff;
    // Like with like: both recalibrate batch-norm statistics (secure rounds by a second secure
    // sum of the round).
    plain.run_dir = (run_dir_ / "plain").string();
    stop_.store(false);
    endpoint = StartCoordinator(plain);
    for (auto& s : sites) StartSite(s, endpoint);
    Finish();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
    return {rows, MetricsAt(run_dir_ / "plain")};
  }
  std::vector<nlohmann::json> MetricsAt(const fs::path& run) {
    std::vector<nlohmann::json> rows;
    std::ifstream in(run / "metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
    return rows;
  }
};

TEST_F(SecureFederationTest, ReachesThePlainAccuracy) {
  auto [rows, plain_rows] = SecureThenPlain([](CoordinatorConfig&) {});
  ASSERT_EQ(rows.size(), 3u);
  for (auto& r : rows) {
    EXPECT_TRUE(r["secure_aggregation"].get<bool>()) << r.dump();
    EXPECT_EQ(r["secagg"]["survivors"].size(), 3u) << r.dump();
    EXPECT_EQ(r["secagg"]["threshold"], 2);
    EXPECT_GT(r["secagg"]["bytes"].get<double>(), 0);
  }
  ASSERT_EQ(plain_rows.size(), 3u);
  EXPECT_FALSE(plain_rows.back().contains("secure_aggregation"));
  const double a = rows.back()["accuracy"].get<double>();
  const double b = plain_rows.back()["accuracy"].get<double>();
  EXPECT_GT(a, 0.3) << rows.back().dump();
  EXPECT_NEAR(a, b, 0.1) << "secure " << a << " vs plain " << b;
}

// Batch-norm recalibration under SecAgg+: a second secure session of each round sums the sites'
// moments of the new model's statistics; every site takes part with the images it would give a
// plain round, and the secure run learns like the plain one that pools them in the clear.
TEST_F(SecureFederationTest, BatchNormStatisticsAreSummedInTheirOwnSession) {
  auto [rows, plain_rows] =
      SecureThenPlain([](CoordinatorConfig& c) { c.bn_recalibration_images = 40; });
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(plain_rows.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(rows[i].contains("bn_recalibration")) << rows[i].dump();
    ASSERT_TRUE(plain_rows[i].contains("bn_recalibration")) << plain_rows[i].dump();
    const auto& secure = rows[i]["bn_recalibration"];
    EXPECT_EQ(secure["sites"].get<int>(), 3) << rows[i].dump();
    EXPECT_EQ(secure["images"], plain_rows[i]["bn_recalibration"]["images"]) << rows[i].dump();
    EXPECT_GT(secure["bytes_up"].get<double>(), 0);
  }
  const double a = rows.back()["accuracy"].get<double>();
  const double b = plain_rows.back()["accuracy"].get<double>();
  EXPECT_NEAR(a, b, 0.1) << "secure " << a << " vs plain " << b;
}

// 1-bit both ways with the coordinator seeing only the sum of the packed votes.
TEST_F(SecureFederationTest, SignVotesReachThePlainVoteAccuracy) {
  auto [rows, plain_rows] = SecureThenPlain([](CoordinatorConfig& c) {
    c.strategy = "fedvote";
    c.codec_down = "sign1+f16";
    c.codec_up = "sign1+f16";
    c.latent_start = FreshLatent::kEpsilon;  // not the default; travels in the task, a misread one is refused
  });
  ASSERT_EQ(rows.size(), 3u);
  for (auto& r : rows) {
    EXPECT_TRUE(r["secure_aggregation"].get<bool>()) << r.dump();
    EXPECT_EQ(r["secagg"]["survivors"].size(), 3u) << r.dump();
    // Equal vote weights (the sum reveals only the count of + votes): three votes of 1, sum < 4.
    EXPECT_EQ(r["secagg"]["vote_bits"], 2) << r.dump();
  }
  ASSERT_EQ(plain_rows.size(), 3u);
  // Both record how many global signs each round flipped; the first round, voting on a random
  // initialisation, flips some.
  for (const auto* run : {&rows, &plain_rows}) {
    for (auto& r : *run) {
      ASSERT_TRUE(r.contains("sign_flips")) << r.dump();
      EXPECT_GE(r["sign_flips"].get<double>(), 0.0);
      EXPECT_LE(r["sign_flips"].get<double>(), 1.0);
    }
    EXPECT_GT(run->front()["sign_flips"].get<double>(), 0.0) << run->front().dump();
  }
  const double a = rows.back()["accuracy"].get<double>();
  const double b = plain_rows.back()["accuracy"].get<double>();
  EXPECT_GT(a, 0.3) << rows.back().dump();
  EXPECT_NEAR(a, b, 0.15) << "secure votes " << a << " vs plain votes " << b;
}

// FedAdam needs only the mean delta: under SecAgg+ it finishes from the secure sum with the same
// code, and lands where the plain run does (two short rounds).
TEST_F(SecureFederationTest, FedAdamFinishesFromTheSecureSum) {
  auto [rows, plain_rows] = SecureThenPlain([](CoordinatorConfig& c) {
    c.strategy = "fedadam";
    c.strategy_params["server_lr"] = 0.03;
    c.rounds = 2;
    c.train.local_epochs = 1;
  });
  ASSERT_EQ(rows.size(), 2u);
  for (auto& r : rows) {
    EXPECT_TRUE(r["secure_aggregation"].get<bool>()) << r.dump();
    EXPECT_EQ(r["secagg"]["survivors"].size(), 3u) << r.dump();
    EXPECT_EQ(r["secagg"]["vote_bits"], 0) << r.dump();
  }
  ASSERT_EQ(plain_rows.size(), 2u);
  const double a = rows.back()["accuracy"].get<double>();
  const double b = plain_rows.back()["accuracy"].get<double>();
  EXPECT_NEAR(a, b, 0.1) << "secure fedadam " << a << " vs plain " << b;
}

TEST_F(SecureFederationTest, SiteVanishingAfterSharingIsRecovered) {
  auto a = SiteConfig("site-a", 1), b = SiteConfig("site-b", 2), dead = SiteConfig("dies", 3);
  CoordinatorConfig c = SecureConfig(1, 2, 3);
  c.federated_evaluation = false;
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartSite(b, endpoint);
  StartFake(dead, endpoint, Fake::kVanishAfterSharing);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["secagg"]["survivors"].size(), 2u) << rows[0].dump();
  EXPECT_EQ(rows[0]["secagg"]["dropped"], nlohmann::json::array({"dies"})) << rows[0].dump();
  EXPECT_TRUE(rows[0]["sites_failed"].contains("dies"));
  EXPECT_GT(rows[0]["accuracy"].get<double>(), 0.2) << rows[0].dump();
}

TEST_F(SecureFederationTest, BelowThresholdAbortsAndStopsAfterRetries) {
  auto a = SiteConfig("site-a", 1), d1 = SiteConfig("dies-1", 2), d2 = SiteConfig("dies-2", 3);
  CoordinatorConfig c = SecureConfig(2, 1, 3);
  c.max_round_retries = 1;
  c.round_deadline_s = 30;
  c.wait_for_sites_s = 2;
  c.train.local_epochs = 1;
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartFake(d1, endpoint, Fake::kVanishAfterSharing);
  StartFake(d2, endpoint, Fake::kVanishAfterSharing);
  Finish();
  EXPECT_EQ(run_status_.code(), StatusCode::kUnavailable) << run_status_;
  // Round 1 is spent once site-a masked (its peers vanished before unmasking); round 2 finds
  // one site: two failed tries in all.
  EXPECT_NE(run_status_.message().find("failed 2 times"), std::string::npos) << run_status_;
  EXPECT_TRUE(Metrics().empty());
  EXPECT_FALSE(fs::exists(run_dir_ / "run" / "final.model"));
}

TEST_F(SecureFederationTest, UnsafeThresholdIsRefusedBySites) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = SecureConfig(1, 3, 3);
  c.secagg_threshold = 1;
  c.max_round_retries = 0;
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  EXPECT_EQ(run_status_.code(), StatusCode::kUnavailable) << run_status_;
  EXPECT_NE(run_status_.message().find("round 1 failed"), std::string::npos) << run_status_;
}

// Issue 34, point 3: one site masks half-ring noise instead of its input. Before, the
// impossible sum ended the run ("a vote sum exceeds the voters' weight" returned from
// Coordinator::Run). Now the attempt fails, the round is spent (sites refuse a second sum of it),
// the next rounds leave one suspect out at a time, and the one whose absence makes a sum right
// is excluded, with the evidence in the audit log; the run completes.
class MaliciousSumTest : public SecureFederationTest {};

TEST_F(MaliciousSumTest, OneSiteSpoilingTheSumIsFoundAndTheRunGoesOn) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  ClientConfig spoiler = SiteConfig("site-0-spoiler", 1);  // selected first
  CoordinatorConfig c = SecureConfig(6, 3, 4);
  c.federated_evaluation = false;
  c.max_round_retries = 1;  // fewer than the search needs: its attempts must not use them up
  c.train.local_epochs = 1;
  const std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  StartFake(spoiler, endpoint, Fake::kSpoilSecureSum);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  std::ifstream audit(run_dir_ / "run" / "audit.jsonl");
  std::string line, excluded;
  int spoiled = 0;
  while (std::getline(audit, line)) {
    if (line.find("cannot be right") != std::string::npos) ++spoiled;
    if (line.find("\"site_excluded\"") != std::string::npos) excluded = line;
  }
  EXPECT_GE(spoiled, 1);
  EXPECT_NE(excluded.find("site-0-spoiler"), std::string::npos) << excluded;
  EXPECT_NE(excluded.find("could not be right"), std::string::npos) << excluded;
  const std::vector<nlohmann::json> rows = Metrics();
  ASSERT_FALSE(rows.empty());
  EXPECT_LE(rows.size(), 6u - static_cast<size_t>(spoiled));
  for (const nlohmann::json& r : rows) {
    for (const auto& s : r["sites_reported"]) EXPECT_NE(s, "site-0-spoiler") << r.dump();
  }
  // The rounds after the exclusion ran with the three honest sites.
  EXPECT_EQ(rows.back()["sites_reported"].size(), 3u) << rows.back().dump();
}

TEST_F(SecureFederationTest, SiteWithoutSigningKeyIsAClearError) {
  // Three sites, the fewest a secure round takes; site-b's allowlist line lacks its key.
  auto a = SiteConfig("site-a", 1), b = SiteConfig("site-b", 2), d = SiteConfig("site-d", 3);
  const size_t at = allowed_.find("site-b");
  const size_t end = allowed_.find('\n', at);
  const std::string line_b = allowed_.substr(at, end - at);
  allowed_ = allowed_.substr(0, at) + line_b.substr(0, line_b.rfind(' ')) + allowed_.substr(end);
  CoordinatorConfig c = SecureConfig(1, 3, 3);
  c.max_round_retries = 0;
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartSite(b, endpoint);
  StartSite(d, endpoint);
  Finish();
  // site-b is left out of secure rounds (not the run: the allowlist may gain its key), and the
  // round that finds too few sites says why.
  EXPECT_EQ(run_status_.code(), StatusCode::kUnavailable) << run_status_;
  EXPECT_NE(run_status_.message().find("site-b has no Ed25519 signing key"), std::string::npos)
      << run_status_;
}

}  // namespace
}  // namespace fedsmear
