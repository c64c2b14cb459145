// RunSimulation: the processes of a local simulation, the fault injector that works on them and
// the per-round table printed from metrics.jsonl.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/config.h"
#include "common/process.h"
#include "report/rounds_table.h"
#include "tools/faults.h"
#include "tools/simulate.h"
#include "tools/tcp_relay.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

Result<int> EndpointPort(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("endpoint without a port: " + endpoint);
  try {
    return std::stoi(endpoint.substr(colon + 1));
  } catch (const std::exception&) {
    return InvalidArgument("endpoint without a port: " + endpoint);
  }
}

// The coordinator and site processes of one run, restartable one by one.
class Processes {
 public:
  Processes(const SimPlan& plan, std::string coordinator_bin, std::string site_bin)
      : plan_(plan),
        logs_(fs::path(plan.run_dir) / "logs"),
        coordinator_bin_(std::move(coordinator_bin)),
        site_bin_(std::move(site_bin)),
        sites_(plan.site_configs.size()) {}

  Status StartCoordinator(bool resume) {
    std::vector<std::string> args = {coordinator_bin_, "--threads",
                                     std::to_string(plan_.coordinator_threads)};
    if (resume) {
      args.insert(args.end(), {"--resume", plan_.run_dir});
    } else {
      args.insert(args.end(), {"--config", plan_.coordinator_config});
    }
    ASSIGN_OR_RETURN(coordinator_, ChildProcess::Spawn(args, (logs_ / "coordinator.log").string()));
    coordinator_down_ = false;
    return Status::Ok();
  }
  Status KillCoordinator() {
    coordinator_.Signal(SIGKILL);
    coordinator_.Wait(milliseconds(10000));
    coordinator_down_ = true;
    return Status::Ok();
  }
  // Exit code once the coordinator ended by itself; nullopt while it runs or was killed by us.
  std::optional<int> CoordinatorExit(milliseconds wait) {
    if (coordinator_down_) {
      std::this_thread::sleep_for(wait);
      return std::nullopt;
    }
    return coordinator_.Wait(wait);
  }
  void StopCoordinator() { coordinator_.Stop(); }

  Status StartSite(int k) {
    const std::string& cfg = plan_.site_configs.at(static_cast<size_t>(k - 1));
    std::string name = fs::path(cfg).stem().string();
    ASSIGN_OR_RETURN(sites_[static_cast<size_t>(k - 1)],
                     ChildProcess::Spawn({site_bin_, "--config", cfg, "--work-slots",
                                          plan_.work_slots},
                                         (logs_ / (name + ".log")).string()));
    return Status::Ok();
  }
  Status SignalSite(int k, int sig) {
    ChildProcess& p = sites_.at(static_cast<size_t>(k - 1));
    p.Signal(sig);
    if (sig == SIGKILL) p.Wait(milliseconds(10000));
    return Status::Ok();
  }
  void StopSites() {
    for (ChildProcess& s : sites_) {
      if (!s.Wait(milliseconds(10000))) s.Stop();
    }
  }
  int site_count() const { return static_cast<int>(sites_.size()); }

 private:
  const SimPlan& plan_;
  fs::path logs_;
  std::string coordinator_bin_, site_bin_;
  ChildProcess coordinator_;
  bool coordinator_down_ = false;
  std::vector<ChildProcess> sites_;
};

// Relays for the sites whose connection the schedule cuts (their configs point at the relay).
Result<std::map<int, std::unique_ptr<TcpRelay>>> StartRelays(const SimPlan& plan,
                                                              const std::set<int>& sites) {
  std::map<int, std::unique_ptr<TcpRelay>> relays;
  if (sites.empty()) return relays;
  ASSIGN_OR_RETURN(CoordinatorConfig c, LoadCoordinatorConfig(plan.coordinator_config));
  ASSIGN_OR_RETURN(int target, EndpointPort(c.bind));
  for (int k : sites) {
    ASSIGN_OR_RETURN(ClientConfig s, LoadClientConfig(plan.site_configs.at(static_cast<size_t>(k - 1))));
    ASSIGN_OR_RETURN(int port, EndpointPort(s.coordinator));
    ASSIGN_OR_RETURN(relays[k], TcpRelay::Start(port, target));
  }
  return relays;
}

}  // namespace

Status RunSimulation(const SimPlan& plan, bool resume, const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(std::string coord_bin, FindProgram("fedsmear-coordinator"));
  ASSIGN_OR_RETURN(std::string site_bin, FindProgram("fedsmear-client"));
  const fs::path run(plan.run_dir);
  std::vector<FaultEvent> events;
  if (fs::exists(run / "faults.yaml")) {
    ASSIGN_OR_RETURN(events, LoadFaultSchedule((run / "faults.yaml").string(),
                                               static_cast<int>(plan.site_configs.size()),
                                               plan.rounds));
  }
  ASSIGN_OR_RETURN(auto relays, StartRelays(plan, SitesWithCuts(events)));
  Processes procs(plan, coord_bin, site_bin);
  int round_now = 0;
  std::ofstream fault_log(run / "faults.log", std::ios::app);
  FaultActions actions;
  actions.kill_site = [&](int k) { return procs.SignalSite(k, SIGKILL); };
  actions.start_site = [&](int k) { return procs.StartSite(k); };
  actions.freeze_site = [&](int k, bool frozen) {
    return procs.SignalSite(k, frozen ? SIGSTOP : SIGCONT);
  };
  actions.cut_site = [&](int k, bool cut) {
    relays.at(k)->Cut(cut);
    return Status::Ok();
  };
  actions.kill_coordinator = [&] { return procs.KillCoordinator(); };
  actions.resume_coordinator = [&] { return procs.StartCoordinator(/*resume=*/true); };
  actions.record = [&](const std::string& what) {
    std::printf("fault: %s (round %d)\n", what.c_str(), round_now);
    std::fflush(stdout);
    nlohmann::json j = {{"round", round_now},
                        {"unix_ms", std::chrono::duration_cast<milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()},
                        {"fault", what}};
    fault_log << j.dump() << "\n" << std::flush;
  };
  FaultInjector faults(events, actions);
  for (const FaultEvent& e : events) std::printf("scheduled fault: %s\n", DescribeFault(e).c_str());

  RETURN_IF_ERROR(procs.StartCoordinator(resume));
  for (int k = 1; k <= procs.site_count(); ++k) RETURN_IF_ERROR(procs.StartSite(k));
  std::printf("run directory %s; logs in %s\n", plan.run_dir.c_str(), (run / "logs").c_str());
  RoundsTable table(run / "metrics.jsonl");
  int done = table.Poll();
  round_now = done + 1;
  faults.RoundStarted(round_now);
  std::optional<int> code;
  while (!(code = procs.CoordinatorExit(milliseconds(200)))) {
    int d = table.Poll();
    if (d > done) {
      done = d;
      round_now = done + 1;
      if (round_now <= plan.rounds) faults.RoundStarted(round_now);
    }
    Status st = faults.Tick();
    if (!st.ok() || stop.load()) {
      procs.StopCoordinator();
      return st.ok() ? Aborted("simulation interrupted") : st.WithContext("fault injection");
    }
  }
  table.Poll();
  RETURN_IF_ERROR(faults.Finish());  // thaw and reconnect sites so that they hear the goodbye
  procs.StopSites();
  if (*code != 0) {
    return Internal("coordinator exited with code " + std::to_string(*code) + "; see " +
                    (run / "logs" / "coordinator.log").string());
  }
  return Status::Ok();
}

}  // namespace fedsmear
