// SecAggSession: one site's side of a SecAgg+ round, between the wire and secagg::Site.
//
// What: created from a SecAggSetup (Start), it answers each stage with the wire message to send:
//   Start                 -> SecAggKeys (stage 1)
//   OnKeysRelay           -> SecAggShares (stage 2)
//   OnSharesRelay + SetInput (either order) -> TakeMasked() yields SecAggMasked once (stage 3)
//   OnConsistencyCheck    -> SecAggConsistencySignature (the survivor set, signed once)
//   OnUnmaskRequest       -> SecAggUnmaskResponse (stage 4, only with t signatures of the set)
// Start refuses (kPermissionDenied, with a reason for the Refusal) a setup the site policy
// refuses (SecAggPolicy::CheckSetup: sizes, t, k, roster, vote weights), whose weights are not
// honest (CheckContributionWeights: this site's is not its own capped count), whose directory lacks
// this site or names another signing key for it, or whose task id or round the SessionLedger
// refuses (a reused task id, a second session of a round this site already masked in). The
// session's secagg::Config carries the setup's transcript (SetupTranscript, in the context's run),
// so its key and consistency signatures say which setup it saw, and peers that saw another one
// are refused at the key relay. The quantized input is held only until it is masked; only
// masked words leave, and the ledger records the round when they do.
// Its purpose (training or batch-norm statistics) is in the transcript and the ledger, so a
// session of one purpose can never stand in for the other.
// QuantizeDelta turns a trained model into the input: (trained - global) * weight/total_weight,
// clipped to +-clip (+-stat_clip for BN running statistics, whose changes are orders of magnitude
// larger than those of trainable values), quantized for n contributors (secagg::Quantize, seeded
// per site and round), in model order.
// Thread-safety: one session per round, driven from the site's main loop only.
// Ownership: owns the secagg::Site (and so the round's secrets); wiped when destroyed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/wire/messages.h"
#include "models/model_state.h"
#include "secagg/crypto.h"
#include "secagg/quantize.h"
#include "secagg/site.h"
#include "secagg/verify_memo.h"
#include "secagg/session_ledger.h"
#include "secagg/site_policy.h"

namespace fedsmear {

// What training hands to the session (computed on the worker thread).
struct SecAggInput {
  uint64_t task_id = 0;
  std::vector<uint32_t> quantized;
  uint64_t num_samples = 0;
  wire::TrainMetrics metrics;
};

// The quantization a setup prescribes.
secagg::QuantizationParams QuantizationFor(const wire::SecAggSetup& setup);

// (trained - global) * weight / total_weight, quantized; both states must share a layout.
// `params.clip` bounds trainable values, `stat_clip` BN running statistics (TensorKind::kStat).
Result<std::vector<uint32_t>> QuantizeDelta(const ModelState& trained, const ModelState& global,
                                            uint64_t weight, uint64_t total_weight,
                                            const secagg::QuantizationParams& params,
                                            float stat_clip, uint64_t seed);

// Sign-vote rounds (setup.vote_bits > 0, strategy fedvote): the vector starts with the votes of
// all binary-conv latent weights in model order, packed vote_bits wide with the site's vote
// weight (secagg/votes.h), and continues with QuantizeDelta of the other tensors.
// VectorLength gives the words either layout needs (vote_bits 0: one per value).
size_t SecureVectorLength(const ModelState& model, uint32_t vote_bits);
// A copy of `model` without its binary tensors (the float part of a sign-vote vector).
ModelState WithoutBinaryTensors(const ModelState& model);
// The site's vector for `setup`: QuantizeDelta, or votes + QuantizeDelta of the other tensors.
Result<std::vector<uint32_t>> QuantizeForSetup(const ModelState& trained, const ModelState& global,
                                               uint64_t weight, const wire::SecAggSetup& setup,
                                               const std::string& site_id, uint64_t seed);

// A batch-norm statistics session (setup.purpose kBnStatistics): the moments of `stats` (this
// site's statistics of `reference`, the model of the EvaluateTask) relative to `reference`
// (models/bn_statistics.h BnMomentsOf), times weight / setup.total_weight, clipped to
// +-setup.clip and quantized like a delta. InvalidArgument when the setup is not such a session
// or its vector length is not the moments'. `clipped`, when given, receives how many scaled
// moments lay beyond the clip (statistics then far from the reference's: the pool is off).
Result<std::vector<uint32_t>> QuantizeBnMoments(const ModelState& stats,
                                                const ModelState& reference, uint64_t weight,
                                                const wire::SecAggSetup& setup, uint64_t seed,
                                                size_t* clipped = nullptr);

// Who runs a session, and in which run.
struct SessionContext {
  std::string run_id;   // the Envelope's run id: part of the transcript, the ledger's key
  std::string site_id;  // this site's transport identity
  uint64_t num_train = 0;  // this site's training-set size, as in its hello (its weight's source)
};

// The weight `setup` names for `site_id` (0 when it lists no such site).
uint64_t SetupWeightOf(const wire::SecAggSetup& setup, const std::string& site_id);

class SecAggSession {
 public:
  // `identity_seed`: the site's Ed25519 private seed; `policy`: the site's own limits and
  // consortium roster (SecAggPolicy::CheckSetup); `ledger`: the sessions this site served in
  // the run (must outlive the session); `memo`: verifications shared with the other sites of
  // this process (simulations only).
  static Result<std::unique_ptr<SecAggSession>> Start(const wire::SecAggSetup& setup,
                                                      const SessionContext& context,
                                                      const secagg::Secret32& identity_seed,
                                                      const SecAggPolicy& policy,
                                                      SessionLedger& ledger,
                                                      wire::SecAggKeys* advertise,
                                                      std::shared_ptr<secagg::VerifyMemo> memo =
                                                          nullptr);

  uint64_t task_id() const { return setup_.task_id; }
  uint32_t round() const { return setup_.round; }
  const wire::SecAggSetup& setup() const { return setup_; }

  Result<wire::SecAggShares> OnKeysRelay(const wire::SecAggKeysRelay& relay);
  Status OnSharesRelay(const wire::SecAggSharesRelay& relay);
  Status SetInput(SecAggInput input);
  // The masked input once both the shares and the input are here (then never again).
  Result<std::optional<wire::SecAggMasked>> TakeMasked();
  // Consistency round: signs the survivor set (once per round; secagg::Site::SignSurvivors).
  Result<wire::SecAggConsistencySignature> OnConsistencyCheck(
      const wire::SecAggConsistencyCheck& check);
  Result<wire::SecAggUnmaskResponse> OnUnmaskRequest(const wire::SecAggUnmaskRequest& request);

 private:
  SecAggSession(wire::SecAggSetup setup, std::string run_id, secagg::Site site,
                SessionLedger& ledger)
      : setup_(std::move(setup)), run_id_(std::move(run_id)), site_(std::move(site)),
        ledger_(&ledger) {}

  wire::SecAggSetup setup_;
  std::string run_id_;
  secagg::Site site_;
  SessionLedger* ledger_;  // not owned
  std::optional<std::vector<secagg::EncryptedShares>> received_;
  std::optional<SecAggInput> input_;
  bool masked_sent_ = false;
};

}  // namespace fedsmear
