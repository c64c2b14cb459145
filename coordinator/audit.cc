// The coordinator's governance: the run's training plan and its audit log of what it received,
// sent and decided (common/governance/, docs/deploy.md "Audit log").
#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "common/file_util.h"
#include "common/net/keys.h"
#include "common/sha256.h"
#include "coordinator/run_plan.h"
#include "coordinator/server_impl.h"

namespace fedsmear {

using nlohmann::json;

Status Coordinator::Impl::OpenAudit() {
  ASSIGN_OR_RETURN(plan, MakeRunPlan(config));
  const std::filesystem::path run(config.run_dir);
  // Published next to the run's outputs, for the consortium to hand to hospitals.
  RETURN_IF_ERROR(WriteFileAtomic((run / "plan.json").string(), plan.bytes));
  const std::string path =
      config.audit_log.empty() ? (run / "audit.jsonl").string() : config.audit_log;
  std::optional<AuditSigner> signer;
  if (!config.signing_key_file.empty()) {
    ASSIGN_OR_RETURN(AuditSigner key, LoadAuditSigner(config.signing_key_file));
    signer.emplace(std::move(key));
  }
  ASSIGN_OR_RETURN(AuditLog log,
                   AuditLog::Open(path, static_cast<uint64_t>(config.audit_max_mb * 1048576.0),
                                  config.audit_sync, std::move(signer)));
  audit.emplace(std::move(log));
  spdlog::info("training plan {} (RUN_DIR/plan.json); audit log {}", plan.hash, path);
  audited_allowlist_sha = AllowlistSha();
  AuditEvent("start", {{"run_id", run_id},
                       {"allowed_sites_sha256", audited_allowlist_sha},
                       {"plan_hash", plan.hash},
                       {"plan", plan.doc},
                       {"allowed_sites_file", config.allowed_sites_file},
                       {"resumed_at_round", next_round}});
  return Status::Ok();
}

void Coordinator::Impl::AuditEvent(const std::string& kind, json fields) {
  if (!audit) return;
  if (Status st = audit->Append(kind, std::move(fields)); !st.ok()) {
    spdlog::error("audit log: {}", st.ToString());
  }
}

void Coordinator::Impl::AuditMessage(const char* kind, const std::string& site,
                                     const wire::Body& body, const std::string& encoded) {
  if (!audit || std::holds_alternative<wire::Heartbeat>(body)) return;
  AuditContext context;
  context.codec_up = config.codec_up;
  context.secure_required = config.secure_aggregation != SecureAggregation::kOff;
  json fields = AuditMessageFields(body, encoded, context);
  fields["site"] = site;
  AuditEvent(kind, std::move(fields));
}

std::string Coordinator::Impl::AllowlistSha() const {
  if (config.allowed_sites_file.empty()) return "";
  Result<std::string> allowed = ReadFile(config.allowed_sites_file, 64 << 20);
  return allowed.ok() ? ToHex(Sha256Of(*allowed)) : "";
}

void Coordinator::Impl::AuditRound(int round, const RoundOutcome& outcome) {
  // The allowlist reloads without a restart (sites admitted, rotated, revoked): the trail names
  // each version a round ran under, with its site ids.
  if (const std::string sha = AllowlistSha(); sha != audited_allowlist_sha) {
    json sites = json::array();
    if (Result<std::vector<AllowedSite>> list = LoadAllowedSites(config.allowed_sites_file);
        list.ok()) {
      for (const AllowedSite& s : *list) sites.push_back(s.site_id);
    }
    spdlog::info("allowlist {} changed before round {} ({} site(s))", config.allowed_sites_file,
                 round, sites.size());
    AuditEvent("allowlist_changed", {{"round", round},
                                     {"allowed_sites_sha256", sha},
                                     {"previous_sha256", audited_allowlist_sha},
                                     {"sites", sites}});
    audited_allowlist_sha = sha;
  }
  json failures = json::array();
  for (const SiteFailure& f : outcome.failures) {
    failures.push_back({{"site", f.site_id},
                        {"code", StatusCodeName(f.reason.code())},
                        {"reason", f.reason.message()}});
  }
  const std::vector<std::string> aggregated =
      outcome.completed ? outcome.reported : std::vector<std::string>{};
  AuditEvent("round_closed", {{"round", round},
                              {"plan_hash", plan.hash},
                              {"completed", outcome.completed},
                              {"aggregated", aggregated},
                              {"selected", outcome.selected},
                              {"reported", outcome.reported},
                              {"dropped", outcome.dropped},
                              {"failures", failures},
                              {"secure", outcome.secure},
                              {"reason", outcome.incomplete_reason}});
  for (const auto& [site, evidence] : outcome.excluded) {
    AuditEvent("site_excluded", {{"round", round}, {"site", site}, {"evidence", evidence}});
  }
}

}  // namespace fedsmear
