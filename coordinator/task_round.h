// TaskRound: one exchange of the coordinator with a set of sites — send each a task, collect
// their replies — used by training, federated evaluation and every SecAgg+ stage.
//
// The caller names the sites it waits for (Send, or Expect for a stage whose request went out
// earlier), each with the task id its reply must carry, then calls Collect, which pumps the
// SiteRegistry until every expected site answered, `until` passed, or the rest went silent
// (no heartbeat for 3 intervals). Refusals (of the site's task, or of the run as a whole:
// task id 0) and errors from a waiting site are failures without asking the caller; every
// other message from a known site goes to the caller's handler, which says whether it answers
// (the site is done), fails the site (a rejected reply), or is to be ignored. Messages from
// sites not waited for (not asked, already answered, already failed) also go to the handler,
// with task == nullptr; its verdict is then ignored. Failures are data: failures() lists each
// failed site once with why (kPermissionDenied refused, kInternal error or rejected reply,
// kTimeout deadline, kUnavailable silent or unreachable).
//
// Thread-safety: one thread (the coordinator's run loop). Ownership: borrows the registry.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/wire/messages.h"
#include "coordinator/site_registry.h"
#include "coordinator/strategy.h"

namespace fedsmear {

struct Verdict {
  enum class Kind { kIgnore, kAnswer, kFail };
  Kind kind = Kind::kIgnore;
  Status why;  // kFail

  static Verdict Ignore() { return {}; }
  static Verdict Answer() { return {Kind::kAnswer, Status::Ok()}; }
  static Verdict Fail(Status why) { return {Kind::kFail, std::move(why)}; }
};

class TaskRound {
 public:
  using Clock = SiteRegistry::Clock;
  // (site, the task id it owes or nullptr when it is not waited for, message, encoded size).
  using Handler = std::function<Verdict(const std::string& site, const uint64_t* task,
                                        wire::Message& m, size_t bytes)>;

  // `what` names the exchange in logs ("round 3", "round 3 key sharing"); `deadline_reason`
  // is the failure recorded for sites that did not answer in time.
  TaskRound(SiteRegistry& sites, std::string what,
            std::string deadline_reason = "deadline passed");

  // Sends `body` and waits for `site`'s reply to `task_id`. A failed send fails the site (and
  // returns false). `bytes` (optional) accumulates the encoded size.
  bool Send(const std::string& site, wire::Body body, uint64_t task_id, uint64_t* bytes = nullptr);
  // Waits for `site`'s reply to `task_id` without sending (the request went out earlier).
  void Expect(const std::string& site, uint64_t task_id);
  // Fails a site now (e.g. a stage whose state says so); no-op for sites already failed.
  void Fail(const std::string& site, Status why);

  // Collects until nobody is waited for, `until` passes or the rest went silent. Errors: the
  // transport's, and kAborted when `stop` is set.
  Status Collect(Clock::time_point until, const std::atomic<bool>& stop, const Handler& handler);

  bool done() const { return waiting_.empty(); }
  const std::map<std::string, uint64_t>& waiting() const { return waiting_; }
  const std::vector<std::string>& answered() const { return answered_; }  // in arrival order
  const std::vector<SiteFailure>& failures() const { return failures_; }
  bool failed(const std::string& site) const { return failed_.count(site) > 0; }

 private:
  void OnMessage(const std::string& site, wire::Message& m, size_t bytes, const Handler& h);

  SiteRegistry& sites_;
  const std::string what_;
  const std::string deadline_reason_;
  std::map<std::string, uint64_t> waiting_;  // site -> task id
  std::vector<std::string> answered_;
  std::vector<SiteFailure> failures_;
  std::set<std::string> failed_;
};

}  // namespace fedsmear
