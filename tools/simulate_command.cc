#include "tools/simulate_command.h"

#include <atomic>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/strategy_registry.h"
#include "tools/container_layout.h"
#include "tools/simulate.h"

namespace fedsmear {
namespace {

// Set by SIGINT/SIGTERM while a simulation runs, so that children are stopped cleanly.
std::atomic<bool> g_sim_stop{false};
void OnSignal(int) { g_sim_stop.store(true); }

struct SimulateCmd {
  SimOptions o;
  bool resume = false;
  std::string layout = "processes";
  bool in_process = false;
  InProcessOptions in_process_options;
};

int RunSimulate(SimulateCmd c) {
  if (c.in_process) {
    if (c.resume || c.layout != "processes" || !c.o.faults.empty()) {
      std::cerr << "fedsmear simulate: --in-process runs fresh, without --resume, --layout or "
                   "--faults (use --dropouts)\n";
      return 1;
    }
    // Many sites in one process: synthetic images are per site, and every site trains on one
    // thread (at most --parallel at once).
    c.o.per_class_per_site = true;
    if (c.o.threads_per_site == 0) c.o.threads_per_site = 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  SimPlan plan;
  if (c.resume) {
    namespace fs = std::filesystem;
    plan.run_dir = fs::absolute(c.o.out).string();
    plan.coordinator_config = plan.run_dir + "/coordinator.yaml";
    std::error_code ec;
    for (auto& e : fs::directory_iterator(plan.run_dir + "/config", ec)) {
      if (e.path().extension() == ".yaml") plan.site_configs.push_back(e.path().string());
    }
    std::sort(plan.site_configs.begin(), plan.site_configs.end());
    if (ec || plan.site_configs.empty()) {
      std::cerr << "fedsmear simulate: " << plan.run_dir << " holds no simulation to resume\n";
      return 1;
    }
    Result<CoordinatorConfig> cc = LoadCoordinatorConfig(plan.coordinator_config);
    if (!cc.ok()) {
      std::cerr << "fedsmear simulate: " << cc.status().message() << "\n";
      return 1;
    }
    plan.rounds = cc->rounds;
    plan.coordinator_threads = MachineCores();
  } else {
    Result<SimPlan> p = PrepareSimulation(c.o);
    if (!p.ok()) {
      std::cerr << "fedsmear simulate: " << p.status().message() << "\n";
      return 1;
    }
    plan = *p;
  }
  if (c.layout == "docker") {
    if (Status st = WriteContainerLayout(plan); !st.ok()) {
      std::cerr << "fedsmear simulate: " << st.message() << "\n";
      return 1;
    }
    std::printf("container layout written to %s/docker (see scripts/docker-sim)\n",
                plan.run_dir.c_str());
    return 0;
  }
  Status st = c.in_process ? RunInProcess(plan, c.in_process_options, g_sim_stop)
                           : RunSimulation(plan, c.resume, g_sim_stop);
  if (!st.ok()) {
    std::cerr << "fedsmear simulate: " << st.message() << "\n";
    return 1;
  }
  std::printf("done: %s/final.model, metrics in %s/metrics.jsonl\n", plan.run_dir.c_str(),
              plan.run_dir.c_str());
  return 0;
}

}  // namespace

Command AddSimulateCommand(CLI::App& root) {
  auto c = std::make_shared<SimulateCmd>();
  SimOptions& o = c->o;
  CLI::App* app = root.add_subcommand("simulate", "coordinator + N sites as local processes");
  app->add_option("--config", o.base_config, "coordinator YAML to start from");
  app->add_option("--sites", o.sites, "number of sites")->capture_default_str();
  app->add_option("--rounds", o.rounds, "rounds")->capture_default_str();
  app->add_option("--arch", o.arch, "architecture")->capture_default_str();
  app->add_option("--input-size", o.input_size, "input side in pixels")->capture_default_str();
  auto* syn = app->add_option("--synthetic", o.synthetic, "generate data: rbc | wbc")
                  ->check(CLI::IsMember({"rbc", "wbc"}));
  app->add_option("--per-class", o.per_class,
                  "synthetic images per class (in the training pool; per site with "
                  "--per-class-per-site or --in-process)")
      ->capture_default_str();
  app->add_flag("--per-class-per-site", o.per_class_per_site,
                "--per-class counts images per site (the pool holds per-class x sites)");
  auto* data = app->add_option("--data", o.data, "real image folder (or manifest)");
  syn->excludes(data);
  app->add_option("--holdout", o.holdout, "held-out folder (default: 15% of --data)");
  app->add_option("--classes", o.classes,
                  "the model's classes, comma-separated (default: the config's model.class_names, "
                  "else the data's class folders); images of other classes are skipped")
      ->delimiter(',');
  app->add_option("--partition", o.partition,
                  "iid | dirichlet:A | group (the scheme dealing the pool left after the held-out "
                  "carve; --concentrate-class first gives one site most of a class)")
      ->capture_default_str();
  app->add_option("--out", o.out, "run directory")->capture_default_str();
  app->add_flag("--insecure", o.insecure, "plain TCP instead of CurveZMQ");
  app->add_option("--seed", o.seed,
                  "seed of the sites' split, initialisation and batches (not of the held-out "
                  "set: --holdout-seed)")
      ->capture_default_str();
  app->add_option("--threads-per-site", o.threads_per_site, "torch threads per site (0: share)");
  app->add_option_function<std::vector<std::string>>(
         "--set",
         [&o](const std::vector<std::string>& items) {
           for (const std::string& item : items) {
             const size_t eq = item.find('=');
             if (eq == std::string::npos || eq == 0) {
               throw CLI::ValidationError("--set", "expected KEY=VALUE, got '" + item + "'");
             }
             o.settings.emplace_back(item.substr(0, eq), item.substr(eq + 1));
           }
         },
         "set any coordinator setting over the base config (repeatable), e.g. "
         "train.batch_size=16 or strategy_params.flip_share=0.3; "
         "`fedsmear-coordinator --help-config` lists every key")
      ->type_name("KEY=VALUE");
  app->add_option_function<std::string>(
         "--engine",
         [&o](const std::string& name) {
           auto engine = settings::ParseEnum<EvalEngine>(name);
           if (!engine) {
             throw CLI::ValidationError("--engine", "'" + name + "' is not one of " +
                                                        settings::EnumList<EvalEngine>());
           }
           o.eval_engine = *engine;
         },
         "engine of every score, the coordinator's and the sites': auto (the 1-bit engine for "
         "binarized models) | binary | torch (LibTorch, for comparison)")
      ->type_name("ENGINE");
  // Shorthands for the settings researchers change most; each is `--set KEY=VALUE`.
  struct Shorthand {
    const char* flag;
    const char* key;
  };
  static constexpr Shorthand kShorthands[] = {
      {"--local-epochs", "train.local_epochs"},
      {"--local-steps", "train.local_steps"},
      {"--lr", "train.learning_rate"},
      {"--logit-adjustment", "train.logit_adjustment"},
      {"--logit-adjustment-prior", "train.logit_adjustment_prior"},
      {"--optimizer-state", "train.optimizer_state"},
      {"--vote-momentum", "strategy_params.vote_momentum"},
      {"--bn-recalibration", "bn_recalibration_images"},
      {"--codec-down", "codec_down"},
      {"--codec-up", "codec_up"},
      {"--strategy", "strategy"},
      {"--latent-start", "latent_start"},
      {"--latent-flip", "latent_flip"},
      {"--deadline", "round_deadline_s"},
      {"--secure-aggregation", "secure_aggregation"},
      {"--holdout-seed", "simulation.holdout_seed"},
      {"--concentrate-class", "simulation.concentrate_class"},
      {"--concentrate-site", "simulation.concentrate_site"},
      {"--concentrate-share", "simulation.concentrate_share"},
      {"--partition-manifest", "simulation.partition_manifest"},
  };
  for (const Shorthand& s : kShorthands) {
    const std::string key = s.key;
    app->add_option_function<std::string>(
           s.flag, [&o, key](const std::string& value) { o.settings.emplace_back(key, value); },
           "--set " + key + "=VALUE")
        ->type_name("VALUE");
  }
  app->add_option_function<std::vector<std::string>>(
         "--strategy-param",
         [&o](const std::vector<std::string>& items) {
           for (const std::string& item : items) {
             const size_t eq = item.find('=');
             double value = 0;
             const char* end = item.data() + item.size();
             bool parsed = eq != std::string::npos && eq > 0;
             if (parsed) {
               const auto [stop, error] = std::from_chars(item.data() + eq + 1, end, value);
               parsed = error == std::errc() && stop == end;
             }
             if (!parsed) {
               throw CLI::ValidationError("--strategy-param",
                                          "expected KEY=NUMBER, got '" + item + "'");
             }
             o.settings.emplace_back("strategy_params." + item.substr(0, eq),
                                     item.substr(eq + 1));
           }
         },
         "--set strategy_params.KEY=VALUE (repeatable; fedsmear-coordinator --help lists each "
         "strategy's keys), e.g. flip_share=0.3")
      ->type_name("KEY=VALUE");
  app->add_option("--unapproved-sites", o.unapproved_sites,
                  "the last N sites leave the training plan unapproved (rehearse approval)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--faults", o.faults, "fault schedule YAML (see configs/faults-example.yaml)")
      ->check(CLI::ExistingFile);
  app->add_option("--layout", c->layout,
                  "processes: run the simulation here; docker: only write RUN/docker for "
                  "docker/compose.yaml and exit")
      ->check(CLI::IsMember({"processes", "docker"}))
      ->capture_default_str();
  app->add_flag("--resume", c->resume, "continue the simulation in --out after a crash");
  app->add_flag("--in-process", c->in_process,
                "run the coordinator and the sites as threads of this process over the "
                "in-process transport (no sockets; for many sites)");
  app->add_option("--parallel", c->in_process_options.parallel,
                  "--in-process: sites training at once (0: the cores)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--dropouts", c->in_process_options.dropouts,
                  "--in-process: sites that leave during --dropout-round (under SecAgg+ after "
                  "their key shares were relayed)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--dropout-round", c->in_process_options.dropout_round,
                  "--in-process: the round of the dropouts")
      ->capture_default_str();
  return {app, [c] { return RunSimulate(*c); }};
}

}  // namespace fedsmear
