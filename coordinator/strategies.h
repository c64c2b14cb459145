// The aggregation strategies: FedAvg (McMahan et al. 2017), FedProx (Li et al. 2020: FedAvg on
// the server, a proximal term mu/2 ||w - w_global||^2 in each site's loss) and FedAdam (Reddi et
// al. 2021: server-side Adam on the averaged delta). See coordinator/strategy.h for the contract.
#pragma once

#include "coordinator/aggregate.h"
#include "coordinator/strategy.h"

namespace fedsmear {

// Sample-weighted mean of every tensor: latent weights, floats and BN running statistics.
class FedAvg : public Strategy {
 public:
  // `threads`: how many threads add each update (WeightedAccumulator).
  FedAvg(double fraction, int min_sites, int threads = 1)
      : Strategy(fraction, min_sites, threads) {}
  std::string name() const override { return "fedavg"; }
  Result<ModelState> Finish(int round, const ModelState& global, const RoundSum& sum) override;
};

class FedProx : public FedAvg {
 public:
  FedProx(double fraction, int min_sites, double mu, int threads = 1)
      : FedAvg(fraction, min_sites, threads), mu_(mu) {}
  std::string name() const override { return "fedprox"; }
  std::vector<TrainInstruction> ConfigureTrain(int round, const std::vector<SiteInfo>& available,
                                               const TrainConfig& base, double learning_rate,
                                               std::mt19937_64& rng) override;

 private:
  double mu_;
};

class FedAdam : public Strategy {
 public:
  FedAdam(double fraction, int min_sites, FedAdamParams params, int threads = 1)
      : Strategy(fraction, min_sites, threads), params_(params) {}
  std::string name() const override { return "fedadam"; }
  Result<ModelState> Finish(int round, const ModelState& global, const RoundSum& sum) override;
  std::string SaveState() const override;
  Status LoadState(const std::string& bytes) override;

 private:
  FedAdamParams params_;
  FedAdamState state_;
};

}  // namespace fedsmear
