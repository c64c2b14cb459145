// A JobListing over values, for the jobs part of the status endpoint without a spool folder.
// Records every id it was asked for, so tests can check what reached it.
// Thread-safety: one mutex (the HTTP server's threads read while the test may add jobs).
// Ownership: values.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "coordinator/status/job_listing.h"

namespace fedsmear::testing {

class FakeJobListing : public JobListing {
 public:
  void Add(JobSummary job, StatusRunInfo run = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back({std::move(job), std::move(run)});
  }
  // Changes a listed job's state (and message, times).
  void Update(const JobSummary& job) {
    std::lock_guard<std::mutex> lock(mu_);
    for (JobRecord& r : jobs_) {
      if (r.summary.id == job.id) r.summary = job;
    }
  }
  Result<std::vector<JobSummary>> Jobs() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<JobSummary> out;
    for (const JobRecord& r : jobs_) out.push_back(r.summary);
    return out;
  }
  Result<JobRecord> Job(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.push_back(id);
    for (const JobRecord& r : jobs_) {
      if (r.summary.id == id) return r;
    }
    return NotFound("no job " + id);
  }
  std::vector<std::string> asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<JobRecord> jobs_;
  mutable std::vector<std::string> asked_;
};

// A job summary with the given id, state and run folder.
inline JobSummary MakeJob(const std::string& id, const std::string& state,
                          const std::string& run_dir = "", const std::string& message = "") {
  JobSummary j;
  j.id = id;
  j.name = id + " name";
  j.submitted_by = "operator";
  j.state = state;
  j.message = message;
  j.submitted_unix = 1700000000;
  if (state != "queued") j.started_unix = 1700000100;
  if (state != "queued" && state != "running") j.ended_unix = 1700000200;
  j.run_dir = run_dir;
  return j;
}

}  // namespace fedsmear::testing
