// Aggregation maths shared by the strategies: free functions on torch-free ModelStates.
//
// WeightedAccumulator folds updates in one at a time (double-precision running sums), so the
// coordinator's memory is O(model) however many sites report: an update can be dropped as soon
// as it has been added. Thread-safety: one thread per accumulator. Ownership: owns its sums.
#pragma once

#include <vector>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

class WeightedAccumulator {
 public:
  // `layout` fixes names, shapes and metadata every added state must match.
  explicit WeightedAccumulator(const ModelState& layout);

  // Adds weight * state. Refuses (and leaves the sums untouched) a state with another layout,
  // NaN/Inf values or a weight that is not > 0.
  Status Add(const ModelState& state, double weight);

  int count() const { return count_; }
  double total_weight() const { return total_weight_; }

  // The weighted mean; FailedPrecondition when nothing was added.
  Result<ModelState> Mean() const;

 private:
  ModelState layout_;  // metadata and shapes; values emptied
  std::vector<std::vector<double>> sums_;
  double total_weight_ = 0;
  int count_ = 0;
};

// Server-side Adam (Reddi et al. 2021, "Adaptive Federated Optimization"), per value:
//   delta = mean - global;  m = b1*m + (1-b1)*delta;  v = b2*v + (1-b2)*delta^2
//   global += lr * m / (sqrt(v) + tau)
// m and v are sized on first use. BN running statistics (kStat) take the mean directly and
// binary latent weights are clipped to +-clip afterwards.
struct FedAdamState {
  std::vector<std::vector<float>> m, v;
};
struct FedAdamParams {
  double lr = 0.01, beta1 = 0.9, beta2 = 0.99, tau = 1e-3, clip = 1.3;
};
Status FedAdamStep(const ModelState& mean, const FedAdamParams& p, FedAdamState* state,
                   ModelState* global);

// Selects max(min_sites, ceil(fraction * n)) of n sites uniformly without replacement
// (all when fewer are available); returns indices in ascending order.
template <typename Rng>
std::vector<size_t> SampleSites(size_t n, double fraction, int min_sites, Rng& rng);

}  // namespace fedsmear

#include "coordinator/aggregate_inl.h"
