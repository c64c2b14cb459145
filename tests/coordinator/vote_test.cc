#include "coordinator/vote.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/models/tiny_model_state.h"

namespace fedsmear {
namespace {

using testing::TinyModelState;

SiteUpdate Update(const std::string& id, uint64_t n, ModelState state) {
  return {id, n, std::move(state)};
}

// fedvote's Finish on the plain sum of `acc` (whose base is the current global model).
Result<ModelState> FinishVote(const VoteAccumulator& acc, double momentum = 0,
                              double flip_share = kMajorityFlipShare) {
  SignVoteStrategy strategy(1.0, 1, momentum, flip_share);
  RoundSum sum = acc.Sum();
  return strategy.Finish(1, sum.base, sum);
}

// Sites A (1 sample), B (2), C (3); only the signs of their latent weights may matter.
//   weight 0: + + -  -> 1 + 2 - 3 =  0  tie
//   weight 1: + - +  -> 1 - 2 + 3 =  2  v = 1/3
//   weight 2: - + +  -> -1 + 2 + 3 = 4  v = 2/3
//   weight 3: - - -  -> -6              v = -1
void AddHandExample(RoundAggregator* agg) {
  ASSERT_TRUE(agg->Add(Update("A", 1, TinyModelState({0.3f, 1e-4f, -0.2f, -1.f}, 1.f, 10.f))).ok());
  ASSERT_TRUE(agg->Add(Update("B", 2, TinyModelState({0.f, -0.5f, 0.7f, -0.01f}, 2.f, 20.f))).ok());
  ASSERT_TRUE(agg->Add(Update("C", 3, TinyModelState({-0.9f, 0.2f, 1e-6f, -0.3f}, 4.f, 40.f))).ok());
}
void AddHandExample(VoteAccumulator* acc) {
  ASSERT_TRUE(acc->Add(TinyModelState({0.3f, 1e-4f, -0.2f, -1.f}, 1.f, 10.f), 1).ok());
  ASSERT_TRUE(acc->Add(TinyModelState({0.f, -0.5f, 0.7f, -0.01f}, 2.f, 20.f), 2).ok());
  ASSERT_TRUE(acc->Add(TinyModelState({-0.9f, 0.2f, 1e-6f, -0.3f}, 4.f, 40.f), 3).ok());
}

TEST(SignVoteTest, VoteSharesMatchHandComputedValues) {
  for (float previous : {-0.5f, 0.5f}) {
    VoteAccumulator acc(TinyModelState({previous, 0.1f, -0.1f, 0.1f}, 0.f, 0.f));
    AddHandExample(&acc);
    EXPECT_EQ(acc.count(), 3);
    EXPECT_EQ(acc.total_weight(), 6.0);
    auto global = FinishVote(acc);
    ASSERT_TRUE(global.ok()) << global.status();
    const std::vector<float>& v = global->tensors[0].values;
    // The tie keeps the previous global sign.
    EXPECT_EQ(v[0], previous > 0 ? kVoteTieMagnitude : -kVoteTieMagnitude);
    EXPECT_FLOAT_EQ(v[1], 1.f / 3);
    EXPECT_FLOAT_EQ(v[2], 2.f / 3);
    EXPECT_FLOAT_EQ(v[3], -1.f);
    EXPECT_FLOAT_EQ(global->tensors[1].values[0], 17.f / 6);  // (1 + 2*2 + 3*4) / 6
    EXPECT_FLOAT_EQ(global->tensors[2].values[0], 170.f / 6);
  }
}

// Server momentum on vote shares: m = beta * previous + (1 - beta) * v, by hand.
TEST(SignVoteTest, MomentumBlendsThePreviousVoteState) {
  constexpr double kHalf = kMajorityFlipShare;
  EXPECT_FLOAT_EQ(NextVoteValue(0.8f, -0.5, 0.0, kHalf), -0.5f);         // no momentum: v
  EXPECT_FLOAT_EQ(NextVoteValue(0.8f, -0.5, 0.5, kHalf), 0.15f);         // 0.4 - 0.25: kept +
  EXPECT_FLOAT_EQ(NextVoteValue(0.15f, -0.5, 0.5, kHalf), -0.175f);      // sustained: flips
  EXPECT_EQ(NextVoteValue(-0.5f, 0.5, 0.5, kHalf), -kVoteTieMagnitude);  // m == 0: keeps the sign
  EXPECT_EQ(NextVoteValue(0.5f, 0.0, 0.0, kHalf), kVoteTieMagnitude);    // plain tie as before
  // The strategy applies it to binary tensors only (floats stay weighted means).
  VoteAccumulator acc(TinyModelState({-0.9f, 0.1f, 0.9f, 0.1f}, 0.f, 0.f));
  AddHandExample(&acc);
  auto global = FinishVote(acc, 0.5);
  ASSERT_TRUE(global.ok()) << global.status();
  const std::vector<float>& v = global->tensors[0].values;
  EXPECT_FLOAT_EQ(v[0], -0.45f);                 // tie this round: half the old state
  EXPECT_FLOAT_EQ(v[1], 0.5f * 0.1f + 0.5f / 3);
  EXPECT_FLOAT_EQ(v[2], 0.5f * 0.9f + 1.f / 3);
  EXPECT_FLOAT_EQ(v[3], 0.05f - 0.5f);           // a unanimous vote flips a weak state
  EXPECT_FLOAT_EQ(global->tensors[1].values[0], 17.f / 6);
}

// The flip rule: a sign flips when the weighted share against it, (1 - g*m) / 2, exceeds
// flip_share. By hand, previous sign + (g = 1):
TEST(SignVoteTest, FlipShareSetsTheShareAgainstASignThatFlipsIt) {
  // 0.5 is the plain majority, exactly as before (m itself, ties keep the sign).
  for (double m : {-0.6, -0.2, 0.2, 0.6}) {
    EXPECT_FLOAT_EQ(NextVoteValue(0.3f, m, 0.0, 0.5), static_cast<float>(m));
  }
  EXPECT_EQ(NextVoteValue(0.3f, 0.0, 0.0, 0.5), kVoteTieMagnitude);
  // flip_share 0.3: 35% against (m = 0.3) flips, stored at the tie magnitude (m says +);
  // 25% against (m = 0.5) keeps m.
  EXPECT_EQ(NextVoteValue(0.3f, 0.3, 0.0, 0.3), -kVoteTieMagnitude);
  EXPECT_FLOAT_EQ(NextVoteValue(0.3f, 0.5, 0.0, 0.3), 0.5f);
  // The same seen from a - sign: symmetric.
  EXPECT_EQ(NextVoteValue(-0.3f, -0.3, 0.0, 0.3), kVoteTieMagnitude);
  EXPECT_FLOAT_EQ(NextVoteValue(-0.3f, -0.5, 0.0, 0.3), -0.5f);
  // flip_share 0.7 (supermajority): 60% against (m = -0.2) keeps the sign, 80% (m = -0.6)
  // flips and keeps m, which now has the new sign.
  EXPECT_EQ(NextVoteValue(0.3f, -0.2, 0.0, 0.7), kVoteTieMagnitude);
  EXPECT_FLOAT_EQ(NextVoteValue(0.3f, -0.6, 0.0, 0.7), -0.6f);
  // With momentum the rule applies to the blended state: m = 0.5 * 0.8 + 0.5 * (-0.2) = 0.3.
  // 35% against: kept at flip_share 0.4, flipped at 0.3.
  EXPECT_FLOAT_EQ(NextVoteValue(0.8f, -0.2, 0.5, 0.4), 0.3f);
  EXPECT_EQ(NextVoteValue(0.8f, -0.2, 0.5, 0.3), -kVoteTieMagnitude);
}

// The specialist-site case at the level of the vote: of sites with 10%, 30%, 60% of the
// samples, only the smallest (the one that holds a rare class) changed weight 0 from the global
// sign. The majority vote erases its change; flip_share below its weight lets it through, and
// the unanimous or unchanged weights are the same under both rules.
TEST(SignVoteTest, FlipShareBelowASitesWeightLetsItsChangeThrough) {
  const ModelState global = TinyModelState({0.2f, -0.2f, 0.2f, -0.2f}, 0.f, 0.f);
  VoteAccumulator acc(global);
  // weight 0: only the specialist flips it; weight 1: nobody; weight 2: everybody; weight 3:
  // the specialist and the 30% site (40% against).
  ASSERT_TRUE(acc.Add(TinyModelState({-0.1f, -0.3f, -0.1f, 0.1f}, 0.f, 0.f), 1).ok());
  ASSERT_TRUE(acc.Add(TinyModelState({0.3f, -0.3f, -0.1f, 0.1f}, 0.f, 0.f), 3).ok());
  ASSERT_TRUE(acc.Add(TinyModelState({0.3f, -0.3f, -0.1f, -0.3f}, 0.f, 0.f), 6).ok());
  auto majority = FinishVote(acc, 0, 0.5);
  auto changes = FinishVote(acc, 0, 0.05);
  auto moderate = FinishVote(acc, 0, 0.35);
  ASSERT_TRUE(majority.ok() && changes.ok() && moderate.ok());
  auto signs = [](const ModelState& s) {
    std::vector<int> out;
    for (float v : s.tensors[0].values) out.push_back(v >= 0.f ? 1 : -1);
    return out;
  };
  EXPECT_EQ(signs(*majority), (std::vector<int>{1, -1, -1, -1}));   // the specialist is outvoted
  EXPECT_EQ(signs(*changes), (std::vector<int>{-1, -1, -1, 1}));    // every change > 5% passes
  EXPECT_EQ(signs(*moderate), (std::vector<int>{1, -1, -1, 1}));    // 40% passes, 10% does not
  EXPECT_FLOAT_EQ(changes->tensors[0].values[2], -1.f);             // unanimous: m kept
}

TEST(SignVoteTest, StrategyBuildsVoteAggregators) {
  SignVoteStrategy strategy(1.0, 1, 0, kMajorityFlipShare);
  EXPECT_EQ(strategy.name(), "fedvote");
  auto agg = strategy.BeginAggregate(1, TinyModelState({-1.f, 1.f, 1.f, 1.f}, 0.f, 0.f));
  AddHandExample(agg.get());
  auto global = agg->Finish({});
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->tensors[0].values[0], -kVoteTieMagnitude);
  EXPECT_FLOAT_EQ(global->tensors[0].values[3], -1.f);
}

TEST(SignVoteTest, RejectsBadUpdatesWithoutHarm) {
  VoteAccumulator agg(TinyModelState({1, 1, 1, 1}, 0, 0));
  EXPECT_EQ(FinishVote(agg).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(agg.Add(TinyModelState({1, 1, 1, 1}, 0, 0), 0).ok());
  ModelState nan = TinyModelState({1, 1, 1, 1}, std::nanf(""), 0);
  EXPECT_FALSE(agg.Add(nan, 5).ok());
  ModelState other = TinyModelState({1, 1, 1, 1}, 0, 0);
  other.tensors[0].shape = {4};
  EXPECT_FALSE(agg.Add(other, 5).ok());
  EXPECT_FALSE(agg.AddEncoded("not an update", 5).ok());
  ModelState fine = TinyModelState({-1, 1, -1, 1}, 3, 4);
  std::string bytes = EncodeUpdate(fine, nullptr, *ParseCodecSpec("sign1+f32"), 0);
  EXPECT_FALSE(agg.AddEncoded(bytes, 0).ok());
  std::string flipped = bytes;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  EXPECT_EQ(agg.AddEncoded(flipped, 5).code(), StatusCode::kCorrupt);
  EXPECT_FALSE(agg.AddEncoded(EncodeUpdate(nan, nullptr, *ParseCodecSpec("sign1+q8"), 0), 5).ok());
  EXPECT_EQ(agg.count(), 0);
  ASSERT_TRUE(agg.AddEncoded(bytes, 5).ok());
  auto global = FinishVote(agg);
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->tensors[0].values, (std::vector<float>{-1, 1, -1, 1}));
  EXPECT_EQ(global->tensors[1].values[0], 3.f);
}

TEST(SignVoteTest, EncodedAndDecodedUpdatesVoteAlike) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0, 0.2f);
  ModelState global;
  global.meta = {"bdn-tiny", 2, 32, {}};
  global.tensors.push_back({"a.weight", {3, 7, 3}, TensorKind::kBinary, {}});
  global.tensors.push_back({"b.weight", {16}, TensorKind::kBinary, {}});
  global.tensors.push_back({"fc.weight", {2, 9}, TensorKind::kFloat, {}});
  global.tensors.push_back({"bn.running_var", {9}, TensorKind::kStat, {}});
  for (NamedTensor& t : global.tensors) {
    t.values.resize(NumElements(t.shape));
    for (float& v : t.values) v = dist(rng);
  }
  for (const char* codec : {"sign1+f32", "sign1_scaled+f16", "sign1+q8", "q8_delta+q8", "f32",
                            "sign1+q8+zstd", "sign1_scaled+f16+zstd"}) {
    SCOPED_TRACE(codec);
    VoteAccumulator encoded(global), decoded(global);
    for (int site = 0; site < 5; ++site) {
      ModelState trained = global;
      for (NamedTensor& t : trained.tensors) {
        for (float& v : t.values) v += dist(rng);
      }
      std::string bytes = EncodeUpdate(trained, &global, *ParseCodecSpec(codec), site);
      ASSERT_TRUE(encoded.AddEncoded(bytes, 10 + site).ok());
      auto state = DecodeUpdate(bytes, global);
      ASSERT_TRUE(state.ok());
      ASSERT_TRUE(decoded.Add(*state, 10 + site).ok());
    }
    auto a = FinishVote(encoded);
    auto b = FinishVote(decoded);
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t i = 0; i < a->tensors.size(); ++i) {
      EXPECT_EQ(a->tensors[i].values, b->tensors[i].values) << a->tensors[i].name;
    }
    for (float v : a->tensors[0].values) EXPECT_LE(std::fabs(v), 1.f);
  }
}

TEST(SignVoteTest, Sign1DownlinkCarriesMajorityAndMeanShare) {
  VoteAccumulator acc(TinyModelState({-0.5f, 0.1f, -0.1f, 0.1f}, 0.f, 0.f));
  AddHandExample(&acc);
  ModelState global = *FinishVote(acc);
  auto down = DecodeUpdate(EncodeUpdate(global, nullptr, *ParseCodecSpec("sign1_scaled"), 0),
                           global);
  ASSERT_TRUE(down.ok());
  const float scale = (kVoteTieMagnitude + 1.f / 3 + 2.f / 3 + 1.f) / 4;
  const std::vector<float>& v = down->tensors[0].values;
  EXPECT_FLOAT_EQ(v[0], -scale);
  EXPECT_FLOAT_EQ(v[1], scale);
  EXPECT_FLOAT_EQ(v[2], scale);
  EXPECT_FLOAT_EQ(v[3], -scale);
}

}  // namespace
}  // namespace fedsmear
