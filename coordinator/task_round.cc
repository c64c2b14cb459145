// TaskRound: send, collect, deadline, silence (see task_round.h).
#include "coordinator/task_round.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fedsmear {

using std::chrono::milliseconds;

TaskRound::TaskRound(SiteRegistry& sites, std::string what, std::string deadline_reason)
    : sites_(sites), what_(std::move(what)), deadline_reason_(std::move(deadline_reason)) {}

bool TaskRound::Send(const std::string& site, wire::Body body, uint64_t task_id,
                     uint64_t* bytes) {
  uint64_t sent_bytes = 0;
  Status st = sites_.Send(site, std::move(body), &sent_bytes);
  if (bytes) *bytes += sent_bytes;
  if (!st.ok()) {
    spdlog::warn("{}: could not send to {}: {}", what_, site, st.message());
    Fail(site, st);
    return false;
  }
  Expect(site, task_id);
  return true;
}

void TaskRound::Expect(const std::string& site, uint64_t task_id) {
  if (failed_.count(site)) return;
  waiting_[site] = task_id;
}

void TaskRound::Fail(const std::string& site, Status why) {
  if (!failed_.insert(site).second) return;
  waiting_.erase(site);
  failures_.push_back({site, std::move(why)});
}

void TaskRound::OnMessage(const std::string& site, wire::Message& m, size_t bytes,
                          const Handler& handler) {
  auto it = waiting_.find(site);
  if (it != waiting_.end()) {
    if (auto* r = std::get_if<wire::Refusal>(&m.body);
        r != nullptr && (r->task_id == it->second || r->task_id == 0)) {
      spdlog::warn("{}: site {} refused: {}", what_, site, r->reason);
      return Fail(site, PermissionDenied(r->reason));
    }
    if (auto* e = std::get_if<wire::Error>(&m.body)) {
      spdlog::warn("{}: site {} failed: {}", what_, site, e->message);
      return Fail(site, Internal(e->message));
    }
  }
  const uint64_t task = it != waiting_.end() ? it->second : 0;
  Verdict v = handler(site, it != waiting_.end() ? &task : nullptr, m, bytes);
  it = waiting_.find(site);  // the handler may have failed the site
  if (it == waiting_.end()) return;
  if (v.kind == Verdict::Kind::kAnswer) {
    waiting_.erase(it);
    answered_.push_back(site);
  } else if (v.kind == Verdict::Kind::kFail) {
    Fail(site, std::move(v.why));
  }
}

Status TaskRound::Collect(Clock::time_point until, const std::atomic<bool>& stop,
                          const Handler& handler) {
  auto on_round = [&](const std::string& site, wire::Message& m, size_t bytes) {
    OnMessage(site, m, bytes, handler);
  };
  const auto started = Clock::now();
  const size_t answered_before = answered_.size(), failed_before = failures_.size();
  struct Timer {  // one line per exchange: where a round's time goes
    const TaskRound& r;
    Clock::time_point started;
    size_t answered_before, failed_before;
    ~Timer() {
      spdlog::info("{}: {} answered, {} failed in {:.2f} s", r.what_,
                   r.answered_.size() - answered_before, r.failures_.size() - failed_before,
                   std::chrono::duration<double>(Clock::now() - started).count());
    }
  } timer{*this, started, answered_before, failed_before};
  while (!waiting_.empty()) {
    if (stop.load()) return Aborted("stopped during " + what_);
    const auto now = Clock::now();
    if (now >= until) {
      for (const auto& [site, task] : std::map<std::string, uint64_t>(waiting_)) {
        spdlog::warn("{}: no answer from {} before the deadline", what_, site);
        Fail(site, Timeout(deadline_reason_));
      }
      break;
    }
    auto slice = std::min<Clock::duration>(until - now, milliseconds(200));
    const auto wait = std::chrono::duration_cast<milliseconds>(slice);
    ASSIGN_OR_RETURN(bool got, sites_.Pump(wait, on_round));
    // Handle everything queued (e.g. while the tasks went out) before judging silence: the
    // heartbeats among it count.
    for (int i = 0; got && i < 100000; ++i) {
      ASSIGN_OR_RETURN(got, sites_.Pump(milliseconds(0), on_round));
    }
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      const std::string site = (it++)->first;  // Fail erases only this entry
      if (sites_.IsSilent(site)) {
        spdlog::warn("{}: site {} went silent (no heartbeat): dropped", what_, site);
        Fail(site, Unavailable("site went silent"));
      }
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
