// JobQueue: the runs a long-lived coordinator takes, as a spool folder (fedsmear-coordinator
// --jobs DIR; `fedsmear job submit|list|status|logs|abort`).
//
// Layout, one folder per job, named by a sequence number (job-0001, job-0002, ..., job-10000):
//   DIR/job-NNNN/config.yaml   the submitted coordinator config, as submitted
//   DIR/job-NNNN/job.json      id, name, who submitted it and when, state, message, times
//   DIR/job-NNNN/run/          the job's run folder (metrics.jsonl, plan.json, audit, report)
//   DIR/job-NNNN/job.log       the coordinator's log lines while the job ran
//   DIR/job-NNNN/abort         present: abort requested (the serving coordinator stops the run)
// States: queued -> running -> completed | failed | aborted; a queued job may be aborted before
// it starts. Jobs run one at a time, oldest first. job.json is rewritten atomically; a job whose
// job.json cannot be read is reported, never run.
//
// The admin channel is the folder itself: the service creates it 02770 (setgid) for its account
// and the admin group, so submitting, aborting and reading jobs takes membership of that group
// on the coordinator's machine (over ssh from elsewhere), and each job records the account that
// submitted it. Every job folder (02770) and file (0660) belongs to that group whoever wrote
// it, whatever the writer's umask, so the service can run a job root or an operator submitted. Thread-safety: every call reads or writes files; concurrent writers of one job
// are the serving coordinator (state) and an admin (abort file), which touch different files.
// Ownership: values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

enum class JobState { kQueued, kRunning, kCompleted, kFailed, kAborted };
const char* JobStateName(JobState s);

struct JobInfo {
  std::string id;            // job-0001
  std::string name;          // free text from submit (default: the config's file name)
  std::string submitted_by;  // the submitting account
  int64_t submitted_unix = 0;
  int64_t started_unix = 0;
  int64_t ended_unix = 0;
  JobState state = JobState::kQueued;
  std::string message;       // why it failed or was aborted; "" otherwise
  std::string dir;           // DIR/job-NNNN
  std::string config_path() const { return dir + "/config.yaml"; }
  std::string run_dir() const { return dir + "/run"; }
  std::string log_path() const { return dir + "/job.log"; }
};

class JobQueue {
 public:
  // Opens (creating, mode 02770) the spool folder.
  static Result<JobQueue> Open(const std::string& dir);
  // Opens an existing spool folder as it is, neither creating it nor changing its mode (a
  // reader's view: `fedsmear doctor`). kNotFound when it is not a folder.
  static Result<JobQueue> OpenExisting(const std::string& dir);

  // Queues a copy of the config at `config_path` under a new id. The caller checks the config
  // first (the serving coordinator checks it again before running it).
  Result<JobInfo> Submit(const std::string& config_path, const std::string& name);
  // The same with the config's YAML text (`name` is required).
  Result<JobInfo> SubmitText(const std::string& yaml, const std::string& name);
  // Every job, oldest first.
  Result<std::vector<JobInfo>> List() const;
  Result<JobInfo> Get(const std::string& id) const;
  // The oldest queued job, if any (kNotFound when none is queued).
  Result<JobInfo> NextQueued() const;
  // Records a state change (times are set as the state says).
  Status Set(const std::string& id, JobState state, const std::string& message = "");
  // Aborts a queued job at once; asks the serving coordinator to stop a running one.
  // kFailedPrecondition for a job that has ended.
  Status Abort(const std::string& id);
  bool AbortRequested(const std::string& id) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit JobQueue(std::string dir) : dir_(std::move(dir)) {}
  Status Write(const JobInfo& info) const;

  std::string dir_;
};

}  // namespace fedsmear
