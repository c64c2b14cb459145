#include "coordinator/plain_sum.h"

namespace fedsmear {

PlainSum::PlainSum(const ModelState& base, SumSpec spec, int threads) : base_(base) {
  if (spec.binary_votes) {
    votes_.emplace(base);
  } else {
    deltas_.emplace(base, threads);
  }
}

Status PlainSum::Add(const ModelState& state, double weight) {
  return votes_ ? votes_->Add(state, weight) : deltas_->Add(state, weight);
}

int PlainSum::count() const { return votes_ ? votes_->count() : deltas_->count(); }

Result<RoundSum> PlainSum::Sum() const {
  if (count() == 0) return FailedPrecondition("no update to aggregate");
  if (votes_) return votes_->Sum();
  return deltas_->Sum(base_);
}

}  // namespace fedsmear
