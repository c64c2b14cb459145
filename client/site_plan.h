// The site's side of governance: which training plan the run follows, whether this hospital
// approved it, whether a task stays inside it, and the site's audit log (docs/deploy.md).
//
// Approvals are plan hashes listed in STATE_DIR/approved_plans (appended by `fedsmear-client plan
// approve`) or in the configured approved_plans file (one hash per line, '#' comments). Both are
// re-read at every task, so a plan approved while the daemon runs takes effect at the next round.
// The last published plan is kept in STATE_DIR/pending_plan for `fedsmear-client plan show`.
//
// Check*Task() return "" when a task stays inside the plan, else the reason to refuse it.
//
// Thread-safety: SiteGovernance is used from the site's main loop only (the audit log itself is
// safe across threads and processes). Ownership: owns its plan and audit log handle.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "common/config.h"
#include "common/governance/audit_describe.h"
#include "common/governance/audit_log.h"
#include "common/governance/plan.h"
#include "common/governance/plan_approvals.h"
#include "common/status.h"
#include "common/wire/messages.h"

namespace fedsmear {

std::string CheckTrainTask(const TrainingPlan& plan, const wire::TrainTask& task);
std::string CheckEvaluateTask(const TrainingPlan& plan, const wire::EvaluateTask& task);
std::string CheckSecAggSetup(const TrainingPlan& plan, const wire::SecAggSetup& setup);

// `fedsmear-client plan show`: the pending plan in readable form (or its canonical bytes when
// `raw`), its hash and whether it is approved.
Status ShowPendingPlan(const ClientConfig& config, bool raw, std::ostream& out);
// `fedsmear-client plan approve HASH`: HASH must be the pending plan's; appends it to
// STATE_DIR/approved_plans and records the approval in the audit log.
Status ApprovePendingPlan(const ClientConfig& config, const std::string& hash, std::ostream& out);

class SiteGovernance {
 public:
  // Opens the audit log (when a path is configured) and records the daemon's start.
  // Errors: require_plan_approval without a place to keep approvals; an unusable audit log.
  static Result<std::unique_ptr<SiteGovernance>> Create(const ClientConfig& config,
                                                        const std::string& signing_public_hex);

  // A Welcome: adopts its plan (checking the hash) and records it. Returns "" when the plan may
  // run, else the refusal reason to report to the coordinator (unapproved, missing, corrupt).
  std::string OnWelcome(const wire::Welcome& welcome);

  // A TrainTask, EvaluateTask or SecAggSetup arrived: records it; "" when it may run, else why
  // it is refused (no approved plan, or outside the plan).
  std::string Admit(const wire::TrainTask& task);
  std::string Admit(const wire::EvaluateTask& task);
  std::string Admit(const wire::SecAggSetup& setup);

  // Records a message before it is sent; an error means it must not be sent. Heartbeats are
  // not recorded. `context`: what the site knows of an update (vote width, model layout); the
  // plan's codec and secure-aggregation requirement are filled in here.
  Status BeforeSend(const wire::Body& body, const std::string& encoded, AuditContext context);
  // Records that the message recorded last could not be sent.
  void SendFailed(const wire::Body& body, const std::string& encoded, const std::string& why);

  const std::optional<TrainingPlan>& plan() const { return plan_; }
  // The hash of the run's plan while it waits for this site's approval; "" when it is approved
  // (or approval is not required, or no plan has come). Reads the approvals file, so an approval
  // made meanwhile with `plan approve` shows at the next heartbeat.
  std::string PendingApproval();

 private:
  explicit SiteGovernance(const ClientConfig& config) : config_(config) {}
  // "" when plan_ may run under this site's approvals.
  std::string ApprovalRefusal();
  std::string AdmitTask(const char* kind, uint32_t round, uint64_t task_id,
                        const std::function<std::string(const TrainingPlan&)>& check);
  void Record(const std::string& kind, nlohmann::json fields);

  ClientConfig config_;
  std::optional<AuditLog> audit_;
  std::optional<TrainingPlan> plan_;
  std::string plan_problem_;       // why the published plan was unusable
  std::string approval_recorded_;  // hash whose approval the log already holds
  std::string last_failed_sha_;    // suppresses repeated entries for a retried hello
};

}  // namespace fedsmear
