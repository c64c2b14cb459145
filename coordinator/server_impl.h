// Private to coordinator/: the Coordinator's state, shared by server.cc (lifecycle, run loop),
// round.cc (one training round, metrics, checkpoints) and secure_round_run.cc. The sites and
// the message pump are a SiteRegistry (site_registry.h); every exchange of tasks and replies
// is a TaskRound (task_round.h).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/governance/audit_describe.h"
#include "common/governance/audit_log.h"
#include "common/governance/plan.h"
#include "common/net/transport.h"
#include "common/wire/messages.h"
#include "coordinator/lr_schedule.h"
#include "coordinator/server.h"
#include "coordinator/site_registry.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_service.h"
#include "models/model_state.h"

namespace fedsmear {

using Clock = std::chrono::steady_clock;

struct RoundOutcome {
  bool completed = false;
  int updates = 0;
  std::vector<std::string> selected;
  std::vector<std::string> reported;
  std::vector<SiteFailure> failures;
  uint64_t bytes_down = 0;
  uint64_t bytes_up = 0;
  double train_s = 0;  // slowest reporting site's training time
  double round_s = 0;
  double mean_site_val_accuracy = 0;
  std::optional<EvalSummary> federated;  // federated evaluation of the new global model
  uint64_t bytes_eval_down = 0;  // sample-weighted, of the sites' trained models
  // Secure aggregation (secure_round.cc): only set when the round ran SecAgg+.
  bool secure = false;
  std::string incomplete_reason;     // why an incomplete round stopped early (logged, reported)
  std::vector<std::string> dropped;  // shared keys, then left: recovered from their shares
  uint32_t secagg_threshold = 0;
  uint32_t secagg_neighbours = 0;
  uint32_t secagg_vote_bits = 0;  // sign-vote rounds: bits per binary weight's vote field
  uint64_t bytes_secagg = 0;  // setup, keys, shares and unmasking traffic (both directions)
};

struct Coordinator::Impl {
  CoordinatorConfig config;
  std::unique_ptr<Strategy> strategy;
  std::unique_ptr<CentralEvaluator> evaluator;
  std::unique_ptr<ServerTransport> transport;
  std::string run_id;
  ModelState global;
  std::mt19937_64 rng;
  LrSchedule schedule;
  int next_round = 1;
  uint64_t next_task_id = 1;
  // Joins, liveness and the message pump over `transport` (created once it is bound).
  std::optional<SiteRegistry> registry;
  // Sites that left the last secure round before masking (sites mask only with complete views,
  // so such a round restarts): not selected again until a secure round completes.
  std::set<std::string> secagg_benched;
  std::map<std::string, std::string> sign_keys;   // site id -> raw Ed25519 key (secagg+ only)
  double best_f1 = -1;
  int best_round = 0;
  int rounds_without_gain = 0;
  // Live status (coordinator/status/): always recorded; served over HTTP when status.enabled.
  // The service is declared after the model it reads, so it stops first.
  std::unique_ptr<StatusModel> status;
  std::unique_ptr<StatusService> status_service;

  Impl(const CoordinatorConfig& c) : config(c), rng(c.seed), schedule(c.lr_schedule, c.train.learning_rate, c.rounds) {}

  // --- server.cc ---
  SiteRegistry& sites() { return *registry; }
  const SiteRegistry& sites() const { return *registry; }
  // Binds the transport (ZeroMQ from the config unless one is given) and creates the registry.
  Status Attach(std::unique_ptr<ServerTransport> given);
  Status WaitForSites(int count, double seconds, const std::atomic<bool>& stop);
  // Keeps serving hellos and heartbeats for `seconds`.
  Status Pause(double seconds, const std::atomic<bool>& stop);
  void SayGoodbye(const std::string& reason);
  // The run itself (Coordinator::Run adds the final status).
  Status RunLoop(const std::atomic<bool>& stop);
  // Creates the status model (and starts its HTTP endpoint when configured).
  Status StartStatus(bool restored);

  // --- round.cc ---
  // Sends the global model to sites with a validation split and aggregates their scores.
  Result<EvalSummary> FederatedEvaluate(int round, uint64_t* bytes_down,
                                        const std::atomic<bool>& stop);
  Result<RoundOutcome> TrainRound(int round, const std::atomic<bool>& stop);
  // The round's TrainTask (task_id unset) and the model the sites will decode from it.
  Result<wire::TrainTask> MakeTrainTask(int round, double lr, ModelState* received) const;

  // --- secure_round_run.cc, secure_round.cc ---
  // TrainRound under secure_aggregation secagg+ (see coordinator/secure_round.h), run by one
  // SecureRound object per round.
  class SecureRound;
  Result<RoundOutcome> SecureTrainRound(int round, const std::atomic<bool>& stop);
  Status LoadSigningKeys();
  Status AfterRound(int round, const RoundOutcome& outcome, bool* early_stop);
  Status WriteFinalOutputs();
  Status Restore();

  // --- audit.cc --- the run's training plan (sent in every Welcome) and the audit log of what
  // the coordinator received, sent and decided.
  TrainingPlan plan;
  std::optional<AuditLog> audit;
  // Builds the plan, writes RUN_DIR/plan.json and opens the audit log (config.audit_log).
  Status OpenAudit();
  void AuditEvent(const std::string& kind, nlohmann::json fields);
  // `kind`: "sent" or "received"; heartbeats are not recorded.
  void AuditMessage(const char* kind, const std::string& site, const wire::Body& body,
                    const std::string& encoded);
  void AuditRound(int round, const RoundOutcome& outcome);
};

}  // namespace fedsmear
