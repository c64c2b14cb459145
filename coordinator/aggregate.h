// Aggregation maths shared by the strategies: free functions on torch-free ModelStates.
//
// WeightedAccumulator, the plain provider of a round's delta sum (coordinator/round_sum.h),
// folds updates in one at a time (double-precision running sums), so the coordinator's memory
// is O(model) however many sites report: an update can be dropped as soon as it has been added.
// Each Add reads the update once, checking every 64 KiB chunk for NaN/Inf just before adding
// it; with threads > 1 the values are split into that many contiguous ranges added in parallel
// (the loop is memory-bound: two cores nearly double its rate).
// Thread-safety: call from one thread at a time (Add starts and joins its own workers).
// Ownership: owns its sums.
#pragma once

#include <vector>

#include "common/status.h"
#include "coordinator/round_sum.h"
#include "models/model_state.h"

namespace fedsmear {

class WeightedAccumulator {
 public:
  // `layout` fixes names, shapes and metadata every added state must match; `threads` (>= 1)
  // is how many threads each Add uses.
  explicit WeightedAccumulator(const ModelState& layout, int threads = 1);

  // Adds weight * state. Refuses a state with another layout, NaN/Inf values or a weight that
  // is not > 0, leaving count and total weight unchanged and the sums untouched (layout,
  // weight) or, for NaN/Inf found part-way, restored by subtracting what had been added
  // (equal to the earlier sums up to double rounding, ~1e-16 relative).
  Status Add(const ModelState& state, double weight);

  int count() const { return count_; }
  double total_weight() const { return total_weight_; }

  // The weighted mean; FailedPrecondition when nothing was added.
  Result<ModelState> Mean() const;

  // The sum of w_i * (x_i - base) over the added states, every tensor a delta tensor
  // (RoundSum). InvalidArgument when `base` has another layout.
  Result<RoundSum> Sum(const ModelState& base) const;

 private:
  // Values per checked-then-added chunk: 64 KiB of floats, resident in L2 between the two.
  static constexpr size_t kChunk = 16384;

  // Adds weight * state over the flat value range [begin, end) (tensors in layout order),
  // chunk by chunk. With `check`, stops before the first chunk holding NaN/Inf and returns its
  // flat index; otherwise (or when all is finite) returns `end`.
  size_t AddRange(const ModelState& state, double weight, size_t begin, size_t end, bool check);
  // The tensor holding flat index `at`.
  size_t TensorAt(size_t at) const;

  ModelState layout_;  // metadata and shapes; values emptied
  int threads_;
  std::vector<size_t> offsets_;  // flat index of each tensor's first value, then the total
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
