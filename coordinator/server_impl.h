// Private to coordinator/: the Coordinator's state, shared by server.cc (lifecycle, site
// registry, message pump) and round.cc (one training round, metrics, checkpoints).
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
#include "common/net/router.h"
#include "common/wire/messages.h"
#include "coordinator/lr_schedule.h"
#include "coordinator/server.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_service.h"
#include "models/model_state.h"

namespace fedsmear {

using Clock = std::chrono::steady_clock;

struct SiteRecord {
  std::string peer_id;
  SiteInfo info;
  Clock::time_point last_seen;
};

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
  std::optional<RouterEndpoint> router;
  std::string run_id;
  ModelState global;
  std::mt19937_64 rng;
  LrSchedule schedule;
  int next_round = 1;
  uint64_t next_task_id = 1;
  std::map<std::string, SiteRecord> sites;        // by site id
  std::map<std::string, std::string> peer_sites;  // peer id -> site id
  // Connections whose Welcome could not be delivered (gone, or not reading): their messages are
  // ignored so that a flood costs one send timeout, not one per message. A new connection of
  // the same site gets a new peer id and is served again.
  std::set<std::string> muted_peers;
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
  // Receives for up to `timeout`; handles hello/heartbeat/unknown peers itself and passes
  // round traffic (update, refusal, evaluate result, error) from known sites to `on_round`.
  // Returns whether a message arrived.
  Result<bool> Pump(std::chrono::milliseconds timeout,
              const std::function<void(const std::string& site, wire::Message&, size_t bytes)>&
                  on_round);
  Status Send(const std::string& site_id, wire::Body body, uint64_t* bytes = nullptr);
  std::vector<SiteInfo> LiveSites() const;
  bool IsSilent(const std::string& site_id) const;
  // The FedAvg weight of a site: its hello's training-set size, in 1..max_site_samples. The one
  // source of weights in plain and secure rounds (a site's Update.num_samples is only logged).
  uint64_t SiteWeight(const std::string& site_id) const;
  // Handles everything that queued up while the coordinator was busy (evaluating, writing a
  // checkpoint), so that heartbeats sent meanwhile count before anyone is judged silent.
  Status DrainQueued();
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
