#include "tools/job_commands.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/file_util.h"
#include "coordinator/jobs/job_queue.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

struct JobArgs {
  std::string dir = "/var/lib/fedsmear/jobs";
  std::string config, name, id;
};

std::string When(int64_t unix_s) {
  if (unix_s == 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// The service makes the folder (2770, its account and the admin group); an admin's command
// only reads and writes inside it, so a typo in --jobs never leaves a stray folder behind and the
// folder's mode stays the operator's.
Result<JobQueue> OpenQueue(const std::string& dir) {
  Result<JobQueue> queue = JobQueue::OpenExisting(dir);
  if (queue.status().code() == StatusCode::kNotFound) {
    return NotFound("no jobs folder " + dir + ": it is the --jobs folder of a running "
                    "fedsmear-coordinator (the fedsmear-coordinator-jobs service makes it)");
  }
  return queue;
}

int Fail(const char* what, const Status& st) {
  std::cerr << "fedsmear job " << what << ": " << st.message() << "\n";
  return st.code() == StatusCode::kNotFound || st.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// Rounds recorded so far and the latest central accuracy, from the job's metrics.jsonl.
std::string Progress(const JobInfo& job) {
  std::ifstream in(job.run_dir() + "/metrics.jsonl");
  int rounds = 0;
  std::string last;
  for (std::string line; std::getline(in, line);) {
    ++rounds;
    last = line;
  }
  if (rounds == 0) return "no round recorded";
  std::string out = std::to_string(rounds) + " round(s) recorded";
  try {
    const nlohmann::json j = nlohmann::json::parse(last);
    if (j.contains("accuracy") && j["accuracy"].is_number()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ", accuracy %.4f after round %d",
                    j["accuracy"].get<double>(), j.value("round", rounds));
      out += buf;
    }
  } catch (const nlohmann::json::exception&) {
  }
  return out;
}

int Submit(const JobArgs& a) {
  Result<CoordinatorConfig> config = LoadCoordinatorConfig(a.config);
  if (config.ok()) {
    if (Status st = CheckRegisteredChoices(*config); !st.ok()) config = st;
  }
  if (!config.ok()) return Fail("submit", config.status());
  // The service runs in another folder: paths are made absolute against the submitter's.
  auto absolute = [](std::string* path) {
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  };
  for (std::string* p : {&config->secret_key_file, &config->allowed_sites_file,
                         &config->model.initial_model, &config->audit_log,
                         &config->signing_key_file, &config->status.token_file}) {
    absolute(p);
  }
  for (HoldoutSet& h : config->holdout) absolute(&h.path);
  Result<JobQueue> opened = OpenQueue(a.dir);
  if (!opened.ok()) return Fail("submit", opened.status());
  JobQueue& queue = *opened;
  const std::string name =
      a.name.empty() ? std::filesystem::path(a.config).filename().string() : a.name;
  Result<JobInfo> job = queue.SubmitText(ToYaml(*config), name);
  if (!job.ok()) return Fail("submit", job.status());
  std::cout << job->id << " queued (" << job->name << ", " << config->rounds << " rounds)\n";
  return 0;
}

int List(const JobArgs& a) {
  Result<JobQueue> opened = OpenQueue(a.dir);
  if (!opened.ok()) return Fail("list", opened.status());
  JobQueue& queue = *opened;
  Result<std::vector<JobInfo>> jobs = queue.List();
  if (!jobs.ok()) return Fail("list", jobs.status());
  if (jobs->empty()) std::cout << "no jobs in " << a.dir << "\n";
  for (const JobInfo& j : *jobs) {
    std::cout << j.id << "  " << JobStateName(j.state) << "  " << j.name << "  submitted "
              << When(j.submitted_unix) << " by " << j.submitted_by;
    if (j.state != JobState::kQueued) std::cout << "  " << Progress(j);
    if (!j.message.empty()) std::cout << "  (" << j.message << ")";
    std::cout << "\n";
  }
  return 0;
}

int Show(const JobArgs& a) {
  Result<JobQueue> opened = OpenQueue(a.dir);
  if (!opened.ok()) return Fail("status", opened.status());
  JobQueue& queue = *opened;
  Result<JobInfo> j = queue.Get(a.id);
  if (!j.ok()) return Fail("status", j.status());
  std::cout << j->id << ": " << JobStateName(j->state) << "\n  name: " << j->name
            << "\n  submitted: " << When(j->submitted_unix) << " by " << j->submitted_by
            << "\n  started: " << When(j->started_unix) << "\n  ended: " << When(j->ended_unix)
            << "\n  progress: " << Progress(*j) << "\n  run folder: " << j->run_dir() << "\n";
  if (!j->message.empty()) std::cout << "  why: " << j->message << "\n";
  if (queue.AbortRequested(j->id) && j->state == JobState::kRunning) {
    std::cout << "  abort requested\n";
  }
  return 0;
}

int Logs(const JobArgs& a) {
  Result<JobQueue> opened = OpenQueue(a.dir);
  if (!opened.ok()) return Fail("logs", opened.status());
  JobQueue& queue = *opened;
  Result<JobInfo> j = queue.Get(a.id);
  if (!j.ok()) return Fail("logs", j.status());
  Result<std::string> text = ReadFile(j->log_path());
  if (!text.ok()) {
    std::cout << "(" << j->id << " has no log yet: " << JobStateName(j->state) << ")\n";
    return 0;
  }
  std::cout << *text;
  return 0;
}

int AbortJob(const JobArgs& a) {
  Result<JobQueue> opened = OpenQueue(a.dir);
  if (!opened.ok()) return Fail("abort", opened.status());
  JobQueue& queue = *opened;
  if (Status st = queue.Abort(a.id); !st.ok()) return Fail("abort", st);
  Result<JobInfo> j = queue.Get(a.id);
  std::cout << a.id << ": "
            << (j.ok() && j->state == JobState::kAborted ? "aborted"
                                                         : "abort requested; the run stops at "
                                                           "its next step")
            << "\n";
  return 0;
}

}  // namespace

Command AddJobCommand(CLI::App& root) {
  CLI::App* job = root.add_subcommand("job", "jobs of a long-lived coordinator "
                                             "(fedsmear-coordinator --jobs DIR)");
  job->require_subcommand(1);
  auto args = std::make_shared<JobArgs>();
  auto dir = [&](CLI::App* c) {
    c->add_option("--jobs", args->dir, "the coordinator's jobs folder")->capture_default_str();
  };
  CLI::App* submit = job->add_subcommand("submit", "check a coordinator config and queue it");
  submit->add_option("CONFIG", args->config, "coordinator YAML")->required()
      ->check(CLI::ExistingFile);
  submit->add_option("--name", args->name, "a name for the job (default: the file's)");
  dir(submit);
  CLI::App* list = job->add_subcommand("list", "every job with its state and outcome");
  dir(list);
  CLI::App* status = job->add_subcommand("status", "one job: state, times, progress, outcome");
  CLI::App* logs = job->add_subcommand("logs", "the coordinator's log lines of one job");
  CLI::App* abort = job->add_subcommand("abort", "stop a running job or drop a queued one");
  for (CLI::App* c : {status, logs, abort}) {
    c->add_option("ID", args->id, "job id (job-NNNN)")->required();
    dir(c);
  }
  return {job, [=] {
            if (submit->parsed()) return Submit(*args);
            if (list->parsed()) return List(*args);
            if (status->parsed()) return Show(*args);
            if (logs->parsed()) return Logs(*args);
            return AbortJob(*args);
          }};
}

}  // namespace fedsmear
