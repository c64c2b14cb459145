#include "tools/doctor_command.h"

#include <yaml-cpp/yaml.h>

#include <iostream>
#include <memory>

#include "tools/doctor.h"

namespace fedsmear {
namespace {

struct DoctorArgs {
  std::string config = "/etc/fedsmear/client.yaml";
  std::string role = "auto";
  bool offline = false;
  double timeout_s = 10;
  std::string service_user = "fedsmear";
  bool allow_loopback = false;
  JobServiceSettings jobs;  // jobs_dir set: the long-lived coordinator's service
};

int RunDoctor(const DoctorArgs& a) {
  std::string role = a.role;
  if (role == "auto") {
    // A site's config names the site; the coordinator's does not.
    role = "site";
    try {
      if (!YAML::LoadFile(a.config)["site_id"]) role = "coordinator";
    } catch (const YAML::Exception&) {
      // unreadable or broken: the site check reports it in plain words
    }
  }
  DoctorOptions o;
  o.check_network = !a.offline;
  o.network_timeout_s = a.timeout_s;
  o.service_user = a.service_user;
  o.allow_loopback = a.allow_loopback;
  std::vector<DoctorFinding> findings;
  if (!a.jobs.jobs_dir.empty()) {
    std::cout << "fedsmear doctor: checking the coordinator service of the jobs in "
              << a.jobs.jobs_dir << "\n";
    findings = CheckJobService(a.jobs, o);
  } else {
    std::cout << "fedsmear doctor: checking the " << role << " configured in " << a.config << "\n";
    findings = role == "site" ? CheckSite(a.config, o) : CheckCoordinator(a.config, o);
  }
  std::cout << FormatFindings(findings);
  return HasFailures(findings) ? 1 : 0;
}

}  // namespace

Command AddDoctorCommand(CLI::App& root) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* app = root.add_subcommand(
      "doctor", "Check a site's or the coordinator's installation and explain any problem");
  app->add_option("--config", args->config, "the site's (or coordinator's) YAML config")
      ->capture_default_str();
  app->add_option("--role", args->role, "what the config is for (auto: a config with site_id is "
                                        "a site's)")
      ->check(CLI::IsMember({"auto", "site", "coordinator"}))
      ->capture_default_str();
  app->add_flag("--offline", args->offline, "skip the coordinator reachability check");
  app->add_option("--timeout", args->timeout_s, "seconds to wait for the coordinator")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app->add_option("--service-user", args->service_user,
                  "the account the daemon runs as; as root, key files are opened as it")
      ->capture_default_str();
  app->add_flag("--allow-loopback", args->allow_loopback,
                "accept a site's coordinator address on this machine (one-host trials)");
  app->add_option("--jobs", args->jobs.jobs_dir,
                  "check the long-lived coordinator of this jobs folder instead of one config "
                  "(the service's --jobs; each queued job's config is checked too)");
  app->add_option("--status-bind", args->jobs.status_bind,
                  "with --jobs: the service's --status-bind HOST:PORT")
      ->needs("--jobs");
  app->add_option("--status-token-file", args->jobs.status_token_file,
                  "with --jobs: the service's --status-token-file")
      ->needs("--status-bind");
  return {app, [args] { return RunDoctor(*args); }};
}

}  // namespace fedsmear
