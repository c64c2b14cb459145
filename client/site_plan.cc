#include "client/site_plan.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include "common/file_util.h"
#include "fedsmear/version.h"

namespace fedsmear {
namespace {

using nlohmann::json;

}  // namespace

Result<std::unique_ptr<SiteGovernance>> SiteGovernance::Create(
    const ClientConfig& config, const std::string& signing_public_hex) {
  if (config.policy.require_plan_approval && config.state_dir.empty() &&
      config.approved_plans.empty()) {
    return InvalidArgument(
        "policy.require_plan_approval needs state_dir (pending plan, approvals, audit log) or "
        "an approved_plans file");
  }
  std::unique_ptr<SiteGovernance> g(new SiteGovernance(config));
  const std::string path = SiteAuditLogPath(config);
  if (path.empty()) {
    spdlog::warn("no state_dir or audit_log: this site keeps no audit log");
  } else {
    // Signed with the site's identity key when it has one (common/governance/audit_log.h).
    std::optional<AuditSigner> signer;
    if (!config.signing_key_file.empty()) {
      ASSIGN_OR_RETURN(AuditSigner key, LoadAuditSigner(config.signing_key_file));
      signer.emplace(std::move(key));
    }
    ASSIGN_OR_RETURN(AuditLog log,
                     AuditLog::Open(path, static_cast<uint64_t>(config.audit_max_mb * 1048576.0),
                                    config.audit_sync, std::move(signer)));
    g->audit_.emplace(std::move(log));
  }
  g->Record("start", {{"site_id", config.site_id},
                      {"software_version", kVersion},
                      {"coordinator", config.coordinator},
                      {"require_plan_approval", config.policy.require_plan_approval},
                      {"max_local_epochs", config.policy.max_local_epochs},
                      {"share_class_counts", config.policy.share_class_counts},
                      {"signing_public_key", signing_public_hex}});
  return g;
}

void SiteGovernance::Record(const std::string& kind, json fields) {
  if (!audit_) return;
  if (Status st = audit_->Append(kind, std::move(fields)); !st.ok()) {
    spdlog::error("audit log: {}", st.ToString());
  }
}

std::string SiteGovernance::OnWelcome(const wire::Welcome& w) {
  if (w.plan.empty()) {
    plan_.reset();
    plan_problem_ = "the coordinator published no training plan";
    Record("plan_missing", {{"run_id", w.run_id}});
    return plan_problem_;
  }
  const bool changed = !plan_ || plan_->hash != w.plan_hash;
  Result<TrainingPlan> parsed = ParsePlan(w.plan);
  if (!parsed.ok() || parsed->hash != w.plan_hash) {
    plan_.reset();
    plan_problem_ = "the published training plan is unusable: " +
                    (parsed.ok() ? "its hash is not " + w.plan_hash : parsed.status().message());
    Record("plan_rejected", {{"plan_hash", w.plan_hash}, {"reason", plan_problem_}});
    return plan_problem_;
  }
  plan_problem_.clear();
  if (changed) {
    const std::string previous = plan_ ? plan_->hash : "";
    plan_ = std::move(*parsed);
    approval_recorded_.clear();
    if (!config_.state_dir.empty()) {
      if (Status st = WriteFileAtomic(PendingPlanPath(config_.state_dir), plan_->bytes); !st.ok()) {
        spdlog::warn("could not store the pending plan: {}", st.message());
      }
    }
    Record("plan_received", {{"plan_hash", plan_->hash},
                             {"previous_plan_hash", previous},
                             {"run_id", w.run_id},
                             {"plan", plan_->doc}});
    spdlog::info("run {} follows training plan {}", w.run_id, plan_->hash);
  }
  return ApprovalRefusal();
}

std::string SiteGovernance::PendingApproval() {
  if (!plan_ || !config_.policy.require_plan_approval) return "";
  Result<bool> approved = IsPlanApproved(config_, plan_->hash);
  return approved.ok() && !*approved ? plan_->hash : "";
}

std::string SiteGovernance::ApprovalRefusal() {
  if (!plan_) return plan_problem_.empty() ? "no training plan received yet" : plan_problem_;
  if (!config_.policy.require_plan_approval) return "";
  Result<bool> approved = IsPlanApproved(config_, plan_->hash);
  if (!approved.ok()) return "cannot read the approved plans: " + approved.status().message();
  if (*approved) {
    if (approval_recorded_ != plan_->hash) {
      approval_recorded_ = plan_->hash;
      Record("plan_approval_seen", {{"plan_hash", plan_->hash}});
      spdlog::info("training plan {} is approved", plan_->hash);
    }
    return "";
  }
  return "training plan " + plan_->hash +
         " is not approved at this site; review it with `fedsmear-client --config SITE.yaml plan "
         "show` and approve it with `fedsmear-client --config SITE.yaml plan approve " +
         plan_->hash + "`";
}

std::string SiteGovernance::AdmitTask(
    const char* kind, uint32_t round, uint64_t task_id,
    const std::function<std::string(const TrainingPlan&)>& check) {
  json fields = {{"message", kind},
                 {"round", round},
                 {"task_id", task_id},
                 {"plan_hash", plan_ ? plan_->hash : ""}};
  std::string why = ApprovalRefusal();
  if (why.empty()) {
    why = check(*plan_);
    if (!why.empty()) why = "outside the approved training plan: " + why;
  }
  fields["admitted"] = why.empty();
  if (!why.empty()) fields["reason"] = why;
  Record("task_received", std::move(fields));
  return why;
}

std::string SiteGovernance::Admit(const wire::TrainTask& task) {
  return AdmitTask("trainTask", task.round, task.task_id,
                   [&](const TrainingPlan& plan) { return CheckTrainTask(plan, task); });
}
std::string SiteGovernance::Admit(const wire::EvaluateTask& task) {
  return AdmitTask("evaluateTask", task.round, task.task_id,
                   [&](const TrainingPlan& plan) { return CheckEvaluateTask(plan, task); });
}
std::string SiteGovernance::Admit(const wire::SecAggSetup& setup) {
  return AdmitTask("secaggSetup", setup.round, setup.task_id,
                   [&](const TrainingPlan& plan) { return CheckSecAggSetup(plan, setup); });
}

Status SiteGovernance::BeforeSend(const wire::Body& body, const std::string& encoded,
                                  AuditContext context) {
  if (!audit_ || std::holds_alternative<wire::Heartbeat>(body)) return Status::Ok();
  if (plan_) {
    context.codec_up = plan_->doc["codec_up"].get<std::string>();
    context.secure_required = PlanSecureMode(*plan_) != SecureAggregation::kOff;
  }
  // The site's own policy asks for secure updates whatever the plan says.
  if (config_.policy.require_secure_aggregation) context.secure_required = true;
  json fields = AuditMessageFields(body, encoded, context);
  if (fields["sha256"] == last_failed_sha_) return Status::Ok();  // a retry, already recorded
  last_failed_sha_.clear();
  fields["plan_hash"] = plan_ ? plan_->hash : "";
  return audit_->Append("sent", std::move(fields));
}

void SiteGovernance::SendFailed(const wire::Body& body, const std::string& encoded,
                                const std::string& why) {
  if (!audit_ || std::holds_alternative<wire::Heartbeat>(body)) return;
  json fields = AuditMessageFields(body, encoded);
  if (fields["sha256"] == last_failed_sha_) return;
  last_failed_sha_ = fields["sha256"].get<std::string>();
  Record("send_failed", {{"message", fields["message"]}, {"sha256", last_failed_sha_},
                         {"reason", why}});
}

}  // namespace fedsmear
