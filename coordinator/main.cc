// fedsmear-coordinator: the consortium's daemon. main() wires config, strategy, held-out
// evaluation and the coordinator, and turns SIGINT/SIGTERM into a clean stop. With --jobs DIR it
// stays up and runs the jobs queued there one after another (coordinator/jobs/job_server.h);
// with --status-bind one status endpoint serves the jobs, the running one's page and /metrics
// for the life of the process (StatusService::StartForJobs).
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "common/build_info.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/settings/settings_help.h"
#include "common/file_util.h"
#include "common/log.h"
#include "coordinator/jobs/job_server.h"
#include "coordinator/jobs/queue_listing.h"
#include "coordinator/status/status_service.h"
#include "coordinator/server.h"
#include "coordinator/strategy_registry.h"

namespace {
// The one process-wide flag a signal handler may touch; main() owns its meaning.
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

// True when `run_dir` holds at least one round checkpoint (validity is checked on loading).
bool HasCheckpoint(const std::string& run_dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_dir + "/checkpoints", ec)) {
    if (e.path().extension() == ".ckpt") return true;
  }
  return false;
}
// Logging, LibTorch's threads and the stop signals; false (having said why) when logging cannot
// start.
bool StartProcess(const std::string& log_level, int threads) {
  if (auto st = fedsmear::InitLogging(log_level, "coordinator"); !st.ok()) {
    std::cerr << "fedsmear-coordinator: " << st.message() << "\n";
    return false;
  }
  torch::set_num_threads(threads);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return true;
}

// The strategy, the held-out evaluation and the coordinator of `config` (a run or a job).
fedsmear::Result<std::unique_ptr<fedsmear::Coordinator>> MakeCoordinator(
    const fedsmear::CoordinatorConfig& config, int threads, bool resume) {
  ASSIGN_OR_RETURN(auto strategy, fedsmear::MakeStrategy(config));
  ASSIGN_OR_RETURN(auto evaluator,
                   fedsmear::CentralEvaluator::Create(
                       config.holdout, config.model.class_names, config.model.input_size,
                       config.preprocess, fedsmear::CentralEvalOptions{config.eval_engine, threads}));
  return fedsmear::Coordinator::Create(config, std::move(strategy), std::move(evaluator), resume);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedsmear-coordinator: runs federated training rounds across hospital sites"};
  std::string config_path;
  std::string resume_dir;
  std::string log_level = "info";
  int threads = 2;
  app.add_option("--config", config_path, "coordinator YAML (see configs/coordinator.yaml)")
      ->check(CLI::ExistingFile);
  app.add_option("--resume", resume_dir,
                 "continue the run in this run directory (uses RUN_DIR/coordinator.yaml "
                 "unless --config is given)");
  bool resume_if_present = false;
  app.add_flag("--resume-if-present", resume_if_present,
               "with --config: continue from the run directory's latest checkpoint when it has "
               "one (what a restarted container or service needs), else start the run");
  app.add_option("--threads", threads, "CPU threads for central evaluation")->capture_default_str();
  std::string jobs_dir;
  app.add_option("--jobs", jobs_dir,
                 "stay up and run the jobs queued in this folder one after another "
                 "(`fedsmear job submit CONFIG --jobs DIR`); --config is then not needed");
  std::string status_bind, status_token_file;
  app.add_option("--status-bind", status_bind,
                 "with --jobs: serve the status page, the jobs and /metrics on HOST:PORT for as "
                 "long as the service runs (jobs' own status sections are then not used)");
  app.add_option("--status-token-file", status_token_file,
                 "with --status-bind: a file with the token every request but /healthz must carry")
      ->check(CLI::ExistingFile);
  bool insecure = false;
  app.add_flag("--insecure", insecure, "plain TCP without CurveZMQ (local debugging only)");
  fedsmear::AddStandardFlags(app, &log_level, fedsmear::BuildRevision());
  bool help_config = false;
  app.add_flag("--help-config", help_config,
               "print every configuration key with its type, default, range and plan rule");
  app.footer("Strategies (strategy and strategy_params in the config):\n" +
             fedsmear::StrategyHelp() + "Codecs:\n  codec_down: " +
             fedsmear::DownlinkCodecList() + "\n  codec_up: " + fedsmear::UplinkCodecList() +
             "\n");
  if (int code = fedsmear::ParseCli(app, argc, argv); code >= 0) return code;
  if (help_config) {
    std::cout << fedsmear::settings::SettingsHelp(fedsmear::CoordinatorConfig{});
    return 0;
  }
  if (jobs_dir.empty() && !(status_bind.empty() && status_token_file.empty())) {
    std::cerr << "fedsmear-coordinator: --status-bind and --status-token-file go with --jobs (a "
                 "single run's endpoint is the status section of its config)\n";
    return 2;
  }
  if (status_bind.empty() && !status_token_file.empty()) {
    std::cerr << "fedsmear-coordinator: --status-token-file needs --status-bind\n";
    return 2;
  }
  if (!jobs_dir.empty()) {
    if (!StartProcess(log_level, threads)) return 2;
    auto queue = fedsmear::JobQueue::Open(jobs_dir);
    if (!queue.ok()) {
      spdlog::error("{}", queue.status().ToString());
      return 1;
    }
    fedsmear::JobServerOptions options;
    options.job_logs = fedsmear::AttachJobLogs();  // before the endpoint's threads start
    // Declared before the endpoint that reads them, so that the endpoint stops first.
    fedsmear::StatusSlot live;
    fedsmear::QueueJobListing listing(*queue);
    std::unique_ptr<fedsmear::StatusService> status;
    if (!status_bind.empty()) {
      auto service = fedsmear::StatusService::StartForJobs({true, status_bind, status_token_file},
                                                           &live, &listing);
      if (!service.ok()) {
        const fedsmear::Status st = service.status().WithContext("--status-bind " + status_bind);
        spdlog::error("{}", st.ToString());
        return 1;
      }
      status = std::move(*service);
      spdlog::info("status page for every job on {} (metrics at /metrics{})", status->url(),
                   status_token_file.empty() ? "" : ", bearer token required");
    }
    auto make = [&](const fedsmear::CoordinatorConfig& c)
        -> fedsmear::Result<std::unique_ptr<fedsmear::Coordinator>> {
      fedsmear::CoordinatorConfig job = c;
      if (insecure) job.insecure = true;
      ASSIGN_OR_RETURN(auto coordinator, MakeCoordinator(job, threads, /*resume=*/false));
      // As for a single run: the config beside the run's checkpoints.
      RETURN_IF_ERROR(fedsmear::WriteFileAtomic(job.run_dir + "/coordinator.yaml",
                                                fedsmear::ToYaml(job)));
      return coordinator;
    };
    if (status) options.live = &live;
    fedsmear::Status st = fedsmear::ServeJobs(*queue, make, g_stop, options);
    if (!st.ok()) {
      spdlog::error("{}", st.ToString());
      return 1;
    }
    return 0;
  }
  if (config_path.empty() && resume_dir.empty()) {
    std::cerr << "fedsmear-coordinator: --config, --resume or --jobs is required (see --help)\n";
    return 2;
  }
  if (config_path.empty()) config_path = resume_dir + "/coordinator.yaml";
  auto config = fedsmear::LoadCoordinatorConfig(config_path);
  if (!config.ok()) {
    std::cerr << "fedsmear-coordinator: " << config.status().message() << "\n";
    return 2;
  }
  if (!resume_dir.empty()) config->run_dir = resume_dir;
  const bool resume = !resume_dir.empty() || (resume_if_present && HasCheckpoint(config->run_dir));
  if (insecure) config->insecure = true;
  if (app.count("--log-level") == 0) log_level = fedsmear::settings::NameOf(config->log_level);
  if (!StartProcess(log_level, threads)) return 2;

  auto fail = [](const fedsmear::Status& st) {
    spdlog::error("{}", st.ToString());
    return 1;
  };
  auto coordinator = MakeCoordinator(*config, threads, resume);
  if (!coordinator.ok()) return fail(coordinator.status());
  if (resume) spdlog::info("resuming the run in {}", config->run_dir);
  if (resume_dir.empty()) {
    // Keep the run's config beside its checkpoints so that `--resume RUN_DIR` needs nothing else.
    const std::string kept = config->run_dir + "/coordinator.yaml";
    std::error_code ec;
    if (!std::filesystem::equivalent(config_path, kept, ec)) {
      if (auto st = fedsmear::WriteFileAtomic(kept, fedsmear::ToYaml(*config)); !st.ok()) {
        return fail(st);
      }
    }
  }
  fedsmear::Status st = (*coordinator)->Run(g_stop);
  if (config->status.enabled && config->status_after_run && !g_stop.load()) {
    spdlog::info("the run has ended ({}); serving its status page and /metrics until stopped",
                 st.ok() ? "complete" : st.message());
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!st.ok()) return fail(st);
  return 0;
}
