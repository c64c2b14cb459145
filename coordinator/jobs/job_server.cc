#include "coordinator/jobs/job_server.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

// Adds job.log to the job-log fan-out (thread-safe) for the lifetime of this object.
class JobLogSink {
 public:
  JobLogSink(std::shared_ptr<spdlog::sinks::dist_sink_mt> logs, const std::string& path)
      : logs_(std::move(logs)) {
    if (!logs_) return;
    try {
      sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
      logs_->add_sink(sink_);
    } catch (const spdlog::spdlog_ex& e) {
      spdlog::warn("cannot write the job's log {}: {}", path, e.what());
    }
  }
  ~JobLogSink() {
    if (logs_ && sink_) logs_->remove_sink(sink_);
  }
  JobLogSink(const JobLogSink&) = delete;
  JobLogSink& operator=(const JobLogSink&) = delete;

 private:
  std::shared_ptr<spdlog::sinks::dist_sink_mt> logs_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

// Sets `job_stop` when the service stops or the job's abort file appears, until destroyed.
class AbortWatch {
 public:
  AbortWatch(const JobQueue& queue, std::string id, const std::atomic<bool>& stop,
             std::atomic<bool>& job_stop)
      : thread_([&queue, id = std::move(id), &stop, &job_stop, this] {
          while (!done_.load()) {
            if (stop.load() || queue.AbortRequested(id)) {
              job_stop.store(true);
              return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
        }) {}
  ~AbortWatch() {
    done_.store(true);
    thread_.join();
  }
  AbortWatch(const AbortWatch&) = delete;
  AbortWatch& operator=(const AbortWatch&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

std::shared_ptr<spdlog::sinks::dist_sink_mt> AttachJobLogs() {
  auto logs = std::make_shared<spdlog::sinks::dist_sink_mt>();
  spdlog::default_logger()->sinks().push_back(logs);
  return logs;
}

Status RunJob(JobQueue& queue, const JobInfo& job, const CoordinatorFactory& make,
              const std::atomic<bool>& stop, const JobServerOptions& options) {
  // An abort of the queued job may have come after the service picked it.
  ASSIGN_OR_RETURN(JobInfo now, queue.Get(job.id));
  if (now.state != JobState::kQueued) return Status::Ok();
  JobLogSink log(options.job_logs, job.log_path());
  Result<CoordinatorConfig> config = LoadCoordinatorConfig(job.config_path());
  if (config.ok()) {
    if (Status st = CheckRegisteredChoices(*config); !st.ok()) config = st;
  }
  if (!config.ok()) {
    spdlog::error("job {}: {}", job.id, config.status().message());
    return queue.Set(job.id, JobState::kFailed, config.status().message());
  }
  config->run_dir = job.run_dir();
  if (options.live && config->status.enabled) {
    spdlog::info("job {}: its status section is not used; the service's status endpoint shows the "
                 "job", job.id);
    config->status.enabled = false;
  }
  RETURN_IF_ERROR(queue.Set(job.id, JobState::kRunning));
  spdlog::info("job {} ({}, submitted by {}) starts: {} rounds, run folder {}", job.id, job.name,
               job.submitted_by, config->rounds, config->run_dir);
  Status outcome;
  std::atomic<bool> job_stop{false};
  {
    Result<std::unique_ptr<Coordinator>> coordinator = make(*config);
    if (!coordinator.ok()) {
      outcome = coordinator.status();
    } else {
      if (options.live) options.live->Publish(job.id, (*coordinator)->status_model());
      AbortWatch watch(queue, job.id, stop, job_stop);
      outcome = (*coordinator)->Run(job_stop);
    }
  }
  if (outcome.ok()) {
    spdlog::info("job {} completed", job.id);
    return queue.Set(job.id, JobState::kCompleted);
  }
  if (queue.AbortRequested(job.id)) {
    spdlog::warn("job {} aborted: {}", job.id, outcome.message());
    return queue.Set(job.id, JobState::kAborted, "aborted: " + outcome.message());
  }
  if (stop.load()) {
    return queue.Set(job.id, JobState::kFailed, "the coordinator service stopped during the job");
  }
  spdlog::error("job {} failed: {}", job.id, outcome.message());
  return queue.Set(job.id, JobState::kFailed, outcome.message());
}

Status ServeJobs(JobQueue& queue, const CoordinatorFactory& make, const std::atomic<bool>& stop,
                 const JobServerOptions& options) {
  spdlog::info("serving jobs from {}", queue.dir());
  bool idle_said = false;
  while (!stop.load()) {
    Result<JobInfo> next = queue.NextQueued();
    if (next.ok()) {
      idle_said = false;
      RETURN_IF_ERROR(RunJob(queue, *next, make, stop, options));
      continue;
    }
    if (next.status().code() != StatusCode::kNotFound) return next.status();
    if (!idle_said) {
      spdlog::info("no queued job; waiting (fedsmear job submit CONFIG --jobs {})", queue.dir());
      idle_said = true;
    }
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(options.poll_s));
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
