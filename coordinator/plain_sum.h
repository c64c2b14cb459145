// PlainSum: the plain provider of a round's RoundSum (coordinator/round_sum.h), folding decoded
// updates in as they arrive: WeightedAccumulator (coordinator/aggregate.h) for delta tensors,
// VoteAccumulator (coordinator/vote.h) when the strategy's contribution has sign votes. Memory
// is O(model) however many sites report. Used by the plain collector (plain_collector.cc) and by
// Strategy::BeginAggregate.
// Thread-safety: one thread at a time. Ownership: owns a copy of the base model and its sums.
#pragma once

#include <optional>

#include "common/status.h"
#include "coordinator/aggregate.h"
#include "coordinator/round_sum.h"
#include "coordinator/vote.h"
#include "models/model_state.h"

namespace fedsmear {

class PlainSum {
 public:
  // `base`: the model the sites decoded (layout and origin of every delta); `threads`: how many
  // threads each Add of a delta sum uses.
  PlainSum(const ModelState& base, SumSpec spec, int threads = 1);

  // Adds a decoded update of weight `weight` (> 0). Refuses, leaving the sum as it was, another
  // layout, NaN/Inf values or a weight that is not > 0.
  Status Add(const ModelState& state, double weight);
  int count() const;
  // The sum so far; FailedPrecondition when nothing was added.
  Result<RoundSum> Sum() const;

 private:
  ModelState base_;
  std::optional<WeightedAccumulator> deltas_;
  std::optional<VoteAccumulator> votes_;
};

}  // namespace fedsmear
