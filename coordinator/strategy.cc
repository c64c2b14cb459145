#include "coordinator/strategy.h"

#include <optional>

#include "coordinator/aggregate.h"
#include "coordinator/vote.h"

namespace fedsmear {
namespace {

// The plain provider of a round's sum: WeightedAccumulator for delta sums, VoteAccumulator when
// binary weights vote; Finish hands the sum to the strategy.
class SumAggregator : public RoundAggregator {
 public:
  SumAggregator(Strategy& strategy, int round, const ModelState& global, int threads)
      : strategy_(strategy), round_(round), global_(global) {
    if (strategy.Contribution().binary_votes) {
      votes_.emplace(global);
    } else {
      deltas_.emplace(global, threads);
    }
  }
  Status Add(const SiteUpdate& u) override {
    const auto w = static_cast<double>(u.num_samples);
    return votes_ ? votes_->Add(u.state, w) : deltas_->Add(u.state, w);
  }
  int count() const override { return votes_ ? votes_->count() : deltas_->count(); }
  Result<ModelState> Finish(const std::vector<SiteFailure>&) override {
    if (count() == 0) return FailedPrecondition("no update to aggregate");
    RoundSum sum;
    if (votes_) {
      sum = votes_->Sum();
    } else {
      ASSIGN_OR_RETURN(sum, deltas_->Sum(global_));
    }
    return strategy_.Finish(round_, global_, sum);
  }

 private:
  Strategy& strategy_;
  int round_;
  ModelState global_;
  std::optional<WeightedAccumulator> deltas_;
  std::optional<VoteAccumulator> votes_;
};

}  // namespace

std::unique_ptr<RoundAggregator> Strategy::BeginAggregate(int round, const ModelState& global) {
  return std::make_unique<SumAggregator>(*this, round, global, threads_);
}

std::vector<TrainInstruction> Strategy::ConfigureTrain(int /*round*/,
                                                       const std::vector<SiteInfo>& available,
                                                       const TrainConfig& base,
                                                       double learning_rate,
                                                       std::mt19937_64& rng) {
  std::vector<TrainInstruction> out;
  for (size_t i : SampleSites(available.size(), fraction_, min_sites_, rng)) {
    TrainInstruction t{available[i].site_id, base};
    t.config.learning_rate = learning_rate;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> Strategy::ConfigureEvaluate(int /*round*/,
                                                     const std::vector<SiteInfo>& available) {
  std::vector<std::string> ids;
  for (const SiteInfo& s : available) {
    if (s.num_val > 0) ids.push_back(s.site_id);
  }
  return ids;
}

EvalSummary Strategy::AggregateEvaluate(int /*round*/, const std::vector<EvalReport>& reports,
                                        const std::vector<SiteFailure>& /*failures*/) {
  EvalSummary s;
  double loss = 0, acc = 0;
  for (const EvalReport& r : reports) {
    if (r.num_samples == 0) continue;
    s.num_samples += r.num_samples;
    loss += r.loss * static_cast<double>(r.num_samples);
    acc += r.accuracy * static_cast<double>(r.num_samples);
    ++s.sites;
  }
  if (s.num_samples > 0) {
    s.loss = loss / static_cast<double>(s.num_samples);
    s.accuracy = acc / static_cast<double>(s.num_samples);
  }
  return s;
}

}  // namespace fedsmear
