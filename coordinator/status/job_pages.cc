#include "coordinator/status/job_pages.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/file_util.h"

namespace fedsmear {
namespace {

constexpr const char* kJobStates[] = {"queued", "running", "completed", "failed", "aborted"};
constexpr uint64_t kMaxMetricsBytes = 64ull << 20;  // a page never reads more of a run's file

nlohmann::json TimeOrNull(int64_t unix_s) {
  return unix_s > 0 ? nlohmann::json(unix_s) : nlohmann::json(nullptr);
}

// The stage a reloaded (not live) job's page shows, from the job's recorded state.
void SetEndState(StatusModel& m, const JobSummary& job) {
  if (job.state == "completed") return m.RunEnded(Status::Ok());
  if (job.state == "aborted") return m.RunEnded(Aborted(job.message));
  if (job.state == "failed") return m.RunEnded(Internal(job.message));
  m.SetStage(0, job.state, job.message);  // queued, or running in another (earlier) process
}

const nlohmann::json* ArrayAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? &*it : nullptr;
}

// What each site did over the recorded rounds (selected, aggregated, failed and the last reason).
nlohmann::json SiteRounds(const nlohmann::json& rounds) {
  struct Counts {
    int selected = 0, reported = 0, failed = 0;
    std::string last_failure;
  };
  std::map<std::string, Counts> sites;
  for (const auto& r : rounds) {
    for (const bool selected : {true, false}) {
      const nlohmann::json* ids = ArrayAt(r, selected ? "sites_selected" : "sites_reported");
      if (!ids) continue;
      for (const auto& id : *ids) {
        if (!id.is_string()) continue;
        Counts& c = sites[id.get<std::string>()];
        ++(selected ? c.selected : c.reported);
      }
    }
    if (auto f = r.find("sites_failed"); f != r.end() && f->is_object()) {
      for (const auto& [id, reason] : f->items()) {
        Counts& c = sites[id];
        ++c.failed;
        c.last_failure = reason.is_string() ? reason.get<std::string>() : reason.dump();
      }
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, c] : sites) {
    out.push_back({{"site", id},
                   {"rounds_selected", c.selected},
                   {"rounds_reported", c.reported},
                   {"rounds_failed", c.failed},
                   {"last_failure", c.last_failure}});
  }
  return out;
}

// The failures the rounds recorded, as the page's events (a reloaded run has no live events).
nlohmann::json RecordedEvents(const nlohmann::json& rounds) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& r : rounds) {
    auto f = r.find("sites_failed");
    if (f == r.end() || !f->is_object()) continue;
    for (const auto& [id, reason] : f->items()) {
      const std::string why = reason.is_string() ? reason.get<std::string>() : reason.dump();
      events.push_back({{"time", nullptr},
                        {"round", r.value("round", 0)},
                        {"site", id},
                        {"kind", "not aggregated"},
                        {"reason", why}});
    }
  }
  return events;
}

}  // namespace

nlohmann::json JobSummaryJson(const JobSummary& job) {
  return {{"id", job.id},
          {"page", IsJobId(job.id) ? nlohmann::json("/jobs/" + job.id) : nlohmann::json(nullptr)},
          {"name", job.name},
          {"submitted_by", job.submitted_by},
          {"state", job.state},
          {"message", job.message},
          {"submitted", TimeOrNull(job.submitted_unix)},
          {"started", TimeOrNull(job.started_unix)},
          {"ended", TimeOrNull(job.ended_unix)}};
}

nlohmann::json JobsJson(const std::vector<JobSummary>& oldest_first, const std::string& live_job) {
  nlohmann::json counts = nlohmann::json::object();
  for (const char* state : kJobStates) counts[state] = 0;
  for (const JobSummary& j : oldest_first) {
    if (counts.contains(j.state)) counts[j.state] = counts[j.state].get<int>() + 1;
  }
  nlohmann::json jobs = nlohmann::json::array();
  for (auto it = oldest_first.rbegin(); it != oldest_first.rend() && jobs.size() < kJobsListed;
       ++it) {
    jobs.push_back(JobSummaryJson(*it));
  }
  return {{"jobs", jobs},
          {"total", oldest_first.size()},
          {"listed", jobs.size()},
          {"counts", counts},
          {"live_job", live_job}};
}

Result<nlohmann::json> JobDetailJson(const JobRecord& job, const StatusSlot::Live& live) {
  nlohmann::json run, rounds;
  const bool is_live = live.model && live.job_id == job.summary.id;
  if (is_live) {
    run = live.model->RunJson();
    rounds = live.model->RoundsJson();
  } else {
    StatusModel m(job.run);
    Result<std::string> history = ReadFile(job.summary.run_dir + "/metrics.jsonl",
                                           kMaxMetricsBytes);
    if (history.ok()) {
      m.LoadHistory(*history);
    } else if (history.status().code() != StatusCode::kNotFound) {
      return history.status().WithContext("job " + job.summary.id);
    }
    SetEndState(m, job.summary);
    run = m.RunJson();
    rounds = m.RoundsJson();
    run["events"] = RecordedEvents(rounds["rounds"]);
  }
  run["job"] = job.summary.id;
  return nlohmann::json{{"job", JobSummaryJson(job.summary)},
                        {"live", is_live},
                        {"run", run},
                        {"rounds", rounds},
                        {"sites", SiteRounds(rounds["rounds"])}};
}

std::string JobsPrometheusText(const std::vector<JobSummary>& jobs) {
  std::map<std::string, int> counts;
  for (const char* state : kJobStates) counts[state] = 0;
  for (const JobSummary& j : jobs) {
    if (counts.count(j.state)) ++counts[j.state];
  }
  std::ostringstream out;
  out << "# HELP fedsmear_jobs Jobs in the coordinator's jobs folder, by state\n"
      << "# TYPE fedsmear_jobs gauge\n";
  for (const char* state : kJobStates) {
    out << "fedsmear_jobs{state=\"" << state << "\"} " << counts[state] << "\n";
  }
  return out.str();
}

bool IsJobId(const std::string& id) {
  if (id.size() < 5 || id.size() > 13 || id.compare(0, 4, "job-") != 0) return false;
  return std::all_of(id.begin() + 4, id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace fedsmear
