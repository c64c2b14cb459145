// `fedsmear doctor`: checks a site's (or the coordinator's) installation and says what is wrong
// in words a hospital's IT team can act on: the config file, key files and their permissions,
// whether the service account can open the key files, the data folder (images per class, skipped
// files and why), the state folder, the shipped placeholder site id, a coordinator address on
// loopback, a training plan waiting for approval (tools/doctor_checks.h), and for a site
// whether the coordinator answers on the network and accepts the encrypted connection (which
// proves the coordinator's key is the one configured and this site's key is on its allowlist).
// With --jobs, the long-lived coordinator's service (CheckJobService). The network check
// completes a CurveZMQ handshake and sends no message, so running it beside a live site daemon
// disturbs nothing.
//
// Thread-safety: plain functions, one call at a time. Ownership: none kept.
#pragma once

#include <string>
#include <vector>

namespace fedsmear {

struct DoctorFinding {
  enum Level { kOk, kInfo, kWarn, kFail };
  Level level = kOk;
  std::string what;  // what was found, in plain words
  std::string fix;   // what to do about it ("" when nothing)
};

struct DoctorOptions {
  double network_timeout_s = 10;  // TCP connect and handshake, each
  bool check_network = true;
  // The account the daemon runs as; the key files are opened as it (tools/doctor_checks.h).
  // "": not checked.
  std::string service_user = "fedsmear";
  bool allow_loopback = false;  // a site's coordinator on this machine is fine (one-host trials)
};

std::vector<DoctorFinding> CheckSite(const std::string& config_path, const DoctorOptions& options);
std::vector<DoctorFinding> CheckCoordinator(const std::string& config_path,
                                            const DoctorOptions& options);

// The long-lived coordinator as its service runs it (fedsmear-coordinator --jobs DIR
// [--status-bind HOST:PORT --status-token-file FILE]): the jobs folder (the admin channel: not
// open to every user, writable by the service account), the status endpoint and its token, and
// every queued job's config as CheckCoordinator checks one (tools/doctor_jobs.cc).
struct JobServiceSettings {
  std::string jobs_dir;
  std::string status_bind;        // "": no status endpoint
  std::string status_token_file;  // "": none
};
std::vector<DoctorFinding> CheckJobService(const JobServiceSettings& settings,
                                           const DoctorOptions& options);

// The findings as the terminal report, ending with a one-line summary.
std::string FormatFindings(const std::vector<DoctorFinding>& findings);
bool HasFailures(const std::vector<DoctorFinding>& findings);

}  // namespace fedsmear
