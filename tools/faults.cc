#include "tools/faults.h"

#include <algorithm>
#include <sstream>

#include "common/yaml_reader.h"

namespace fedsmear {
namespace {

const std::vector<std::string> kKinds = {"kill_site", "delay_site", "cut_site",
                                         "kill_coordinator"};

std::string SiteName(int k) { return "site-" + std::to_string(k); }

}  // namespace

Result<std::vector<FaultEvent>> LoadFaultSchedule(const std::string& path, int sites, int rounds) {
  ASSIGN_OR_RETURN(YAML::Node doc, LoadYamlFile(path));
  YamlReader root(doc, "");
  std::vector<FaultEvent> events;
  int index = 0;
  for (YamlReader& item : root.ChildList("faults")) {
    FaultEvent e;
    std::string kind;
    item.ReadEnum("kind", kKinds, &kind);
    e.kind = static_cast<FaultKind>(std::find(kKinds.begin(), kKinds.end(), kind) - kKinds.begin());
    item.Read("site", &e.site);
    item.Read("round", &e.round);
    item.Read("last_round", &e.last_round);
    item.Read("restart_round", &e.restart_round);
    item.Read("after_s", &e.after_s);
    if (e.kind == FaultKind::kKillCoordinator) e.seconds = 2;
    item.Read("seconds", &e.seconds);
    if (kind.empty()) item.Fail("kind", "is required (one of kill_site, delay_site, ...)");
    const bool site_fault = e.kind != FaultKind::kKillCoordinator;
    if (site_fault && (e.site < 1 || e.site > sites)) {
      item.Fail("site", "must name a site from 1 to " + std::to_string(sites));
    }
    if (!site_fault && item.Has("site")) item.Fail("site", "kill_coordinator takes no site");
    if (e.round < 1 || e.round > rounds) {
      item.Fail("round", "must be a round from 1 to " + std::to_string(rounds));
    }
    if (e.kind == FaultKind::kKillCoordinator && e.round < 2) {
      item.Fail("round", "the coordinator can be killed from round 2 on (round 1 has no "
                         "checkpoint to resume from)");
    }
    if (e.restart_round != 0 && (e.kind != FaultKind::kKillSite || e.restart_round <= e.round)) {
      item.Fail("restart_round", "is for kill_site and must come after `round`");
    }
    if (e.last_round != 0 && (e.kind != FaultKind::kDelaySite || e.last_round < e.round)) {
      item.Fail("last_round", "is for delay_site and must not come before `round`");
    }
    if ((e.kind == FaultKind::kDelaySite || e.kind == FaultKind::kCutSite) && e.seconds <= 0) {
      item.Fail("seconds", "must be > 0 for delay_site and cut_site");
    }
    if (e.after_s < 0 || e.seconds < 0) item.Fail("after_s", "times must not be negative");
    RETURN_IF_ERROR(item.Finish().WithContext("faults[" + std::to_string(index) + "]"));
    events.push_back(e);
    ++index;
  }
  RETURN_IF_ERROR(root.Finish());
  return events;
}

std::string DescribeFault(const FaultEvent& e) {
  std::ostringstream s;
  switch (e.kind) {
    case FaultKind::kKillSite:
      s << "kill " << SiteName(e.site) << " in round " << e.round;
      if (e.restart_round) s << " (restart in round " << e.restart_round << ")";
      break;
    case FaultKind::kDelaySite:
      s << "freeze " << SiteName(e.site) << " for " << e.seconds << " s in round " << e.round;
      if (e.last_round > e.round) s << " to " << e.last_round;
      break;
    case FaultKind::kCutSite:
      s << "cut " << SiteName(e.site) << "'s connection for " << e.seconds << " s in round "
        << e.round;
      break;
    case FaultKind::kKillCoordinator:
      s << "kill the coordinator in round " << e.round << " and resume it " << e.seconds
        << " s later";
      break;
  }
  return s.str();
}

std::set<int> SitesWithCuts(const std::vector<FaultEvent>& events) {
  std::set<int> sites;
  for (const FaultEvent& e : events) {
    if (e.kind == FaultKind::kCutSite) sites.insert(e.site);
  }
  return sites;
}

FaultInjector::FaultInjector(std::vector<FaultEvent> events, FaultActions actions)
    : events_(std::move(events)), actions_(std::move(actions)) {}

void FaultInjector::Schedule(double after_s, std::string what, std::function<Status()> run) {
  auto when = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(after_s * 1000));
  pending_.push_back({when, std::move(what), std::move(run)});
}

void FaultInjector::RoundStarted(int round) {
  if (!started_rounds_.insert(round).second) return;
  for (const FaultEvent& e : events_) {
    const int k = e.site;
    const std::string site = SiteName(k);
    switch (e.kind) {
      case FaultKind::kKillSite:
        if (e.round == round) {
          Schedule(e.after_s, "killed " + site, [this, k] { return actions_.kill_site(k); });
        }
        if (e.restart_round == round) {
          Schedule(0, "restarted " + site, [this, k] { return actions_.start_site(k); });
        }
        break;
      case FaultKind::kDelaySite:
        if (round >= e.round && round <= std::max(e.round, e.last_round)) {
          Schedule(e.after_s, "froze " + site, [this, k] {
            frozen_.insert(k);
            return actions_.freeze_site(k, true);
          });
          Schedule(e.after_s + e.seconds, "thawed " + site, [this, k] {
            frozen_.erase(k);
            return actions_.freeze_site(k, false);
          });
        }
        break;
      case FaultKind::kCutSite:
        if (e.round == round) {
          Schedule(e.after_s, "cut " + site + "'s connection", [this, k] {
            cut_.insert(k);
            return actions_.cut_site(k, true);
          });
          Schedule(e.after_s + e.seconds, "restored " + site + "'s connection", [this, k] {
            cut_.erase(k);
            return actions_.cut_site(k, false);
          });
        }
        break;
      case FaultKind::kKillCoordinator:
        if (e.round == round) {
          Schedule(e.after_s, "killed the coordinator", [this] { return actions_.kill_coordinator(); });
          Schedule(e.after_s + e.seconds, "resumed the coordinator",
                   [this] { return actions_.resume_coordinator(); });
        }
        break;
    }
  }
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Pending& a, const Pending& b) { return a.when < b.when; });
}

Status FaultInjector::Tick() {
  const auto now = Clock::now();
  while (!pending_.empty() && pending_.front().when <= now) {
    Pending p = std::move(pending_.front());
    pending_.erase(pending_.begin());
    if (actions_.record) actions_.record(p.what);
    RETURN_IF_ERROR(p.run());
  }
  return Status::Ok();
}

Status FaultInjector::Finish() {
  pending_.clear();
  for (int k : frozen_) RETURN_IF_ERROR(actions_.freeze_site(k, false));
  for (int k : cut_) RETURN_IF_ERROR(actions_.cut_site(k, false));
  frozen_.clear();
  cut_.clear();
  return Status::Ok();
}

}  // namespace fedsmear
