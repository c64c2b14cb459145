// ServeJobs: the long-lived coordinator (fedsmear-coordinator --jobs DIR). It runs the queued
// jobs of a JobQueue (coordinator/jobs/job_queue.h) one at a time, oldest first, and waits for
// more. Each job's config is loaded and checked; its run folder is the job's run/; a job whose
// config is unusable fails with the reason, and the next one runs. A run that ends in error fails
// its job, never the service. Sites connect once and stay (client exit_after_run: false): each
// job's coordinator binds the configured address and the site daemons find it, as they found the
// previous one. While a job runs, its log lines also go to the job's job.log, and an abort
// request (JobQueue::Abort, the job's abort file) stops it like a signal stops a daemon.
// With a StatusSlot (JobServerOptions::live), each job's live status is published there when the
// job starts, for the one status endpoint the process serves (StatusService::StartForJobs), and
// a job's own `status:` section is not used (its endpoint would take the service's address);
// without one, a job with status.enabled serves its own page while it runs, as a single run does.
// Thread-safety: call from one thread; `stop` may be set from elsewhere (a signal). Ownership:
// borrows the queue and the factory; each job's coordinator lives for that job.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <spdlog/sinks/dist_sink.h>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/jobs/job_queue.h"
#include "coordinator/server.h"
#include "coordinator/status/status_slot.h"

namespace fedsmear {

// Makes the coordinator of one job from its (checked) config: strategy, evaluator, transport.
using CoordinatorFactory =
    std::function<Result<std::unique_ptr<Coordinator>>(const CoordinatorConfig& config)>;

struct JobServerOptions {
  double poll_s = 1.0;  // how often an idle service looks for queued jobs
  // A sink the caller attached to the process's logger before any other thread logs
  // (AttachJobLogs); each job's job.log is added to it while the job runs. nullptr: no job.log.
  std::shared_ptr<spdlog::sinks::dist_sink_mt> job_logs;
  // Where each job's live status is published (borrowed; must outlive the server). nullptr: none.
  StatusSlot* live = nullptr;
};

// A fan-out sink attached to the default logger, for JobServerOptions::job_logs. Call before
// starting threads that log (spdlog's logger does not guard its sink list).
std::shared_ptr<spdlog::sinks::dist_sink_mt> AttachJobLogs();

// Runs jobs until `stop`. Errors: only the queue's (its folder cannot be read or written).
Status ServeJobs(JobQueue& queue, const CoordinatorFactory& make, const std::atomic<bool>& stop,
                 const JobServerOptions& options = {});

// Runs one job to its end and records the outcome (ServeJobs' step). A job aborted while it was
// queued is left as it is.
Status RunJob(JobQueue& queue, const JobInfo& job, const CoordinatorFactory& make,
              const std::atomic<bool>& stop, const JobServerOptions& options = {});

}  // namespace fedsmear
