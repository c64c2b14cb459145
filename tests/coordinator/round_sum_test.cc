// Every registered strategy finishes from a plain sum (its own aggregator over decoded updates)
// and from a SecAgg+-computed sum of the same updates (the sites' QuantizeForSetup vectors,
// summed mod 2^32 as the unmasked SecAgg+ sum is, then SecureRoundSum) to the same model, up to
// quantization, over three rounds so that server state (FedAdam's moments, FedAvgM's velocity)
// is exercised. The masking itself cancels exactly (secure_round_test.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "secagg/site_secagg.h"
#include "secagg/votes.h"
#include "coordinator/secure_round.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

ModelState Model(std::mt19937& rng) {
  std::normal_distribution<float> dist(0, 0.3f);
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {}};
  s.tensors.push_back({"conv.weight", {4, 10}, TensorKind::kBinary, std::vector<float>(40)});
  s.tensors.push_back({"fc.weight", {30}, TensorKind::kFloat, std::vector<float>(30)});
  s.tensors.push_back({"bn.running_var", {10}, TensorKind::kStat, std::vector<float>(10)});
  for (NamedTensor& t : s.tensors) {
    for (float& v : t.values) {
      v = t.kind == TensorKind::kStat ? 1.f + std::fabs(dist(rng)) : dist(rng);
    }
  }
  return s;
}

// A site's trained model: latent weights and floats move a little, statistics a lot.
ModelState Trained(const ModelState& global, std::mt19937& rng) {
  std::normal_distribution<float> dist(0, 1.f);
  ModelState s = global;
  for (NamedTensor& t : s.tensors) {
    const float step = t.kind == TensorKind::kStat ? 20.f : 0.05f;
    for (float& v : t.values) v += step * dist(rng);
  }
  return s;
}

// What SecAgg+ sums for `spec`: the setup the sites quantize for (sizes 10, 20, 30, whose vote
// weights 5, 10, 15 are proportional to them, so that votes weigh alike in both sums).
wire::SecAggSetup SetupFor(const SumSpec& spec, const std::vector<uint64_t>& sizes) {
  wire::SecAggSetup setup;
  setup.mask_bits = 32;
  setup.clip = 4;
  setup.stat_clip = 4096;
  const std::vector<uint32_t> votes = secagg::VoteWeights(sizes);
  uint64_t total_votes = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    setup.total_weight += sizes[i];
    total_votes += votes[i];
    setup.sites.push_back({"s" + std::to_string(i), static_cast<uint32_t>(i + 1), "",
                           spec.binary_votes ? votes[i] : 0, sizes[i]});
  }
  setup.weight_cap = 1000;
  setup.vote_bits = spec.binary_votes ? secagg::VoteFieldBits(total_votes) : 0;
  return setup;
}

class PlainAndSecureSumTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PlainAndSecureSumTest, FinishToTheSameModel) {
  CoordinatorConfig c;
  c.strategy = GetParam();
  c.min_sites = 1;
  auto plain = MakeStrategy(c);
  auto secure = MakeStrategy(c);
  ASSERT_TRUE(plain.ok() && secure.ok()) << plain.status();
  const SumSpec spec = (*plain)->Contribution();
  const std::vector<uint64_t> sizes = {10, 20, 30};
  const wire::SecAggSetup setup = SetupFor(spec, sizes);
  std::mt19937 rng(7);
  ModelState global = Model(rng);
  for (int round = 1; round <= 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto agg = (*plain)->BeginAggregate(round, global);
    std::vector<uint32_t> words(SecureVectorLength(global, setup.vote_bits), 0);
    for (size_t i = 0; i < sizes.size(); ++i) {
      const ModelState trained = Trained(global, rng);
      ASSERT_TRUE(agg->Add({"s" + std::to_string(i), sizes[i], trained}).ok());
      auto q = QuantizeForSetup(trained, global, sizes[i], setup, "s" + std::to_string(i),
                                100 * round + i);
      ASSERT_TRUE(q.ok()) << q.status();
      ASSERT_EQ(q->size(), words.size());
      for (size_t k = 0; k < words.size(); ++k) words[k] += (*q)[k];  // mod 2^32
    }
    auto from_plain = agg->Finish({});
    ASSERT_TRUE(from_plain.ok()) << from_plain.status();

    SecureSumShape shape;
    shape.params = QuantizationFor(setup);
    shape.stat_clip = static_cast<float>(setup.stat_clip);
    shape.vote_bits = setup.vote_bits;
    shape.survivors = 3;
    shape.total_weight = shape.survivor_weight = setup.total_weight;
    for (const wire::SecAggSite& s : setup.sites) shape.survivor_votes += s.vote_weight;
    auto sum = SecureRoundSum(global, words, shape);
    ASSERT_TRUE(sum.ok()) << sum.status();
    auto from_secure = (*secure)->Finish(round, global, *sum);
    ASSERT_TRUE(from_secure.ok()) << from_secure.status();

    ASSERT_TRUE(CheckSameLayout(*from_plain, *from_secure).ok());
    size_t moved = 0;
    for (size_t t = 0; t < global.tensors.size(); ++t) {
      const NamedTensor& a = from_plain->tensors[t];
      const NamedTensor& b = from_secure->tensors[t];
      // Quantization: ~2c/R per site (c = 4 or 4096, R ~ 1.4e9) plus float rounding.
      const float tolerance = a.kind == TensorKind::kStat ? 2e-3f : 2e-5f;
      for (size_t k = 0; k < a.values.size(); ++k) {
        EXPECT_NEAR(a.values[k], b.values[k], tolerance) << a.name << "[" << k << "]";
        moved += a.values[k] != global.tensors[t].values[k];
      }
    }
    EXPECT_GT(moved, global.NumValues() / 2) << "the round changed too little to compare";
    global = *from_plain;
  }
}

std::vector<std::string> RegisteredNames() {
  std::vector<std::string> names;
  for (const StrategyEntry& e : Strategies()) names.push_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, PlainAndSecureSumTest, ::testing::ValuesIn(RegisteredNames()));

}  // namespace
}  // namespace fedsmear
