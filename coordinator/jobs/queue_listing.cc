#include "coordinator/jobs/queue_listing.h"

#include "common/config.h"

namespace fedsmear {

JobSummary ToJobSummary(const JobInfo& job) {
  JobSummary s;
  s.id = job.id;
  s.name = job.name;
  s.submitted_by = job.submitted_by;
  s.state = JobStateName(job.state);
  s.message = job.message;
  s.submitted_unix = job.submitted_unix;
  s.started_unix = job.started_unix;
  s.ended_unix = job.ended_unix;
  s.run_dir = job.run_dir();
  return s;
}

Result<std::vector<JobSummary>> QueueJobListing::Jobs() const {
  ASSIGN_OR_RETURN(std::vector<JobInfo> jobs, queue_.List());
  std::vector<JobSummary> out;
  out.reserve(jobs.size());
  for (const JobInfo& j : jobs) out.push_back(ToJobSummary(j));
  return out;
}

Result<JobRecord> QueueJobListing::Job(const std::string& id) const {
  if (!IsJobId(id)) return NotFound("'" + id + "' is not a job id (job-NNNN)");
  ASSIGN_OR_RETURN(JobInfo info, queue_.Get(id));
  JobRecord record;
  record.summary = ToJobSummary(info);
  // The settings the job was submitted with; a config that cannot be read (the job failed for
  // it) leaves them unknown.
  Result<CoordinatorConfig> config = LoadCoordinatorConfig(info.config_path());
  if (config.ok()) {
    StatusRunInfo& run = record.run;
    run.strategy = config->strategy;
    run.codec_down = config->codec_down;
    run.codec_up = config->codec_up;
    run.secure_aggregation = config->secure_aggregation != SecureAggregation::kOff;
    run.rounds_planned = config->rounds;
    run.min_sites = config->min_sites;
    run.heartbeat_s = config->heartbeat_s;
    run.round_deadline_s = config->round_deadline_s;
  }
  return record;
}

}  // namespace fedsmear
