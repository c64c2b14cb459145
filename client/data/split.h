// Class balance and train/validation splits of one site's dataset.
//
// TrainValSplit is stratified: each class contributes round(val_fraction * n_c) samples to
// validation (never all of a class with 2+ samples; a class with one sample stays in training).
// With by_group, whole groups (Sample::group: one smear or one original cell and its augmented
// copies) go to one side, chosen greedily to bring every class's validation count as close as
// possible to its target, so no group straddles train and validation. Both are seeded and
// deterministic (portable RNG, see random.h); outputs are sorted sample indices.
//
// Thread-safety: pure functions. Ownership: results by value.
#pragma once

#include <cstdint>
#include <vector>

#include "client/data/dataset.h"
#include "common/status.h"

namespace fedsmear {

// Samples per class among `indices` (all samples when `indices` is null).
std::vector<int64_t> CountClasses(const Dataset& ds, const std::vector<size_t>* indices = nullptr);

// w_c proportional to 1 / n_c, scaled so the mean over classes with samples is 1; classes with
// no samples get 0.
std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& counts);

struct TrainValIndices {
  std::vector<size_t> train;  // indices into Dataset::samples, ascending
  std::vector<size_t> val;
};

// val_fraction in [0, 1). Errors: kInvalidArgument for a fraction outside that range.
Result<TrainValIndices> TrainValSplit(const Dataset& ds, double val_fraction, uint64_t seed,
                                      bool by_group);

}  // namespace fedsmear
