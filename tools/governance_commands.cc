#include "tools/governance_commands.h"

#include <iostream>
#include <memory>

#include "common/config.h"
#include "common/governance/audit_log.h"
#include "common/governance/plan.h"
#include "coordinator/run_plan.h"

namespace fedsmear {

Command AddAuditCommand(CLI::App& root) {
  CLI::App* audit = root.add_subcommand("audit", "audit logs of sites and coordinators");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify", "check an audit log's hash chain and summarise what it records");
  auto files = std::make_shared<std::vector<std::string>>();
  verify->add_option("FILE", *files, "audit.jsonl and its rotated audit.jsonl.N files")
      ->required()
      ->check(CLI::ExistingFile);
  return {audit, [verify, files]() {
            if (!verify->parsed()) return 2;
            Result<AuditSummary> summary = VerifyAudit(*files);
            if (!summary.ok()) {
              std::cerr << "fedsmear audit verify: " << summary.status().message() << "\n";
              return 2;
            }
            std::cout << FormatAuditSummary(*summary);
            return summary->chain_ok ? 0 : 1;
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
