// A site's plan approvals on disk, shared by the site daemon (client/site_plan.h), `fedsmear-client
// plan show|approve` and `fedsmear doctor`: STATE_DIR/pending_plan (the last plan a coordinator
// published), STATE_DIR/approved_plans and the configured approved_plans file (one plan hash per
// line, '#' comments), and where the site's audit log lives.
// Thread-safety: reentrant functions over files. Ownership: none kept.
#pragma once

#include <set>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

std::string PendingPlanPath(const std::string& state_dir);
std::string ApprovedPlansPath(const std::string& state_dir);
// The canonical bytes of the plan `plan approve` approved last (for `plan show`'s difference).
std::string LastApprovedPlanPath(const std::string& state_dir);
// The site's audit log: config.audit_log, else STATE_DIR/audit.jsonl ("" when neither is set).
std::string SiteAuditLogPath(const ClientConfig& config);

// Hashes listed in `path` (missing file: none). Errors: unreadable file, a malformed line.
Result<std::set<std::string>> ReadApprovedPlans(const std::string& path);
// Appends "HASH  # note" to `path` (created if missing).
Status AppendApprovedPlan(const std::string& path, const std::string& hash,
                          const std::string& note);
// Whether `hash` is approved by STATE_DIR/approved_plans or config.approved_plans.
Result<bool> IsPlanApproved(const ClientConfig& config, const std::string& hash);

}  // namespace fedsmear
