// Sign votes: federated training of a binarized network whose binary convolutions travel as
// signs only, both ways (strategy "fedvote").
//
// Uplink. Each site sends the signs s_i in {-1,+1} of its binary-conv latent weights (codec
// sign1 or sign1_scaled, models/codec.h) and its float parameters and BN statistics in
// f32/f16/q8. The coordinator keeps, per binary weight, the sample-weighted vote share
//     v = sum_i(w_i * s_i) / sum_i(w_i)  in [-1, 1]        (w_i = the site's sample count)
// as its latent state; the next global sign flips when more than flip_share of the vote goes
// against the previous one (NextVoteValue below: three tenths by default, a vote on the sites'
// changes; 0.5 is the majority sign(v)), and a tie keeps the previous global sign (stored as
// +-kVoteTieMagnitude so that sign packing sees it). Float tensors and BN statistics are
// sample-weighted means, exactly as FedAvg.
// This is signSGD with majority vote (Bernstein et al. 2018/2019: 1-bit messages, a majority
// vote that tolerates noisy or faulty voters) applied to the weights of a BNN instead of its
// gradients; BiFL (Yang et al. 2021, "Communication-Efficient Federated Learning with Binary
// Neural Networks") showed that uploading only the binary parameters of a BNN suffices when the
// server estimates the latent parameters from the clients' binary ones (|v| is such an
// estimate: the agreement of the federation), and FedBAT (Li et al., ICML 2024) that binary
// updates learnt during local training lose little against full-precision FedAvg.
//
// The same vote runs under SecAgg+ (coordinator/secure_round.h) with integer vote weights: the
// sum is all the strategy sees, whichever provider computed it (coordinator/round_sum.h).
//
// Downlink. Finish() returns v in the binary tensors, so a sign1_scaled downlink carries sign(v)
// with scale mean|v|, and central evaluation can import the state as is (only signs reach
// inference). A site then rebuilds its latent weights with ReinitLatentFromSigns (models/
// latent_reinit.h): where the
// federation agrees with the site's own latent sign, the site keeps its latent magnitude (its
// accumulated "inertia", Helwegen et al. 2019); where the federation flipped the sign, the
// weight restarts with the new sign at +-epsilon (latent_flip epsilon, the default), just
// across the decision boundary, so the site's next gradients can move it either way without a
// stale magnitude pinning it, or at the layer's Glorot magnitude (latent_flip glorot), so that
// the federation's decision survives the site's first steps (and, with kept Adam moments, its
// momentum toward the sign it lost). A site
// with no state (first round, or a new site) starts every weight, with the received sign, at
// the mean |w| of the layer's Glorot-normal initialiser (latent_start glorot, the default), as
// if it had just initialised its model; latent_start epsilon starts it at +-epsilon instead,
// where the first optimizer steps (lr 0.002 against epsilon 0.001) flip signs almost at random:
// on real data (docs/benchmarks.md) the first three rounds of a 1-bit run then stayed near
// chance (0.09-0.16 against 0.20-0.50 with glorot).
//
// Thread-safety: VoteAccumulator and SignVoteStrategy are used from one thread at a time;
// ReinitLatentFromSigns is reentrant. Ownership: the accumulator copies the model the sites
// started from (layout, reference values for q8_delta decoding) and owns its running sums.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordinator/strategy.h"
#include "models/codec.h"
#include "models/model_state.h"

namespace fedsmear {

// Magnitude stored for a tied vote, carrying the previous global sign.
inline constexpr float kVoteTieMagnitude = 1e-6f;

// flip_share values: the plain majority, and the config's default (a vote on changes: with
// four sites of equal size, a sign two of them changed flips, one alone does not).
inline constexpr double kMajorityFlipShare = 0.5;
inline constexpr double kDefaultFlipShare = 0.3;

// The global model's new value of one binary weight. First the vote state
//     m = momentum * previous + (1 - momentum) * share        (vote_momentum, default 0)
// where `previous` is the weight's value in the current global model (the last round's state,
// or the initial latent weight in round 1) and `share` this round's vote share v. With momentum
// 0 this is v itself; with momentum > 0 a global sign flips only when the vote has favoured the
// other sign for long enough to outweigh the accumulated agreement (hysteresis, as FedAvgM /
// FedAdam keep server momentum on deltas).
// Then the flip rule (strategy_params.flip_share, kDefaultFlipShare unless configured): with g
// the previous global sign, (1 - g*m) / 2 is the weighted share of the vote against g, and the
// sign flips to -g when that share exceeds flip_share, i.e. when g*m < 1 - 2 * flip_share. 0.5
// is the plain majority; below 0.5 a minority that changed a sign (the one site that holds a
// rare class, say) can flip it, a vote on changes rather than on states; above 0.5
// a flip needs a supermajority.
// The value keeps m when m has the new sign; m == 0, or a flip that m does not support (only
// below 0.5), stores the new sign at kVoteTieMagnitude: no agreement carried into the next
// round's momentum.
float NextVoteValue(float previous, double share, double momentum, double flip_share);

// The plain provider of a sign-vote round's sum (coordinator/round_sum.h, binary_votes): signed
// sample-weighted votes for binary tensors, weighted deltas elsewhere.
class VoteAccumulator {
 public:
  // `global` is the model the sites started from: layout, origin of the deltas, q8_delta
  // reference of AddEncoded.
  explicit VoteAccumulator(const ModelState& global);

  // Folds in a decoded update of `weight` (> 0, its sample count): binary tensors count by
  // their sign (x >= 0 is +1), others by value. Refuses, leaving the sums untouched, another
  // layout, NaN/Inf or a weight that is not > 0.
  Status Add(const ModelState& state, double weight);

  // Folds in an update straight from EncodeUpdate's bytes, counting sign1/sign1_scaled bits
  // without unpacking them; other encodings are decoded. Corrupt bytes are refused as above.
  Status AddEncoded(std::string_view bytes, uint64_t num_samples);

  int count() const { return count_; }
  double total_weight() const { return total_weight_; }

  // The round's sum: vote sums with vote_weight = weight = the total sample weight.
  RoundSum Sum() const;

 private:
  Status CheckWeight(double weight) const;

  ModelState global_;
  std::vector<std::vector<double>> sums_;  // weighted votes (binary) or weighted values
  std::vector<float> scratch_;             // decoded non-sign tensors of AddEncoded
  std::vector<double> sign_table_;         // AddEncoded: +-w for each bit of each byte value
  double total_weight_ = 0;
  int count_ = 0;
};

// Strategy "fedvote": FedAvg's site selection and evaluation; sites contribute sign votes of
// their binary weights (plainly or through SecAgg+), and Finish sets each binary weight to
// NextVoteValue(its value in the current global model, the vote share, momentum, flip_share)
// and the other tensors to the weighted mean. The failures of the round are not used (the vote
// is over the sites that reported).
class SignVoteStrategy : public Strategy {
 public:
  SignVoteStrategy(double fraction, int min_sites, double momentum, double flip_share)
      : Strategy(fraction, min_sites), momentum_(momentum), flip_share_(flip_share) {}
  std::string name() const override { return "fedvote"; }
  SumSpec Contribution() const override { return SumSpec{true}; }
  double momentum() const { return momentum_; }
  double flip_share() const { return flip_share_; }
  Result<ModelState> Finish(int round, const ModelState& global, const RoundSum& sum) override;

 private:
  double momentum_;
  double flip_share_;
};

}  // namespace fedsmear
