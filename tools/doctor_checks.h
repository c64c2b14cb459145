// The checks of `fedsmear doctor` (tools/doctor.h) that catch a site that looks configured but
// is not: the shipped placeholder site id, a coordinator address on this machine's loopback, a
// training plan still waiting for approval, and key files the service account cannot open.
// Each appends its findings; a kFail makes `fedsmear doctor` exit non-zero.
//
// Thread-safety: plain functions; CheckOpensAs forks (the child only drops privileges, opens and
// exits). Ownership: none kept.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/net/keys.h"
#include "tools/doctor.h"

namespace fedsmear {

// site_id is "site-a", the placeholder of the shipped configs/client.yaml.
void CheckSiteId(const ClientConfig& config, std::vector<DoctorFinding>* out);

// The site's coordinator address is this machine's loopback (127.x, ::1, localhost): no
// coordinator on another host is reached there, and a coordinator bound there is reachable from
// this machine only. kFail unless `loopback_ok` (single-machine trials), then kInfo.
void CheckCoordinatorAddress(const ClientConfig& config, bool loopback_ok,
                             std::vector<DoctorFinding>* out);

// The coordinator's own bind is loopback: sites on other hosts cannot connect (kWarn).
void CheckCoordinatorBind(const CoordinatorConfig& config, std::vector<DoctorFinding>* out);

// STATE_DIR/pending_plan (client/site_plan.h) against the site's approvals: a plan waiting for
// approval is a kFail naming the commands to review and approve it. `config_path` goes into them.
void CheckPendingPlan(const ClientConfig& config, const std::string& config_path,
                      std::vector<DoctorFinding>* out);

// Every setting that leaves this site's update less protected than the defaults: plain rounds
// accepted (require_secure_aggregation false), no consortium roster (the coordinator's directory
// of peers is trusted: a Sybil coordinator can surround the site with peers it invented), no
// signing key while secure rounds are required (kFail: the site can join no round).
void CheckSecurePolicy(const ClientConfig& config, std::vector<DoctorFinding>* out);

// The coordinator's secure aggregation: off is a kWarn (it reads every update); secagg+ with
// fewer than 3 sites holding a signing key in the allowlist is a kFail.
void CheckSecureAggregation(const CoordinatorConfig& config,
                            const std::vector<AllowedSite>& allowed,
                            std::vector<DoctorFinding>* out);

// An HTTP endpoint (`what`: "the status page and /metrics", "the site's /metrics") that listens
// beyond this machine: kFail without a token_file (anyone who reaches the address reads the page:
// site ids, refusal reasons, accuracy), kInfo with one. Nothing for a loopback bind or when off.
void CheckHttpEndpoint(const HttpEndpointConfig& endpoint, const std::string& what,
                       std::vector<DoctorFinding>* out);

// A secret file (a key, a token): kFail when it is missing or readable by group or others, else
// kOk. `what` names it ("secret key").
void CheckSecretFile(const std::string& path, const std::string& what,
                     std::vector<DoctorFinding>* out);

// A file the service account `user` must open, and what it is ("secret key").
struct AccountFile {
  std::string path;
  std::string what;
  bool secret = true;  // private to the account (chmod 600) rather than readable by it
  bool folder = false;  // a folder the account must enter and write in, not a file to read
};

// Opens each file (or writes in each folder) as `user`: as root in a forked child that takes the account's uid, gid and
// groups; as that user directly. Run by anyone else it says it cannot check (kInfo). "" user:
// nothing checked.
void CheckOpensAs(const std::string& user, const std::vector<AccountFile>& files,
                  std::vector<DoctorFinding>* out);

}  // namespace fedsmear
