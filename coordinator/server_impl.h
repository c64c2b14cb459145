// Private to coordinator/: the Coordinator's parts and the thin run loop that wires them.
// The parts: the sites and the message pump (SiteRegistry, site_registry.h), the rounds
// (round.h: one training round over a SumCollector, plain or SecAgg+, and federated evaluation,
// each exchange a TaskRound),
// the run's files and best-model/early-stop bookkeeping (RunLog, run_log.h), the audit log and
// the live status. Files: server.cc (Create, transport, waiting), run_loop.cc (rounds, resume,
// final outputs), server_status.cc, audit.cc.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "common/governance/audit_describe.h"
#include "common/governance/audit_log.h"
#include "common/governance/plan.h"
#include "common/net/transport.h"
#include "common/wire/messages.h"
#include "coordinator/lr_schedule.h"
#include "coordinator/round.h"
#include "coordinator/run_log.h"
#include "coordinator/server.h"
#include "coordinator/site_registry.h"
#include "coordinator/sum_collector.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_service.h"
#include "models/model_state.h"

namespace fedsmear {

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
  // How training rounds obtain their sum: plain or SecAgg+ (coordinator/sum_collector.h).
  std::unique_ptr<SumCollector> collector;
  RunLog log;
  // Live status (coordinator/status/): always recorded; served over HTTP when status.enabled.
  // The service is declared after the model it reads, so it stops first. Shared: a long-lived
  // coordinator's endpoint keeps serving the model after the run (status_model()).
  std::shared_ptr<StatusModel> status;
  std::unique_ptr<StatusService> status_service;

  explicit Impl(const CoordinatorConfig& c)
      : config(c),
        rng(c.seed),
        schedule(c.lr_schedule, c.train.learning_rate, c.rounds),
        log(RunLogOptions{c.run_dir, c.early_stop_patience, c.keep_checkpoints}) {}

  // --- server.cc ---
  SiteRegistry& sites() { return *registry; }
  const SiteRegistry& sites() const { return *registry; }
  // Binds the transport (ZeroMQ from the config unless one is given) and creates the registry.
  Status Attach(std::unique_ptr<ServerTransport> given);
  Status WaitForSites(int count, double seconds, const std::atomic<bool>& stop);
  // Keeps serving hellos and heartbeats for `seconds`.
  Status Pause(double seconds, const std::atomic<bool>& stop);
  void SayGoodbye(const std::string& reason);
  // Creates the status model (and starts its HTTP endpoint when configured).
  Status StartStatus(bool restored);

  // --- run_loop.cc ---
  // The run itself (Coordinator::Run adds the final status).
  Status RunLoop(const std::atomic<bool>& stop);
  // What round `round` borrows (coordinator/round.h).
  RoundContext ContextFor(int round);
  // Central evaluation, the metrics line, best model, LR plateau and the checkpoint.
  // Records the round (central scores, metrics line, checkpoint); `eval_started` is when its
  // evaluation stages began, for the record's eval_s.
  Status FinishRound(int round, const RoundOutcome& outcome,
                     std::chrono::steady_clock::time_point eval_started, bool* early_stop);
  // Continues from the newest valid checkpoint (kNotFound when there is none).
  Status Restore();
  Status WriteFinalOutputs();

  // --- audit.cc --- the run's training plan (sent in every Welcome) and the audit log of what
  // the coordinator received, sent and decided.
  TrainingPlan plan;
  std::optional<AuditLog> audit;
  std::string audited_allowlist_sha;  // the allowlist version the audit log names last
  // SHA-256 (hex) of the allowlist file as it is now; "" without one or when unreadable.
  std::string AllowlistSha() const;
  // Builds the plan, writes RUN_DIR/plan.json and opens the audit log (config.audit_log).
  Status OpenAudit();
  void AuditEvent(const std::string& kind, nlohmann::json fields);
  // `kind`: "sent" or "received"; heartbeats are not recorded.
  void AuditMessage(const char* kind, const std::string& site, const wire::Body& body,
                    const std::string& encoded);
  void AuditRound(int round, const RoundOutcome& outcome);
};

}  // namespace fedsmear
