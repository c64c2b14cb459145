#include "coordinator/strategy.h"

#include "coordinator/plain_sum.h"

namespace fedsmear {
namespace {

// Plain sums handed to the strategy's Finish (tests and tools that fold updates by hand; rounds
// use the collectors of coordinator/sum_collector.h).
class SumAggregator : public RoundAggregator {
 public:
  SumAggregator(Strategy& strategy, int round, const ModelState& global, int threads)
      : strategy_(strategy), round_(round), global_(global),
        sum_(global, strategy.Contribution(), threads) {}
  Status Add(const SiteUpdate& u) override {
    return sum_.Add(u.state, static_cast<double>(u.num_samples));
  }
  int count() const override { return sum_.count(); }
  Result<ModelState> Finish(const std::vector<SiteFailure>&) override {
    ASSIGN_OR_RETURN(RoundSum sum, sum_.Sum());
    return strategy_.Finish(round_, global_, sum);
  }

 private:
  Strategy& strategy_;
  int round_;
  ModelState global_;
  PlainSum sum_;
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
