// Private to client/: the Site daemon's mutable state, shared by site.cc (creation, the serve
// loop, training and secure aggregation handlers) and site_runner.cc (the task runner).
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <variant>

#include "client/site.h"
#include "client/site_metrics.h"
#include "secagg/site_secagg.h"
#include "common/wire/messages.h"

namespace fedsmear {

// What the worker thread hands back: a reply to send, or the input of a secure aggregation
// round (never sent as such: the session masks it first).
using WorkOutput = std::variant<wire::Body, SecAggInput, SiteEvaluation>;

template <typename T>
Result<WorkOutput> AsWork(Result<T> r) {
  if (!r.ok()) return r.status();
  return WorkOutput(std::move(r).value());
}

struct Site::Impl {
  std::future<Result<WorkOutput>> work;   // the reply of the task being worked on
  SessionLedger secagg_ledger;            // the run's secure sessions (outlives `secagg`)
  std::unique_ptr<SecAggSession> secagg;  // the current secure aggregation round, if any
  uint64_t work_task_id = 0;
  std::unique_ptr<SiteMetrics> metrics;  // config `metrics.enabled`: the site's own /metrics
  // The newest train task that arrived while busy (e.g. from a restarted coordinator); it starts
  // as soon as the current work ends. Older queued tasks are superseded.
  std::optional<wire::TrainTask> queued;
  std::string queued_run_id;  // the run `queued` belongs to
};

}  // namespace fedsmear
