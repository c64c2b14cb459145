// FedAvg and FedProx: the sample-weighted mean of the sites' models.
#include "coordinator/strategies.h"

namespace fedsmear {
namespace {

class MeanAggregator : public RoundAggregator {
 public:
  MeanAggregator(const ModelState& global, int threads) : acc_(global, threads) {}
  Status Add(const SiteUpdate& u) override {
    return acc_.Add(u.state, static_cast<double>(u.num_samples));
  }
  int count() const override { return acc_.count(); }
  Result<ModelState> Finish(const std::vector<SiteFailure>&) override { return acc_.Mean(); }

 private:
  WeightedAccumulator acc_;
};

}  // namespace

std::unique_ptr<RoundAggregator> FedAvg::BeginAggregate(int, const ModelState& global) {
  return std::make_unique<MeanAggregator>(global, threads_);
}

std::vector<TrainInstruction> FedProx::ConfigureTrain(int round,
                                                      const std::vector<SiteInfo>& available,
                                                      const TrainConfig& base,
                                                      double learning_rate,
                                                      std::mt19937_64& rng) {
  std::vector<TrainInstruction> out =
      Strategy::ConfigureTrain(round, available, base, learning_rate, rng);
  for (TrainInstruction& t : out) t.config.fedprox_mu = mu_;
  return out;
}

}  // namespace fedsmear
