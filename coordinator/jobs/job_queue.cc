#include "coordinator/jobs/job_queue.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::pair<JobState, const char*> kStates[] = {{JobState::kQueued, "queued"},
                                                        {JobState::kRunning, "running"},
                                                        {JobState::kCompleted, "completed"},
                                                        {JobState::kFailed, "failed"},
                                                        {JobState::kAborted, "aborted"}};

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A job's folder and files belong to the jobs folder's group whoever made them (the service, or
// an operator with another primary group, root included), and that group may read and write
// them: the setgid bit passes the group on, and explicit modes override the writer's umask.
constexpr mode_t kSharedFolderMode = 02770;
constexpr mode_t kSharedFileMode = 0660;

// The file appears with its final mode (a reader never meets it private). The umask is the
// process's: the service's unit already sets 0007, and the job commands are single-threaded.
Status WriteShared(const std::string& path, const std::string& text) {
  const mode_t old = ::umask(007);
  Status written = WriteFileAtomic(path, text, kSharedFileMode);
  ::umask(old);
  return written;
}

std::string Account() {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
    return pw.pw_name;
  }
  return "uid " + std::to_string(::getuid());
}

Result<JobInfo> Parse(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/job.json"));
  try {
    const json j = json::parse(text);
    JobInfo info;
    info.id = j.at("id").get<std::string>();
    info.name = j.at("name").get<std::string>();
    info.submitted_by = j.at("submitted_by").get<std::string>();
    info.submitted_unix = j.at("submitted_unix").get<int64_t>();
    info.started_unix = j.value("started_unix", int64_t{0});
    info.ended_unix = j.value("ended_unix", int64_t{0});
    info.message = j.value("message", std::string());
    const std::string state = j.at("state").get<std::string>();
    bool known = false;
    for (const auto& [value, name] : kStates) {
      if (state == name) info.state = value, known = true;
    }
    if (!known) return Corrupt(dir + "/job.json: unknown state '" + state + "'");
    info.dir = dir;
    return info;
  } catch (const json::exception& e) {
    return Corrupt(dir + "/job.json: " + e.what());
  }
}

}  // namespace

const char* JobStateName(JobState s) {
  for (const auto& [value, name] : kStates) {
    if (value == s) return name;
  }
  return "?";
}

Result<JobQueue> JobQueue::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create the jobs folder " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), kSharedFolderMode);
  return JobQueue(fs::absolute(dir).lexically_normal().string());
}

Result<JobQueue> JobQueue::OpenExisting(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("no jobs folder " + dir);
  return JobQueue(fs::absolute(dir).lexically_normal().string());
}

Status JobQueue::Write(const JobInfo& info) const {
  json j = {{"id", info.id},
            {"name", info.name},
            {"submitted_by", info.submitted_by},
            {"submitted_unix", info.submitted_unix},
            {"started_unix", info.started_unix},
            {"ended_unix", info.ended_unix},
            {"state", JobStateName(info.state)},
            {"message", info.message}};
  return WriteShared(info.dir + "/job.json", j.dump(2) + "\n");
}

Result<JobInfo> JobQueue::Submit(const std::string& config_path, const std::string& name) {
  ASSIGN_OR_RETURN(std::string config, ReadFile(config_path));
  return SubmitText(config, name.empty() ? fs::path(config_path).filename().string() : name);
}

Result<JobInfo> JobQueue::SubmitText(const std::string& config, const std::string& name) {
  // The next free number; mkdir is the lock between two admins submitting at once.
  for (int n = 1; n < 1000000; ++n) {
    char id[32];
    std::snprintf(id, sizeof id, "job-%04d", n);
    const std::string dir = dir_ + "/" + id;
    if (::mkdir(dir.c_str(), 0770) != 0) {
      if (errno == EEXIST) continue;
      return IoError("cannot create " + dir + ": " + std::strerror(errno));
    }
    struct stat spool {};
    if (::stat(dir_.c_str(), &spool) != 0 ||
        ::chown(dir.c_str(), static_cast<uid_t>(-1), spool.st_gid) != 0 ||
        ::chmod(dir.c_str(), kSharedFolderMode) != 0) {
      const Status st = IoError("cannot give " + dir + " to the jobs folder's group: " +
                                std::strerror(errno));
      ::rmdir(dir.c_str());
      return st;
    }
    JobInfo info;
    info.id = id;
    info.name = name;
    info.submitted_by = Account();
    info.submitted_unix = NowUnix();
    info.dir = dir;
    RETURN_IF_ERROR(WriteShared(info.config_path(), config));
    RETURN_IF_ERROR(Write(info));
    return info;
  }
  return ResourceExhausted("no free job number in " + dir_);
}

Result<std::vector<JobInfo>> JobQueue::List() const {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("job-", 0) == 0) dirs.push_back(e.path().string());
  }
  if (ec) return IoError("cannot list " + dir_ + ": " + ec.message());
  // By number: job-10000 comes after job-9999.
  auto number = [](const std::string& dir) {
    const std::string name = fs::path(dir).filename().string();
    return std::strtoll(name.c_str() + 4, nullptr, 10);
  };
  std::sort(dirs.begin(), dirs.end(),
            [&](const std::string& a, const std::string& b) { return number(a) < number(b); });
  std::vector<JobInfo> out;
  for (const std::string& d : dirs) {
    Result<JobInfo> info = Parse(d);
    if (!info.ok()) {
      if (!fs::exists(d + "/job.json")) continue;  // a submit in progress
      return info.status();
    }
    out.push_back(std::move(*info));
  }
  return out;
}

Result<JobInfo> JobQueue::Get(const std::string& id) const {
  if (id.rfind("job-", 0) != 0 || id.find('/') != std::string::npos) {
    return InvalidArgument("'" + id + "' is not a job id (job-NNNN)");
  }
  if (!fs::exists(dir_ + "/" + id + "/job.json")) return NotFound("no job " + id);
  return Parse(dir_ + "/" + id);
}

Result<JobInfo> JobQueue::NextQueued() const {
  ASSIGN_OR_RETURN(std::vector<JobInfo> jobs, List());
  for (JobInfo& j : jobs) {
    if (j.state == JobState::kQueued) return std::move(j);
  }
  return NotFound("no queued job");
}

Status JobQueue::Set(const std::string& id, JobState state, const std::string& message) {
  ASSIGN_OR_RETURN(JobInfo info, Get(id));
  info.state = state;
  info.message = message;
  if (state == JobState::kRunning) info.started_unix = NowUnix();
  if (state != JobState::kQueued && state != JobState::kRunning) info.ended_unix = NowUnix();
  return Write(info);
}

Status JobQueue::Abort(const std::string& id) {
  ASSIGN_OR_RETURN(JobInfo info, Get(id));
  switch (info.state) {
    case JobState::kQueued:
      return Set(id, JobState::kAborted, "aborted by " + Account() + " before it started");
    case JobState::kRunning:
      return WriteShared(info.dir + "/abort", Account() + "\n");
    default:
      return FailedPrecondition(id + " has already ended (" + JobStateName(info.state) + ")");
  }
}

bool JobQueue::AbortRequested(const std::string& id) const {
  return fs::exists(dir_ + "/" + id + "/abort");
}

}  // namespace fedsmear
