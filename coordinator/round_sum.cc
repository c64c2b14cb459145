#include "coordinator/round_sum.h"

#include <cmath>
#include <string>

namespace fedsmear {

RoundSum EmptySum(const ModelState& base, SumSpec spec) {
  RoundSum s;
  s.spec = spec;
  s.base = base;
  s.sums.reserve(base.tensors.size());
  for (const NamedTensor& t : base.tensors) s.sums.emplace_back(t.values.size(), 0.0);
  return s;
}

Result<ModelState> RoundSum::Mean() const {
  if (count == 0) return FailedPrecondition("no update was summed");
  bool has_votes = false;
  for (const NamedTensor& t : base.tensors) has_votes = has_votes || spec.IsVote(t);
  if (!(weight > 0) || (has_votes && !(vote_weight > 0))) {
    return FailedPrecondition("the summed sites carry no weight");
  }
  if (sums.size() != base.tensors.size()) {
    return InvalidArgument("the sum has " + std::to_string(sums.size()) + " tensors, the model " +
                           std::to_string(base.tensors.size()));
  }
  ModelState out = base;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    NamedTensor& t = out.tensors[i];
    const std::vector<double>& sum = sums[i];
    if (sum.size() != t.values.size()) {
      return InvalidArgument("the sum of tensor " + t.name + " has the wrong size");
    }
    if (spec.IsVote(t)) {
      const double inv = 1.0 / vote_weight;
      for (size_t k = 0; k < sum.size(); ++k) t.values[k] = static_cast<float>(sum[k] * inv);
    } else {
      const double inv = 1.0 / weight;
      for (size_t k = 0; k < sum.size(); ++k) {
        t.values[k] = static_cast<float>(static_cast<double>(t.values[k]) + sum[k] * inv);
      }
    }
  }
  RETURN_IF_ERROR(CheckFinite(out));
  return out;
}

}  // namespace fedsmear
