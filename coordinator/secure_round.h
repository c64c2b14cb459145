// Secure aggregation rounds (secure_aggregation: secagg+): the coordinator's side of SecAgg+.
//
// What: the SecAgg+ collector (coordinator/sum_collector.h, secagg_collector.cc; each attempt
// in secure_attempt.cc) gives TrainRound the survivors' sum without any site's update in the
// clear. Stage order, each stage closing when every expected site answered, at its deadline, or
// when the missing sites fell silent:
//   0. assign secagg ids 1..n in selection order, send SecAggSetup and then the TrainTask to each
//      (sites train while the key stages run);
//   1. collect SecAggKeys (secagg_stage_deadline_s) -> CloseAdvertiseStage -> KeysRelay;
//   2. collect SecAggShares (secagg_stage_deadline_s) -> CloseShareStage -> SharesRelay;
//   3. collect SecAggMasked until round_deadline_s -> CloseMaskStage -> consistency check;
//   4. collect SecAggUnmaskResponse (secagg_stage_deadline_s) -> Finish -> the exact sum.
// Weights and scale (models/contribution.h): the setup names each site's weight w_i (its
// training-set size capped at max_site_samples, which the site checks is its own) and
// W = sum_i w_i; site i sends q_i = Quantize(clip_c((x_i - g) * w_i / W)), g the model the
// sites received. The sum over the survivors S is dequantized and rescaled by W / sum_S w_i, so
// the new global is g + sum_S w_i d_i / sum_S w_i: FedAvg over the survivors (exact up to
// clipping and ~2c/R rounding, R = floor((2^32-1)/2n), secagg/quantize.h). c is secagg_clip for
// trainable values and secagg_stat_clip for BN running statistics (TensorKind::kStat).
// Sign votes (strategy fedvote): every site gets the same vote weight (secagg/votes.h
// SecureVoteWeights; a site refuses unequal ones) and sends, for every binary-conv weight, that
// weight if its latent weight votes + and 0 otherwise, packed vote_bits wide, then the quantized
// deltas of the other tensors as above. The unmasked sum is, per binary weight, the number of
// + voters: no more than a count. The new latent state is the vote share over the survivors.
// The sum is all the strategy gets: SecureRoundSum turns the unmasked words into a RoundSum
// (coordinator/round_sum.h) and the strategy's Finish, the same as in plain rounds, makes the
// new global model.
// Failures are attempts, not the run's end: fewer than the threshold at any stage (or fewer than
// min_sites survivors) make the attempt incomplete; sites that left before masking are benched
// until a secure round completes; a site without a signing key is left out of secure rounds
// (and named when too few remain). A sum that cannot be right (SecureRoundSum's kCorrupt:
// a vote count above the voters, a value above what the survivors' inputs can add up to) starts
// the search for its culprit (coordinator/secagg_search.h). An attempt in which sites masked
// spends its round: they refuse a second sum of it (secagg/session_ledger.h).
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
// vote sums 2P - V_S, vote_weight = V_S. kCorrupt when the sum cannot be right: a vote sum
// exceeds the voters' weight or a value exceeds what the survivors' inputs can add up to (no
// honest set of sites sends that); InvalidArgument when survivors carry no weight; Internal
// when the words do not fit the model.
Result<RoundSum> SecureRoundSum(const ModelState& base, const std::vector<uint32_t>& sum,
                                const SecureSumShape& shape);

// The sites' Ed25519 signing keys (site id -> raw 32 bytes) from the third column of
// allowed_sites_file; InvalidArgument when no allowlist is configured.
Result<std::map<std::string, std::string>> LoadSigningKeys(const CoordinatorConfig& config);

}  // namespace fedsmear
