#include "common/governance/plan_approvals.h"

#include <filesystem>
#include <sstream>

#include "common/file_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

bool IsHash(const std::string& s) {
  return s.size() == 64 &&
         s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string PendingPlanPath(const std::string& state_dir) {
  return (fs::path(state_dir) / "pending_plan").string();
}
std::string ApprovedPlansPath(const std::string& state_dir) {
  return (fs::path(state_dir) / "approved_plans").string();
}
std::string LastApprovedPlanPath(const std::string& state_dir) {
  return (fs::path(state_dir) / "last_approved_plan").string();
}
std::string SiteAuditLogPath(const ClientConfig& c) {
  if (!c.audit_log.empty()) return c.audit_log;
  return c.state_dir.empty() ? "" : (fs::path(c.state_dir) / "audit.jsonl").string();
}

Result<std::set<std::string>> ReadApprovedPlans(const std::string& path) {
  std::set<std::string> out;
  if (path.empty() || !fs::exists(path)) return out;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, 16 << 20));
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string hash, rest;
    if (!(words >> hash)) continue;
    if (!IsHash(hash) || (words >> rest)) {
      return InvalidArgument(path + ":" + std::to_string(n) +
                             ": expected one plan hash (64 lowercase hex digits) per line");
    }
    out.insert(hash);
  }
  return out;
}

Status AppendApprovedPlan(const std::string& path, const std::string& hash,
                          const std::string& note) {
  if (!IsHash(hash)) return InvalidArgument("plan hash must be 64 lowercase hex digits: " + hash);
  std::string text;
  if (fs::exists(path)) {
    ASSIGN_OR_RETURN(text, ReadFile(path, 16 << 20));
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  text += hash + "  # " + note + "\n";
  return WriteFileAtomic(path, text);
}

Result<bool> IsPlanApproved(const ClientConfig& config, const std::string& hash) {
  for (const std::string& file :
       {config.state_dir.empty() ? std::string() : ApprovedPlansPath(config.state_dir),
        config.approved_plans}) {
    ASSIGN_OR_RETURN(std::set<std::string> hashes, ReadApprovedPlans(file));
    if (hashes.count(hash)) return true;
  }
  return false;
}

}  // namespace fedsmear
