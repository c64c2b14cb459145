// `fedsmear doctor --jobs DIR`: the long-lived coordinator (fedsmear-coordinator --jobs DIR,
// packaging/systemd/fedsmear-coordinator-jobs.service) as its service would run it.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "coordinator/jobs/job_queue.h"
#include "tools/doctor.h"
#include "tools/doctor_checks.h"

namespace fedsmear {
namespace {

using Finding = DoctorFinding;

// The spool folder is the admin channel: whoever can write in it runs jobs, whoever can read
// it reads every job's results.
void CheckJobsFolder(const std::string& dir, std::vector<Finding>* out) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    out->push_back({Finding::kFail, "the jobs folder " + dir + " does not exist",
                    "the coordinator package makes /var/lib/fedsmear/jobs; elsewhere run: "
                    "install -d -o fedsmear -g fedsmear -m 2770 " + dir});
    return;
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    out->push_back({Finding::kFail,
                    "the jobs folder " + dir + " is open to every user of this machine: anyone "
                    "could queue a run or read the jobs' results",
                    "run: chmod 2770 " + dir + "  (operators join the folder's group)"});
    return;
  }
  if ((st.st_mode & S_ISGID) == 0) {
    out->push_back({Finding::kWarn,
                    "the jobs folder " + dir + " does not pass its group on (no setgid bit): "
                    "a job an operator submits may belong to the operator's own group",
                    "run: chmod 2770 " + dir});
    return;
  }
  out->push_back({Finding::kOk, "the jobs folder " + dir + " is open to its owner and group only",
                  ""});
}

void CheckStatusEndpoint(const JobServiceSettings& s, std::vector<Finding>* out) {
  if (s.status_bind.empty()) {
    out->push_back({Finding::kInfo, "no status endpoint (--status-bind): no page, job list or "
                                    "/metrics while the service runs", ""});
    return;
  }
  CheckHttpEndpoint({true, s.status_bind, s.status_token_file},
                    "the jobs' status page and /metrics", out);
  if (s.status_token_file.empty()) return;
  struct stat st {};
  if (::stat(s.status_token_file.c_str(), &st) != 0) {
    out->push_back({Finding::kFail, "status token " + s.status_token_file + " does not exist",
                    "run: head -c 32 /dev/urandom | base64 > " + s.status_token_file +
                        " && chmod 600 " + s.status_token_file});
    return;
  }
  CheckSecretFile(s.status_token_file, "status token", out);
}

// Each queued job is checked as `fedsmear doctor --config` checks a coordinator's config, its
// findings prefixed with the job's id; jobs that ran or are running are counted only.
void CheckQueuedJobs(const std::string& dir, const DoctorOptions& o, std::vector<Finding>* out) {
  Result<JobQueue> queue = JobQueue::OpenExisting(dir);
  if (!queue.ok()) return;  // CheckJobsFolder said why
  Result<std::vector<JobInfo>> jobs = queue->List();
  if (!jobs.ok()) {
    out->push_back({Finding::kFail, "the jobs cannot be listed: " + jobs.status().message(), ""});
    return;
  }
  int queued = 0;
  for (const JobInfo& job : *jobs) {
    if (job.state != JobState::kQueued) continue;
    ++queued;
    for (DoctorFinding f : CheckCoordinator(job.config_path(), o)) {
      f.what = job.id + " (" + job.name + "): " + f.what;
      out->push_back(std::move(f));
    }
  }
  out->push_back({Finding::kInfo,
                  std::to_string(jobs->size()) + " job(s) in " + dir + ", " +
                      std::to_string(queued) + " queued",
                  queued == 0 ? "queue one with `fedsmear job submit CONFIG --jobs " + dir + "`"
                              : ""});
}

}  // namespace

std::vector<DoctorFinding> CheckJobService(const JobServiceSettings& s, const DoctorOptions& o) {
  std::vector<Finding> out;
  CheckJobsFolder(s.jobs_dir, &out);
  CheckStatusEndpoint(s, &out);
  CheckOpensAs(o.service_user,
               {{s.jobs_dir, "jobs folder", false, /*folder=*/true},
                {s.status_token_file, "status token", true}},
               &out);
  CheckQueuedJobs(s.jobs_dir, o, &out);
  return out;
}

}  // namespace fedsmear
