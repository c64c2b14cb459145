// Fault schedule for `fedsmear simulate`: which site (or the coordinator) fails, when, and how.
//
// A schedule is a YAML file (see configs/faults-example.yaml):
//   faults:
//     - {kind: kill_site, site: 2, round: 2, restart_round: 4}   # SIGKILL, later a fresh process
//     - {kind: delay_site, site: 3, round: 1, last_round: 2, seconds: 4}  # frozen (straggler)
//     - {kind: cut_site, site: 1, round: 3, seconds: 20}          # its TCP connection cut
//     - {kind: kill_coordinator, round: 3, seconds: 2}            # SIGKILL, restart with --resume
// Every fault fires `after_s` seconds (default 0) after its round starts, i.e. after the previous
// round's row reaches metrics.jsonl (round 1: after the processes start).
//
// FaultInjector turns the schedule into timed actions; the simulation calls RoundStarted() when
// a round begins and Tick() often, and supplies the actions as callbacks (it owns the processes).
// Thread-safety: one thread. Ownership: holds copies of the events and the callbacks.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

enum class FaultKind { kKillSite, kDelaySite, kCutSite, kKillCoordinator };

struct FaultEvent {
  FaultKind kind = FaultKind::kKillSite;
  int site = 0;            // 1-based site number (site faults only)
  int round = 1;           // round in which the fault happens
  int last_round = 0;      // delay_site: straggles through this round too (0: only `round`)
  int restart_round = 0;   // kill_site: a fresh process starts when this round starts (0: never)
  double after_s = 0;      // seconds into the round
  double seconds = 0;      // delay / cut length; coordinator downtime (default 2)
};

// Reads and checks a schedule against the simulation's size (sites numbered 1..sites).
Result<std::vector<FaultEvent>> LoadFaultSchedule(const std::string& path, int sites, int rounds);
// "kill site-2 in round 2 (restart in round 4)" and the like.
std::string DescribeFault(const FaultEvent& e);
// Sites that need a cuttable connection (a relay between them and the coordinator).
std::set<int> SitesWithCuts(const std::vector<FaultEvent>& events);

// What the simulation can do to its processes. Each returns an error only when the simulation
// itself can no longer go on (e.g. a process cannot be started again).
struct FaultActions {
  std::function<Status(int site)> kill_site;
  std::function<Status(int site)> start_site;
  std::function<Status(int site, bool frozen)> freeze_site;   // SIGSTOP / SIGCONT
  std::function<Status(int site, bool cut)> cut_site;
  std::function<Status()> kill_coordinator;
  std::function<Status()> resume_coordinator;
  std::function<void(const std::string& what)> record;       // log line for the run
};

class FaultInjector {
 public:
  using Clock = std::chrono::steady_clock;
  FaultInjector(std::vector<FaultEvent> events, FaultActions actions);

  // Round `round` has begun. Rounds already started (e.g. before a resume) are ignored.
  void RoundStarted(int round);
  // Runs every action whose time has come.
  Status Tick();
  // Undoes lasting faults (thaws frozen sites, restores cut connections) at the end of a run.
  Status Finish();
  bool idle() const { return pending_.empty(); }

 private:
  struct Pending {
    Clock::time_point when;
    std::string what;
    std::function<Status()> run;
  };
  void Schedule(double after_s, std::string what, std::function<Status()> run);

  std::vector<FaultEvent> events_;
  FaultActions actions_;
  std::set<int> started_rounds_;
  std::vector<Pending> pending_;
  std::set<int> frozen_, cut_;
};

}  // namespace fedsmear
