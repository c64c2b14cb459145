// The jobs part of a long-lived coordinator's status endpoint (StatusService::StartForJobs),
// as JSON and Prometheus text:
//   JobsJson            /api/jobs: the newest kJobsListed jobs, newest first, with their states,
//                       times and outcomes; the count per state; the live job's id
//   JobDetailJson       /api/jobs/<id>: the job, its run (StatusModel::RunJson's shape) and its
//                       rounds (RoundsJson's shape), plus what each site did over the rounds.
//                       For the job the slot serves (running, or the last one run) the live
//                       model; for any other job its run folder's metrics.jsonl reloaded, so a
//                       finished job's page outlives the job and the process
//   JobsPrometheusText  fedsmear_jobs{state}: how many jobs the spool holds in each state
// Times are Unix seconds, null when not reached. Strings are passed through as data; the page
// shows them as text only.
// Thread-safety: pure functions (JobDetailJson reads one file). Ownership: values.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/status/job_listing.h"
#include "coordinator/status/status_slot.h"

namespace fedsmear {

// How many jobs /api/jobs and the page list (the spool keeps them all; `fedsmear job list`).
inline constexpr size_t kJobsListed = 50;

nlohmann::json JobSummaryJson(const JobSummary& job);
nlohmann::json JobsJson(const std::vector<JobSummary>& oldest_first, const std::string& live_job);

// Errors: the run folder's metrics.jsonl exists but cannot be read (a missing file is a job with
// no round recorded yet).
Result<nlohmann::json> JobDetailJson(const JobRecord& job, const StatusSlot::Live& live);

std::string JobsPrometheusText(const std::vector<JobSummary>& jobs);

}  // namespace fedsmear
