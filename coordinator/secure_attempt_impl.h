// SecureRound: one SecAgg+ attempt as a small state machine, private to the SecAgg+ collector's
// attempt (coordinator/secure_attempt.h). Its steps follow the stage list in
// coordinator/secure_round.h: Prepare (parameters, setup) -> Broadcast -> RunStage x 5 (each a
// TaskRound, coordinator/task_round.h) with the relays between them -> the unmasked sum becomes
// a RoundSum (SecureRoundSum, secure_round.cc) or, in a batch-norm session, pooled moments.
// secure_attempt.cc has the round's life (setup, broadcast, the run, the sum);
// secure_attempt_stages.cc the stage traffic (answers, masked inputs, relays).
// Thread-safety: the coordinator's round loop only; one SecureRound per attempt. Ownership:
// borrows the context, the roster and the outcome for its life.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/secure_attempt.h"
#include "coordinator/task_round.h"
#include "models/contribution.h"
#include "secagg/config.h"
#include "secagg/server.h"

namespace fedsmear::secure_attempt_internal {

enum class Stage { kAdvertise, kShare, kMask, kConsistency, kUnmask };

class SecureRound {
 public:
  SecureRound(RoundContext& ctx, SecAggRoster& roster, int round,
              std::vector<TrainInstruction> plan, wire::TrainTask task,
              const ModelState& received, RoundOutcome* out, const std::atomic<bool>& stop)
      : ctx_(ctx), roster_(roster), config_(ctx.config), round_(round), stop_(stop),
        out_(*out), plan_(std::move(plan)), received_(received), task_(std::move(task)) {
    out_.secure = true;
    for (const TrainInstruction& ins : plan_) {
      weights_[ins.site_id] = ctx_.sites.Weight(ins.site_id);
    }
    weight_cap_ = static_cast<uint64_t>(std::max<int64_t>(1, config_.max_site_samples));
  }
  // A batch-norm statistics session: the EvaluateTask instead of a TrainTask, each site weighed
  // by the images it summarises.
  SecureRound(RoundContext& ctx, SecAggRoster& roster, int round, const BnRequest& request,
              RoundOutcome* out, const std::atomic<bool>& stop)
      : ctx_(ctx), roster_(roster), config_(ctx.config), round_(round), stop_(stop),
        out_(*out), plan_(InstructionsFor(request.sites)), received_(*request.reference),
        purpose_(wire::SecAggPurpose::kBnStatistics), evaluate_(request.task),
        on_scores_(request.on_scores) {
    out_.secure = true;
    weight_cap_ = std::max<uint64_t>(1, request.task.bn_calibration_images);
    for (const SiteInfo& s : request.sites) {
      weights_[s.site_id] = ContributionWeight(s.num_train, static_cast<int64_t>(weight_cap_));
    }
  }

  // The survivors' sum, or none when the attempt is incomplete (out.incomplete_reason).
  Result<SecureAttempt> Run();

 private:
  // Fixes the round's parameters; false (with out_.incomplete_reason set) when the round
  // cannot start.
  Result<bool> Prepare();
  // Integer vote weights by training-set size, and the vote field width (sign-vote rounds).
  void PlanVotes();
  // Sends SecAggSetup, then the TrainTask, to every selected site.
  void Broadcast();
  // Collects the current stage's answers (a TaskRound over the waiting sites) until every
  // expected site answered, `until` passed, or the missing fell silent.
  Status RunStage(Clock::time_point until, const char* what);
  // Moves to `next`, expecting answers from those who answered the last stage.
  void NextStage(Stage next);
  // `task`: the task id the site owes in this stage, nullptr when it is not waited for.
  Verdict OnMessage(const std::string& site, const uint64_t* task, wire::Message& m,
                    size_t bytes);
  Verdict OnMasked(const std::string& site, const wire::SecAggMasked& x, size_t bytes);
  void Fail(uint32_t id, Status why);
  bool Send(uint32_t id, wire::Body body, uint64_t* counter);
  Status RelayKeys();
  Status RelayShares();
  Result<RoundSum> Sum(const std::vector<uint32_t>& sum, const secagg::UnmaskRequest& request);
  // Batch-norm sessions: sum_S w_i/W_S moments_i from the unmasked words (kCorrupt as Sum).
  Result<std::vector<double>> Moments(const std::vector<uint32_t>& sum) const;
  SecureAttempt Incomplete(const std::string& why);
  // Stage 1 or 2 lost sites: benches them for the retry and ends the round incomplete.
  SecureAttempt LostBeforeMasking(const char* stage);
  bool Ours(uint32_t round, uint64_t task_id) const {
    return round == setup_.round && task_id == task_id_;
  }

  static std::vector<TrainInstruction> InstructionsFor(const std::vector<SiteInfo>& sites) {
    std::vector<TrainInstruction> out;
    for (const SiteInfo& s : sites) out.push_back({s.site_id, {}});
    return out;
  }
  bool bn() const { return purpose_ == wire::SecAggPurpose::kBnStatistics; }

  RoundContext& ctx_;
  SecAggRoster& roster_;
  const CoordinatorConfig& config_;
  const int round_;
  const std::atomic<bool>& stop_;
  const Clock::time_point started_ = Clock::now();
  RoundOutcome& out_;

  double lr_ = 0;
  const std::vector<TrainInstruction> plan_;
  const ModelState& received_;  // the model the sites decode from the task
  wire::TrainTask task_;
  const wire::SecAggPurpose purpose_ = wire::SecAggPurpose::kTraining;
  wire::EvaluateTask evaluate_;  // batch-norm sessions
  std::function<void(const std::string&, const wire::EvaluateResult&)> on_scores_;
  std::map<std::string, uint64_t> weights_;  // each site's contribution weight
  uint64_t weight_cap_ = 1;
  uint64_t task_id_ = 0;
  secagg::Config sc_;
  std::optional<secagg::Server> server_;
  wire::SecAggSetup setup_;
  std::vector<uint32_t> vote_weights_;  // by secagg id - 1
  uint32_t vote_bits_ = 0;              // 0: not a sign-vote round
  std::vector<std::string> ids_;        // secagg id - 1 -> site id
  std::map<std::string, uint32_t> by_site_;

  Stage stage_ = Stage::kAdvertise;
  std::set<uint32_t> waiting_, failed_, answered_;
  uint64_t survivor_weight_ = 0;
  double val_weighted_ = 0, val_samples_ = 0;
};

}  // namespace fedsmear::secure_attempt_internal
