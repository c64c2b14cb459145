// `fedsmear-client plan show|approve` (client/site_plan.h).
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

#include "client/site_plan.h"
#include "common/file_util.h"

namespace fedsmear {
namespace {

Result<TrainingPlan> LoadPendingPlan(const ClientConfig& config) {
  if (config.state_dir.empty()) {
    return FailedPrecondition("the site config has no state_dir: no plan is kept to show");
  }
  const std::string path = PendingPlanPath(config.state_dir);
  Result<std::string> bytes = ReadFile(path, 1 << 20);
  if (!bytes.ok()) {
    return NotFound("no pending plan at " + path +
                    ": start the site daemon so that it receives the coordinator's plan");
  }
  Result<TrainingPlan> plan = ParsePlan(*bytes);
  if (!plan.ok()) return Corrupt(path + ": " + plan.status().message());
  return plan;
}

std::string Operator() {
  const char* user = std::getenv("USER");
  const passwd* pw = user == nullptr ? ::getpwuid(::geteuid()) : nullptr;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  const std::string name = user != nullptr ? user : pw != nullptr ? pw->pw_name : "unknown";
  return name + "@" + host;
}

}  // namespace

Status ShowPendingPlan(const ClientConfig& config, bool raw, std::ostream& out) {
  ASSIGN_OR_RETURN(TrainingPlan plan, LoadPendingPlan(config));
  if (raw) {
    out << plan.bytes << "\n";
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(bool approved, IsPlanApproved(config, plan.hash));
  out << DescribePlan(plan);
  // What changed since the plan this site approved last (what an operator reviews).
  if (Result<std::string> last = ReadFile(LastApprovedPlanPath(config.state_dir), 1 << 20);
      last.ok()) {
    if (Result<TrainingPlan> before = ParsePlan(*last); before.ok()) {
      const std::string diff = PlanDifference(*before, plan);
      out << (diff.empty() ? "unchanged since the plan this site approved last\n"
                           : "changed since the plan this site approved last (" + before->hash +
                                 "):\n" + diff);
    }
  }
  out << (approved ? "status: APPROVED at this site\n"
                   : "status: NOT approved at this site; to approve it run\n"
                     "  fedsmear-client --config SITE.yaml plan approve " +
                         plan.hash + "\n");
  return Status::Ok();
}

Status ApprovePendingPlan(const ClientConfig& config, const std::string& hash, std::ostream& out) {
  ASSIGN_OR_RETURN(TrainingPlan plan, LoadPendingPlan(config));
  if (plan.hash != hash) {
    return InvalidArgument("the pending plan is " + plan.hash + ", not " + hash +
                           " (`plan show` prints it); approve only what you have reviewed");
  }
  ASSIGN_OR_RETURN(bool already, IsPlanApproved(config, hash));
  if (already) {
    out << "plan " << hash << " is already approved\n";
    return Status::Ok();
  }
  const std::string who = Operator();
  const std::string file = ApprovedPlansPath(config.state_dir);
  // Logged before it takes effect, like every change of what leaves the site.
  const std::string log_path = SiteAuditLogPath(config);
  if (!log_path.empty()) {
    std::optional<AuditSigner> signer;  // the daemon's key: the entry joins its signed chain
    if (!config.signing_key_file.empty()) {
      ASSIGN_OR_RETURN(AuditSigner key, LoadAuditSigner(config.signing_key_file));
      signer.emplace(std::move(key));
    }
    ASSIGN_OR_RETURN(AuditLog log,
                     AuditLog::Open(log_path,
                                    static_cast<uint64_t>(config.audit_max_mb * 1048576.0),
                                    /*sync=*/true, std::move(signer)));
    RETURN_IF_ERROR(
        log.Append("plan_approved", {{"plan_hash", hash}, {"by", who}, {"file", file}}));
  }
  RETURN_IF_ERROR(AppendApprovedPlan(file, hash, "approved by " + who));
  RETURN_IF_ERROR(WriteFileAtomic(LastApprovedPlanPath(config.state_dir), plan.bytes, 0600));
  out << "approved plan " << hash << " (" << file << "); the site trains under it from its next "
      << "task\n";
  return Status::Ok();
}

}  // namespace fedsmear
