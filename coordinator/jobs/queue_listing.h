// QueueJobListing: the status endpoint's view of a JobQueue (coordinator/status/job_listing.h),
// for the page, /api/jobs and each job's page of a long-lived coordinator. It reads the spool
// folder at every call, so the listing is what the folder says (jobs of earlier processes
// included), and a job's run settings come from the config it was submitted with.
// Thread-safety: const reads of files; safe from the HTTP server's threads while the job server
// writes (job.json is replaced atomically). Ownership: borrows the queue, which must outlive it.
#pragma once

#include <string>
#include <vector>

#include "coordinator/jobs/job_queue.h"
#include "coordinator/status/job_listing.h"

namespace fedsmear {

JobSummary ToJobSummary(const JobInfo& job);

class QueueJobListing : public JobListing {
 public:
  explicit QueueJobListing(const JobQueue& queue) : queue_(queue) {}
  Result<std::vector<JobSummary>> Jobs() const override;
  // kNotFound for an id that is not a job id or names no job.
  Result<JobRecord> Job(const std::string& id) const override;

 private:
  const JobQueue& queue_;
};

}  // namespace fedsmear
