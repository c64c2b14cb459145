// fedsmear-client: the hospital site daemon. Wires config, logging, the site and signals.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <memory>

#include "client/site.h"
#include "client/site_plan.h"
#include "common/build_info.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/settings/settings_help.h"

namespace {
// The one process-wide flag a signal handler may touch; main() owns its meaning.
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedsmear-client: trains the consortium's model on this site's private images"};
  std::string config_path;
  std::string log_level = "info";
  app.add_option("--config", config_path, "site YAML (see configs/client.yaml); required")
      ->check(CLI::ExistingFile);
  bool help_config = false;
  app.add_flag("--help-config", help_config,
               "print every configuration key with its type, default and range");
  bool insecure = false;
  app.add_flag("--insecure", insecure, "plain TCP without CurveZMQ (local debugging only)");
  std::string work_slots;
  app.add_option("--work-slots", work_slots,
                 "DIR:N: train and evaluate only while holding one of N slots shared with other "
                 "processes (simulations on few cores)");
  fedsmear::AddStandardFlags(app, &log_level, fedsmear::BuildRevision());
  // Training-plan approval (docs/deploy.md): `plan show`, `plan approve HASH`.
  CLI::App* plan = app.add_subcommand("plan", "review and approve the coordinator's training plan");
  plan->fallthrough();
  CLI::App* show = plan->add_subcommand("show", "print the pending plan, its hash and status");
  bool raw = false;
  show->add_flag("--raw", raw, "print the canonical plan bytes instead");
  show->fallthrough();
  CLI::App* approve = plan->add_subcommand("approve", "approve the pending plan");
  std::string hash;
  approve->add_option("HASH", hash, "the plan hash `plan show` prints")->required();
  approve->fallthrough();
  plan->require_subcommand(1);
  if (int code = fedsmear::ParseCli(app, argc, argv); code >= 0) return code;
  if (help_config) {
    std::cout << fedsmear::settings::SettingsHelp(fedsmear::ClientConfig{});
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "fedsmear-client: --config is required (see --help)\n";
    return 2;
  }
  auto config = fedsmear::LoadClientConfig(config_path);
  if (!config.ok()) {
    std::cerr << "fedsmear-client: " << config.status().message() << "\n";
    return 2;
  }
  if (plan->parsed()) {
    fedsmear::Status st = show->parsed() ? fedsmear::ShowPendingPlan(*config, raw, std::cout)
                                         : fedsmear::ApprovePendingPlan(*config, hash, std::cout);
    if (!st.ok()) std::cerr << "fedsmear-client: " << st.message() << "\n";
    return st.ok() ? 0 : 1;
  }
  if (app.count("--log-level") == 0) log_level = fedsmear::settings::NameOf(config->log_level);
  if (insecure) config->insecure = true;
  if (auto st = fedsmear::InitLogging(log_level, config->site_id); !st.ok()) {
    std::cerr << "fedsmear-client: " << st.message() << "\n";
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto site = fedsmear::Site::Create(*config);
  if (!site.ok()) {
    spdlog::error("{}", site.status().ToString());
    return 1;
  }
  if (!work_slots.empty()) {
    auto slots = fedsmear::ParseWorkSlots(work_slots);
    if (!slots.ok()) {
      spdlog::error("{}", slots.status().ToString());
      return 2;
    }
    (*site)->set_work_gate(std::make_shared<fedsmear::WorkGate>(std::move(*slots)));
  }
  fedsmear::Status st = (*site)->Run(g_stop);
  if (!st.ok()) {
    spdlog::error("{}", st.ToString());
    return st.code() == fedsmear::StatusCode::kAborted ? 0 : 1;
  }
  return 0;
}
