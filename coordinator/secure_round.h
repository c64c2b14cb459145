// Secure aggregation rounds (secure_aggregation: secagg+): the coordinator's side of SecAgg+.
//
// What: SecureTrainRound (coordinator/round.h, secure_round_run.cc) replaces PlainTrainRound's
// update collection. Stage order, each stage closing when every expected site answered, at its
// deadline, or when the missing sites fell silent:
//   0. select sites (strategy), assign secagg ids 1..n in selection order, send SecAggSetup and
//      then the TrainTask to each (sites train while the key stages run);
//   1. collect SecAggKeys (secagg_stage_deadline_s) -> CloseAdvertiseStage -> KeysRelay;
//   2. collect SecAggShares (secagg_stage_deadline_s) -> CloseShareStage -> SharesRelay;
//   3. collect SecAggMasked until round_deadline_s -> CloseMaskStage -> UnmaskRequest;
//   4. collect SecAggUnmaskResponse (secagg_stage_deadline_s) -> Finish -> the exact sum.
// Weights and scale: site i sends q_i = Quantize(clip_c((x_i - g) * w_i / W)), where g is the
// model the sites received, w_i the site's training-set size and W the sum of the selected
// sites' sizes (from their hellos). The sum over the survivors S is dequantized and rescaled by
// W / sum_{i in S} w_i, so the new global is g + sum_S w_i d_i / sum_S w_i: FedAvg over the
// survivors (exact up to clipping and ~2c/R rounding, R = floor((2^32-1)/n)). c is secagg_clip
// for trainable values and secagg_stat_clip for BN running statistics (TensorKind::kStat): a
// single clip of 4 would cut running-variance changes of several hundred (measured on the
// synthetic task) and wreck the model; the words stay in model order.
// Sign votes (strategy fedvote): site i gets an integer vote weight v_i (1..15, by training-set
// size) and sends, for every binary-conv weight, v_i if its trained latent weight is >= 0 and 0
// otherwise, packed vote_bits = ceil(log2(sum_i v_i + 1)) wide, floor(32 / vote_bits) per word
// (secagg/votes.h), followed by the quantized deltas of the other tensors as above. The
// unmasked sum gives P = sum of the + voters' weights per binary weight; the new latent state
// is the vote share (2P - V_S) / V_S over the survivors' weights V_S (a tie keeps the previous
// sign at magnitude kVoteTieMagnitude), exactly what the plain fedvote aggregator computes at a
// resolution of 1/V_S. With 4 sites a binary weight costs 6.4 bits instead of 32.
// The sum is all the strategy gets: SecureRoundSum turns the unmasked words into a RoundSum
// (coordinator/round_sum.h) and the strategy's own Finish, the one plain rounds use, makes the
// new global model from it. The vote layout is chosen by the strategy's Contribution().
// Failures: fewer than the threshold at any stage (or fewer than min_sites survivors) make the
// round incomplete (retried by Run); a site without a signing key in the allowlist is a
// FailedPrecondition that stops the run. Sites that shared keys and then left are recovered.
// Privacy: the coordinator holds one running masked sum (inside secagg::Server); per-site
// vectors are converted and added on arrival and never logged, stored or checkpointed.
// Thread-safety: the coordinator's round loop only. Ownership: values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/round_sum.h"
#include "models/model_state.h"
#include "secagg/quantize.h"

namespace fedsmear {

// How the survivors' vector was made and who survived.
struct SecureSumShape {
  secagg::QuantizationParams params;  // trainable values (params.clip = secagg_clip)
  float stat_clip = 0;                // BN running statistics
  uint32_t vote_bits = 0;             // > 0: binary tensors were packed votes this wide
  uint32_t survivors = 0;             // m: sites in the sum
  uint64_t total_weight = 0;          // W: the selected sites' weights
  uint64_t survivor_weight = 0;       // sum of w_i over the survivors
  uint64_t survivor_votes = 0;        // sum of u_i over the survivors (vote rounds)
};

// The unmasked sum of the survivors' vectors as a RoundSum relative to `base` (the model the
// sites decoded): delta sums sum_S w_i d_i = m * W * DequantizeMean, weight = survivor weight;
// vote sums 2P - V_S, vote_weight = V_S. InvalidArgument when survivors carry no weight or a
// vote sum exceeds the voters' weight (no honest set of sites sends that); Internal when the
// words do not fit the model.
Result<RoundSum> SecureRoundSum(const ModelState& base, const std::vector<uint32_t>& sum,
                                const SecureSumShape& shape);

// The sites' Ed25519 signing keys (site id -> raw 32 bytes) from the third column of
// allowed_sites_file; InvalidArgument when no allowlist is configured.
Result<std::map<std::string, std::string>> LoadSigningKeys(const CoordinatorConfig& config);

}  // namespace fedsmear
