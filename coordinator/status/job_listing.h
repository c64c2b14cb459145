// What the status endpoint of a long-lived coordinator (fedsmear-coordinator --jobs) knows about
// its jobs, as plain values behind a small interface, so that fedsmear_status does not depend on
// the job spool (coordinator/jobs/queue_listing.h implements it over the JobQueue, whose folder
// is the source of truth: a restarted service lists the jobs of earlier processes too).
//
// Every string in a JobSummary may come from an operator (name, abort message) or a site (a
// failure reason quoted in the message): the page shows them as text only. Ids are checked with
// IsJobId before any of them is used to find a file.
// Thread-safety: implementations are called from the HTTP server's threads concurrently.
// Ownership: values; the service borrows the listing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/status/status_model.h"

namespace fedsmear {

struct JobSummary {
  std::string id;            // job-0001
  std::string name;          // free text from submit
  std::string submitted_by;  // the submitting account
  std::string state;         // queued | running | completed | failed | aborted
  std::string message;       // why it failed or was aborted; "" otherwise
  int64_t submitted_unix = 0, started_unix = 0, ended_unix = 0;  // 0: not yet
  std::string run_dir;       // the job's run folder (metrics.jsonl), read for the job's page
};

// One job with what its page needs beyond the summary.
struct JobRecord {
  JobSummary summary;
  // The run's settings from the job's config (strategy, codecs, rounds planned, ...); left at
  // their defaults when the config cannot be read.
  StatusRunInfo run;
};

class JobListing {
 public:
  virtual ~JobListing() = default;
  // Every job, oldest first. Errors: the spool cannot be read.
  virtual Result<std::vector<JobSummary>> Jobs() const = 0;
  // One job. kNotFound for an id that is no job; callers pass only ids that pass IsJobId.
  virtual Result<JobRecord> Job(const std::string& id) const = 0;
};

// "job-" and 1 to 9 digits: the only ids the endpoint looks up (never a path).
bool IsJobId(const std::string& id);

}  // namespace fedsmear
