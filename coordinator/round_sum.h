// What a site contributes to a training round, and the sum of those contributions: the one
// interface between the strategies (which say what they need and finish the new global model
// from it, coordinator/strategy.h) and the two collectors of the sum (coordinator/
// sum_collector.h): the plain one (PlainSum, coordinator/plain_sum.h) and SecAgg+
// (SecureRoundSum in coordinator/secure_round.h).
//
// The contribution rule itself (models/contribution.h): a site i of weight w_i that trained x_i
// from the model g it received contributes, per tensor of the model,
//   delta tensors (every tensor, or every non-binary one when SumSpec::binary_votes):
//       w_i * (x_i - g)
//   vote tensors (the binary-conv latent weights when SumSpec::binary_votes):
//       u_i * s_i with s_i = +1 where x_i votes + and -1 elsewhere; u_i is w_i in plain rounds
//       and one weight shared by every site under SecAgg+ (so the sum reveals only a count)
// RoundSum holds those sums, the total weights sum w_i and sum u_i, and g. A plain and a secure
// sum of the same updates agree up to SecAgg+'s clipping and quantization (~2c/R per site) and
// the vote weights, so a strategy's Finish gives the same model from either.
// Thread-safety: plain values. Ownership: RoundSum owns its copy of g and its sums.
#pragma once

#include <vector>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

struct SumSpec {
  // Binary-conv latent weights contribute their signs as weighted votes instead of deltas.
  bool binary_votes = false;

  bool IsVote(const NamedTensor& t) const {
    return binary_votes && t.kind == TensorKind::kBinary;
  }
};

struct RoundSum {
  SumSpec spec;
  ModelState base;                        // g: layout, and the origin of every delta
  std::vector<std::vector<double>> sums;  // per tensor of `base`, in model order
  double weight = 0;                      // sum of w_i
  double vote_weight = 0;                 // sum of u_i (0 without vote tensors)
  int count = 0;                          // sites summed

  // The weighted mean: g + sum / weight for delta tensors and, for vote tensors, the vote share
  // sum / vote_weight in [-1, 1]. FailedPrecondition when nothing was summed or a total weight
  // is not > 0; InvalidArgument when the sums do not fit `base` or the mean is not finite.
  Result<ModelState> Mean() const;
};

// A RoundSum of zeros laid out after `base`.
RoundSum EmptySum(const ModelState& base, SumSpec spec);

}  // namespace fedsmear
