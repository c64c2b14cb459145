// FedAvg and FedProx: the sample-weighted mean of the sites' models.
#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {

Result<ModelState> FedAvg::Finish(int, const ModelState&, const RoundSum& sum) {
  if (sum.spec.binary_votes) return Internal(name() + " finishes from deltas only");
  return sum.Mean();
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

StrategyEntry FedAvgEntry() {
  return {"fedavg",
          "sample-weighted mean of the sites' models (McMahan et al. 2017)",
          {},
          [](const CoordinatorConfig& c, const StrategyParams&)
              -> Result<std::unique_ptr<Strategy>> {
            return NewStrategy<FedAvg>(c.fraction, c.min_sites, c.aggregation_threads);
          }};
}

StrategyEntry FedProxEntry() {
  return {"fedprox",
          "FedAvg on the server, proximal term train.fedprox_mu in each site's loss (Li et al. "
          "2020)",
          {},
          [](const CoordinatorConfig& c, const StrategyParams&)
              -> Result<std::unique_ptr<Strategy>> {
            return NewStrategy<FedProx>(c.fraction, c.min_sites, c.train.fedprox_mu,
                                        c.aggregation_threads);
          }};
}

}  // namespace fedsmear
