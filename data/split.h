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

#include "common/status.h"
#include "data/dataset.h"

namespace fedsmear {

// Samples per class among `indices` (all samples when `indices` is null).
std::vector<int64_t> CountClasses(const Dataset& ds, const std::vector<size_t>* indices = nullptr);

// w_c proportional to 1 / n_c, scaled so the mean over classes with samples is 1; classes with
// no samples get 0.
std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& counts);

// Offsets added to the logits in the training loss (logit adjustment, Menon et al. 2021; in
// federated label skew FedLC, Zhang et al. 2022): tau * log(pi_c) with pi_c the local class
// prior among the classes the site has, and kAbsentClassOffset for a class with no local sample
// (restricted softmax, FedRS, Li & Zhan 2021): its softmax share, and with it every gradient on
// its score, is exactly zero, so a site that never sees a class leaves its scores to the sites
// that do. Returns all zeros when tau is 0 or there are no samples.
//
// With a `target` prior (the pooled class distribution of all sites, one per class), the
// offsets become tau * (log pi_c - log target_c): the model's own logits then learn the pooled
// posterior, which plain cross-entropy on the union of the sites' data would learn, instead of
// a class-balanced one (Menon et al.'s loss with the test prior; FedLC's calibration toward the
// global distribution). A target share below kMinTargetPrior is raised to it, so a class the
// pool barely has cannot give an unbounded offset. An empty target is the balanced one.
inline constexpr double kAbsentClassOffset = -1e4;
inline constexpr double kMinTargetPrior = 1e-4;
std::vector<double> LogitAdjustmentOffsets(const std::vector<int64_t>& counts, double tau,
                                           const std::vector<double>& target = {});

struct TrainValIndices {
  std::vector<size_t> train;  // indices into Dataset::samples, ascending
  std::vector<size_t> val;
};

// val_fraction in [0, 1). Errors: kInvalidArgument for a fraction outside that range.
Result<TrainValIndices> TrainValSplit(const Dataset& ds, double val_fraction, uint64_t seed,
                                      bool by_group);

}  // namespace fedsmear
