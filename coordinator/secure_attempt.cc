// RunSecureAttempt and RunSecureBnAttempt (coordinator/secure_attempt.h): the life of one
// SecureRound (coordinator/secure_attempt_impl.h): its parameters and setup, the broadcast, the
// stages in order, and the unmasked sum as a RoundSum or pooled batch-norm moments.
// Thread-safety: the coordinator's round loop only; one SecureRound per attempt.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/sha256.h"
#include "coordinator/secure_attempt_impl.h"
#include "coordinator/secure_round.h"
#include "models/bn_statistics.h"
#include "secagg/session_ledger.h"
#include "secagg/site_secagg.h"
#include "secagg/site_secagg_wire.h"
#include "secagg/votes.h"

namespace fedsmear {
namespace secure_attempt_internal {

SecureAttempt SecureRound::LostBeforeMasking(const char* stage) {
  // Sites that masked for this round number before (a coordinator restarted after its sites
  // masked) refuse it for good: the round is spent, and nobody is at fault.
  std::string spent;
  for (const SiteFailure& f : out_.failures) {
    if (f.reason.message().rfind(kRoundSpentRefusal, 0) == 0) {
      spent += (spent.empty() ? "" : ", ") + f.site_id;
    }
  }
  if (!spent.empty()) {
    out_.consumed = true;
    return Incomplete(spent + " already masked an input for round " + std::to_string(round_) +
                      ": the round is spent");
  }
  std::string names;
  const std::map<std::string, std::string> pending = ctx_.sites.PendingApproval();
  for (uint32_t id : failed_) {
    // A site whose approval of the plan is pending refused for that reason: not benched.
    if (!pending.count(ids_[id - 1])) roster_.benched.insert(ids_[id - 1]);
    names += (names.empty() ? "" : ", ") + ids_[id - 1];
  }
  return Incomplete(names + " left during " + stage +
                    "; sites mask only with complete views, so the round restarts without them");
}

SecureAttempt SecureRound::Incomplete(const std::string& why) {
  spdlog::warn("round {}: secure aggregation round incomplete: {}", round_, why);
  out_.incomplete_reason = why;
  return SecureAttempt{};
}

Result<bool> SecureRound::Prepare() {
  lr_ = ctx_.lr;
  const auto n = static_cast<uint32_t>(plan_.size());
  for (const TrainInstruction& ins : plan_) {
    if (!roster_.sign_keys.count(ins.site_id)) {  // Candidates() left them out
      return Internal("secagg: site " + ins.site_id + " was selected without a signing key");
    }
  }
  task_id_ = ctx_.next_task_id++;

  // Parameters: complete graph for small federations, t > (k+1)/2 unless configured.
  sc_.num_sites = n;
  const auto cfg_t = static_cast<uint32_t>(config_.secagg_threshold);
  sc_.neighbours = config_.secagg_neighbours > 0
                       ? std::min<uint32_t>(static_cast<uint32_t>(config_.secagg_neighbours), n - 1)
                       : secagg::DefaultNeighbourCount(n, std::max<uint32_t>(cfg_t, 1));
  sc_.threshold = cfg_t > 0 ? cfg_t : secagg::RecommendedThreshold(sc_.neighbours);
  sc_.mask_bits = 32;
  sc_.round = task_id_;
  if (!bn()) PlanVotes();
  sc_.vector_length = bn() ? BnMomentCount(received_) : SecureVectorLength(received_, vote_bits_);
  RETURN_IF_ERROR(secagg::RandomBytes(sc_.graph_seed.data(), sc_.graph_seed.size()));
  Result<secagg::Config> resolved = secagg::ResolveConfig(sc_);
  if (!resolved.ok()) {
    Incomplete(resolved.status().message());
    return false;
  }
  sc_ = *resolved;
  if (sc_.threshold < secagg::RecommendedThreshold(sc_.neighbours)) {
    spdlog::warn("secagg_threshold {} is below the safe {}: sites will refuse", sc_.threshold,
                 secagg::RecommendedThreshold(sc_.neighbours));
  }

  secagg::IdentityDirectory directory;
  setup_.round = static_cast<uint32_t>(round_);
  setup_.task_id = task_id_;
  for (const TrainInstruction& ins : plan_) {
    const auto id = static_cast<uint32_t>(ids_.size() + 1);
    ids_.push_back(ins.site_id);
    by_site_[ins.site_id] = id;
    const std::string& key = roster_.sign_keys[ins.site_id];
    // The contribution weight (models/contribution.h), which each site checks is its own.
    const uint64_t weight = weights_[ins.site_id];
    setup_.sites.push_back(
        {ins.site_id, id, key, vote_bits_ ? vote_weights_[id - 1] : 0, weight});
    ASSIGN_OR_RETURN(directory[id], Key32FromBytes(key, "signing key"));
    if (__builtin_add_overflow(setup_.total_weight, weight, &setup_.total_weight)) {
      return Internal("secagg: total weight overflows");
    }
  }
  setup_.weight_cap = weight_cap_;
  setup_.purpose = purpose_;
  // Every site checks its task's model against this hash, which the transcript binds.
  const Digest256 model = Sha256Of(bn() ? evaluate_.model.data : task_.model.data);
  setup_.model_sha256 = BytesOf(model.data(), model.size());
  setup_.threshold = sc_.threshold;
  setup_.neighbours = sc_.neighbours;
  setup_.mask_bits = sc_.mask_bits;
  setup_.graph_seed = BytesOf(sc_.graph_seed.data(), sc_.graph_seed.size());
  // Batch-norm moments are normalised by the reference model's statistics: one clip for all.
  setup_.clip = bn() ? kBnMomentClip : config_.secagg_clip;
  setup_.stat_clip = bn() ? kBnMomentClip : config_.secagg_stat_clip;
  setup_.vector_length = sc_.vector_length;
  setup_.vote_bits = vote_bits_;
  out_.secagg_threshold = sc_.threshold;
  out_.secagg_neighbours = sc_.neighbours;
  out_.secagg_vote_bits = vote_bits_;
  // Every site signs the transcript of the setup it received; the server checks against ours.
  sc_.transcript = SetupTranscript(setup_, ctx_.sites.run_id());
  ASSIGN_OR_RETURN(secagg::Server server, secagg::Server::Create(sc_, directory));
  server_.emplace(std::move(server));
  return true;
}

void SecureRound::PlanVotes() {
  if (!ctx_.strategy.Contribution().binary_votes) return;
  // One weight for every site: sites refuse unequal ones, whose sum would reveal their votes
  // (secagg/votes.h VoteWeightsRevealOnlyCount).
  vote_weights_ = secagg::SecureVoteWeights(plan_.size());
  uint64_t total_votes = 0;
  for (uint32_t v : vote_weights_) total_votes += v;
  vote_bits_ = secagg::VoteFieldBits(total_votes);
}

void SecureRound::Broadcast() {
  task_.task_id = task_id_;
  task_.secure_aggregation = true;
  evaluate_.task_id = task_id_;
  evaluate_.secure_aggregation = true;
  for (const TrainInstruction& ins : plan_) {
    const uint32_t id = by_site_[ins.site_id];
    out_.selected.push_back(ins.site_id);
    task_.train = ins.config;
    if (Send(id, setup_, &out_.bytes_secagg) &&
        (bn() ? Send(id, evaluate_, &out_.bytes_down) : Send(id, task_, &out_.bytes_down))) {
      waiting_.insert(id);
    }
  }
  if (bn()) {
    spdlog::info("round {}: batch-norm statistics of {} site(s) by secure aggregation", round_,
                 plan_.size());
    return;
  }
  ctx_.status.RoundStarted(round_, out_.selected);
  spdlog::info(
      "round {}: {} site(s) selected for secure aggregation (threshold {}, {} neighbours, "
      "clip {}{}), lr {:.2e}",
      round_, plan_.size(), sc_.threshold, sc_.neighbours, config_.secagg_clip,
      vote_bits_ ? ", sign votes " + std::to_string(vote_bits_) + " bits wide" : std::string(),
      lr_);
}


Result<RoundSum> SecureRound::Sum(const std::vector<uint32_t>& sum,
                                  const secagg::UnmaskRequest& request) {
  SecureSumShape shape;
  shape.params = {static_cast<float>(config_.secagg_clip), sc_.mask_bits,
                  static_cast<uint32_t>(plan_.size())};
  shape.stat_clip = static_cast<float>(setup_.stat_clip);
  shape.vote_bits = vote_bits_;
  shape.survivors = static_cast<uint32_t>(out_.updates);
  shape.total_weight = setup_.total_weight;
  shape.survivor_weight = survivor_weight_;
  for (uint32_t id : request.survivors) {
    shape.survivor_votes += vote_bits_ ? vote_weights_[id - 1] : 0;
  }
  return SecureRoundSum(received_, sum, shape);
}

Result<std::vector<double>> SecureRound::Moments(const std::vector<uint32_t>& sum) const {
  if (survivor_weight_ == 0) return InvalidArgument("secagg: the survivors carry no weight");
  const secagg::QuantizationParams params{kBnMomentClip, sc_.mask_bits,
                                          static_cast<uint32_t>(plan_.size())};
  const auto m = static_cast<uint32_t>(out_.updates);
  ASSIGN_OR_RETURN(std::vector<float> mean, secagg::DequantizeMean(sum, params, m));
  // Each site sent w_i/W * moments_i: the survivors' sum is m * mean, their pool that times
  // W / W_S.
  const double scale = static_cast<double>(m) * static_cast<double>(setup_.total_weight) /
                       static_cast<double>(survivor_weight_);
  std::vector<double> out(mean.size());
  for (size_t k = 0; k < mean.size(); ++k) out[k] = scale * mean[k];
  return out;
}

Result<SecureAttempt> SecureRound::Run() {
  SecureAttempt result;
  ASSIGN_OR_RETURN(bool ready, Prepare());
  if (!ready) return result;
  Broadcast();

  RETURN_IF_ERROR(RunStage(In(config_.secagg_stage_deadline_s), "key advertisement"));
  if (!failed_.empty()) return LostBeforeMasking("key advertisement");
  if (Status st = server_->CloseAdvertiseStage(); !st.ok()) return Incomplete(st.message());
  RETURN_IF_ERROR(RelayKeys());
  NextStage(Stage::kShare);

  RETURN_IF_ERROR(RunStage(In(config_.secagg_stage_deadline_s), "key sharing"));
  if (!failed_.empty()) return LostBeforeMasking("key sharing");
  if (Status st = server_->CloseShareStage(); !st.ok()) return Incomplete(st.message());
  RETURN_IF_ERROR(RelayShares());
  NextStage(Stage::kMask);

  const auto round_deadline =
      started_ + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(config_.round_deadline_s));
  RETURN_IF_ERROR(RunStage(round_deadline, "round"));
  Result<secagg::UnmaskRequest> request = server_->CloseMaskStage();
  if (!request.ok()) return Incomplete(request.status().message());
  for (uint32_t id : request->survivors) out_.reported.push_back(ids_[id - 1]);
  for (uint32_t id : request->dropped) out_.dropped.push_back(ids_[id - 1]);
  out_.updates = static_cast<int>(request->survivors.size());
  out_.mean_site_val_accuracy = val_samples_ > 0 ? val_weighted_ / val_samples_ : 0;
  // Consistency round (Bonawitz et al. 2017): every survivor signs the survivor set; a site
  // unmasks only with t signatures of its share group over the set it signed itself.
  NextStage(Stage::kConsistency);
  const wire::SecAggConsistencyCheck check{setup_.round, task_id_, request->survivors};
  for (uint32_t id : std::set<uint32_t>(waiting_)) Send(id, check, &out_.bytes_secagg);
  RETURN_IF_ERROR(RunStage(In(config_.secagg_stage_deadline_s), "consistency check"));
  NextStage(Stage::kUnmask);

  for (uint32_t id : std::set<uint32_t>(waiting_)) {
    // Each site gets its share group's part: sites refuse ids outside it.
    Send(id, UnmaskRequestToWire(server_->RequestFor(id), setup_.round, task_id_),
         &out_.bytes_secagg);
  }
  RETURN_IF_ERROR(RunStage(In(config_.secagg_stage_deadline_s), "unmasking"));
  Result<std::vector<uint32_t>> sum = server_->Finish();
  if (!sum.ok()) return Incomplete(sum.status().message());
  if (out_.updates < config_.min_sites) {
    return Incomplete(std::to_string(out_.updates) + " masked updates < min_sites " +
                      std::to_string(config_.min_sites));
  }
  if (bn()) {
    Result<std::vector<double>> moments = Moments(*sum);
    if (!moments.ok()) {
      if (moments.status().code() != StatusCode::kCorrupt) return moments.status();
      return Incomplete("the secure sum of batch-norm statistics cannot be right: " +
                        moments.status().message());
    }
    result.moments = std::move(*moments);
    result.survivor_weight = survivor_weight_;
    return result;
  }
  Result<RoundSum> round_sum = Sum(*sum, *request);
  if (!round_sum.ok()) {
    // A sum no honest set of sites sends (a vote count above the voters' weight, a word out of
    // range) fails the attempt; the collector looks for its cause among the survivors.
    if (round_sum.status().code() != StatusCode::kCorrupt) return round_sum.status();
    out_.incomplete_reason = "the secure sum cannot be right: " + round_sum.status().message();
    result.impossible = true;
    return result;
  }
  spdlog::info(
      "round {}: secure sum of {} site(s) ({} dropped and recovered), {:.2f} MiB of "
      "secagg traffic",
      round_, out_.updates, out_.dropped.size(), out_.bytes_secagg / 1048576.0);
  result.sum = std::move(*round_sum);
  return result;
}


}  // namespace secure_attempt_internal

using secure_attempt_internal::SecureRound;

Result<SecureAttempt> RunSecureBnAttempt(RoundContext& ctx, SecAggRoster& roster, int round,
                                         const BnRequest& request, RoundOutcome* out,
                                         const std::atomic<bool>& stop) {
  return SecureRound(ctx, roster, round, request, out, stop).Run();
}

Result<SecureAttempt> RunSecureAttempt(RoundContext& ctx, SecAggRoster& roster, int round,
                                       const std::vector<TrainInstruction>& plan,
                                       wire::TrainTask task, const ModelState& received,
                                       RoundOutcome* out, const std::atomic<bool>& stop) {
  return SecureRound(ctx, roster, round, plan, std::move(task), received, out, stop).Run();
}

}  // namespace fedsmear