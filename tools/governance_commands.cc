#include "tools/governance_commands.h"

#include <iostream>
#include <memory>

#include "common/config.h"
#include "common/governance/audit_key.h"
#include "common/governance/audit_log.h"
#include "common/governance/plan.h"
#include "coordinator/run_plan.h"

namespace fedsmear {

namespace {

struct AuditVerifyArgs {
  std::vector<std::string> files, keys, anchors, peers;
};

int RunAuditVerify(const AuditVerifyArgs& a) {
  AuditVerifyOptions o;
  for (const std::string& k : a.keys) {
    Result<std::string> key = LoadAuditPublicKey(k);
    if (!key.ok()) {
      std::cerr << "fedsmear audit verify: --key " << k << ": " << key.status().message() << "\n";
      return 2;
    }
    o.keys.push_back(*key);
  }
  for (const std::string& f : a.anchors) {
    Result<std::vector<AuditAnchor>> anchors = LoadAuditAnchors(f);
    if (!anchors.ok()) {
      std::cerr << "fedsmear audit verify: " << anchors.status().message() << "\n";
      return 2;
    }
    o.anchors.insert(o.anchors.end(), anchors->begin(), anchors->end());
  }
  o.peer_files = a.peers;
  Result<AuditSummary> summary = VerifyAudit(a.files, o);
  if (!summary.ok()) {
    std::cerr << "fedsmear audit verify: " << summary.status().message() << "\n";
    return 2;
  }
  std::cout << FormatAuditSummary(*summary);
  return summary->chain_ok ? 0 : 1;
}

}  // namespace

Command AddAuditCommand(CLI::App& root) {
  CLI::App* audit = root.add_subcommand("audit", "audit logs of sites and coordinators");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify", "check an audit log's hash chain, signatures and anchors, and summarise it");
  auto args = std::make_shared<AuditVerifyArgs>();
  verify->add_option("FILE", args->files, "audit.jsonl and its rotated audit.jsonl.N files")
      ->required()
      ->check(CLI::ExistingFile);
  verify->add_option("--key", args->keys,
                     "the writer's Ed25519 key (NAME.sign.pub or 64 hex); repeat for a rotation");
  verify->add_option("--anchor", args->anchors, "heads saved with `fedsmear audit head`")
      ->check(CLI::ExistingFile);
  verify->add_option("--peer", args->peers,
                     "the coordinator's audit log (and its rotated files), to check a site's")
      ->check(CLI::ExistingFile);
  CLI::App* head = audit->add_subcommand(
      "head", "print the verified chain's last entry as an anchor line to keep elsewhere");
  auto head_files = std::make_shared<std::vector<std::string>>();
  head->add_option("FILE", *head_files, "audit.jsonl and its rotated audit.jsonl.N files")
      ->required()
      ->check(CLI::ExistingFile);
  return {audit, [verify, head, args, head_files]() {
            if (verify->parsed()) return RunAuditVerify(*args);
            if (!head->parsed()) return 2;
            Result<AuditAnchor> anchor = AuditHead(*head_files);
            if (!anchor.ok()) {
              std::cerr << "fedsmear audit head: " << anchor.status().message() << "\n";
              return 1;
            }
            std::cout << FormatAnchor(*anchor) << "\n";
            return 0;
          }};
}

Command AddPlanCommand(CLI::App& root) {
  CLI::App* plan = root.add_subcommand("plan", "the training plan of a coordinator config");
  plan->require_subcommand(1);
  CLI::App* show = plan->add_subcommand("show", "print the plan, its hash, or its bytes");
  auto config = std::make_shared<std::string>();
  auto what = std::make_shared<std::string>("text");
  show->add_option("--config", *config, "coordinator YAML")->required()->check(CLI::ExistingFile);
  show->add_option("--format", *what, "text | hash | json")
      ->check(CLI::IsMember({"text", "hash", "json"}))
      ->capture_default_str();
  return {plan, [config, what]() {
            Result<CoordinatorConfig> c = LoadCoordinatorConfig(*config);
            Result<TrainingPlan> made = c.ok() ? MakeRunPlan(*c) : c.status();
            if (!made.ok()) {
              std::cerr << "fedsmear plan show: " << made.status().message() << "\n";
              return 2;
            }
            const TrainingPlan& p = *made;
            if (*what == "hash") std::cout << p.hash << "\n";
            if (*what == "json") std::cout << p.bytes << "\n";
            if (*what == "text") std::cout << DescribePlan(p);
            return 0;
          }};
}

}  // namespace fedsmear
