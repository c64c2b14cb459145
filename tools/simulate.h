// Local simulation of a consortium: a coordinator and N hospital daemons as separate processes
// on 127.0.0.1, each site with its own key pair, config and data partition — or, with
// RunInProcess, as threads of one process over the in-process transport.
//
// PrepareSimulation lays out RUN_DIR (data/, keys/, config/, logs/, coordinator.yaml and, with a
// fault schedule, faults.yaml) from the options; RunSimulation starts the processes, injects the
// scheduled faults (recorded in RUN_DIR/faults.log), prints one table row per finished round
// from RUN_DIR/metrics.jsonl, and stops every child when the run ends (or on `stop`).
// RunInProcess runs the same plan's coordinator and sites as threads over an InprocHub
// (common/net/inproc_transport.h): no sockets, at most `parallel` sites train at once, optional
// dropouts, and RUN_DIR/inprocess.jsonl with each round's time, the wall time during which
// sites trained, and the difference (the round's overhead).
// Thread-safety: call from one thread. Ownership: child processes and site threads live inside
// RunSimulation / RunInProcess.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

struct SimOptions {
  std::string base_config;       // optional coordinator YAML to start from
  int sites = 4;
  int rounds = 5;
  std::string arch = "bdn-tiny";
  int input_size = 32;
  std::string synthetic;         // rbc | wbc (generated data), or empty with `data`
  int per_class = 120;           // synthetic images per class (training pool; per site when
                                 // per_class_per_site)
  bool per_class_per_site = false;
  std::string data;              // image folder or manifest of real data
  std::string holdout;           // held-out folder; empty: 15% of the data is held out
  std::vector<std::string> classes;  // the model's classes (default: base config's, else data's)
  std::string partition = "iid";  // iid | dirichlet:A | group
  std::string out = "runs/sim";
  bool insecure = false;         // plain TCP instead of CurveZMQ
  int port = 0;                  // 0: pick a free port
  int seed = 1;
  int threads_per_site = 0;      // 0: share the machine's cores
  // Settings over the base config, in order: (dotted key, YAML value), e.g.
  // ("train.batch_size", "16"); any key of the coordinator config (ApplySetting).
  std::vector<std::pair<std::string, std::string>> settings;
  EvalEngine eval_engine = EvalEngine::kAuto;  // every score: coordinator's and sites'

  std::string faults;            // fault schedule YAML (tools/faults.h); copied into RUN_DIR
  int unapproved_sites = 0;      // the last N sites do not approve the plan up front (they
                                 // refuse tasks until `fedsmear-client plan approve`)
};

struct SimPlan {
  std::string run_dir;
  std::string coordinator_config;         // RUN_DIR/coordinator.yaml
  std::vector<std::string> site_configs;  // RUN_DIR/config/site-<k>.yaml
  int rounds = 0;
  // Torch threads of the coordinator process: the machine's cores, because its central
  // evaluation runs while every site waits for the next round.
  int coordinator_threads = 1;
  // "DIR:N" for the site processes' --work-slots: at most N of them train or evaluate at once,
  // so that sites x their threads do not oversubscribe the machine's cores.
  std::string work_slots;
};

// The machine's hardware threads, at least 1.
int MachineCores();

Result<SimPlan> PrepareSimulation(const SimOptions& options);

// `resume`: restart the coordinator with --resume on an existing RUN_DIR.
Status RunSimulation(const SimPlan& plan, bool resume, const std::atomic<bool>& stop);

struct InProcessOptions {
  int parallel = 0;       // sites training (or evaluating) at once; 0: the machine's cores
  int dropouts = 0;       // sites that leave during `dropout_round`: under SecAgg+ after the
  int dropout_round = 2;  // key shares were relayed (recovered), else on receiving their task
};

Status RunInProcess(const SimPlan& plan, const InProcessOptions& options,
                    const std::atomic<bool>& stop);

}  // namespace fedsmear
