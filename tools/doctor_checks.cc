#include "tools/doctor_checks.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "common/governance/plan.h"
#include "common/governance/plan_approvals.h"

namespace fedsmear {
namespace {

using Finding = DoctorFinding;

// The host of "tcp://host:port" ("" when it is not one), without IPv6 brackets.
std::string EndpointHost(const std::string& endpoint) {
  const std::string prefix = "tcp://";
  if (endpoint.rfind(prefix, 0) != 0) return "";
  std::string host = endpoint.substr(prefix.size());
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos) host = host.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The account's ids and groups, looked up before any fork.
struct Account {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

bool LookUp(const std::string& user, Account* account) {
  struct passwd pw{};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
  account->uid = pw.pw_uid;
  account->gid = pw.pw_gid;
  int n = 64;
  account->groups.resize(static_cast<size_t>(n));
  if (::getgrouplist(user.c_str(), pw.pw_gid, account->groups.data(), &n) < 0) {
    account->groups.resize(static_cast<size_t>(n));
    ::getgrouplist(user.c_str(), pw.pw_gid, account->groups.data(), &n);
  }
  account->groups.resize(static_cast<size_t>(n));
  return true;
}

// 0 when the caller can open the file `path` for reading (`folder`: enter and write in the
// folder `path`), else the errno it got. Only system-call wrappers: it runs after fork.
int Probe(const char* path, bool folder) {
  if (folder) return ::access(path, W_OK | X_OK) == 0 ? 0 : errno;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

// Probe as `account`, in a child that takes its uid, gid and groups.
int ProbeAs(const Account& account, const std::string& path, bool folder) {
  const pid_t pid = ::fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    // Between fork and _exit only system-call wrappers: no allocation, no locks.
    if (::setgroups(account.groups.size(), account.groups.data()) != 0 ||
        ::setgid(account.gid) != 0 || ::setuid(account.uid) != 0) {
      ::_exit(EPERM);
    }
    ::_exit(Probe(path.c_str(), folder) & 0xff);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

}  // namespace

void CheckSecurePolicy(const ClientConfig& c, std::vector<Finding>* out) {
  const SitePolicy& p = c.policy;
  if (!p.require_secure_aggregation) {
    out->push_back({Finding::kWarn, "this site answers plain rounds "
                                    "(policy.require_secure_aggregation: false): the coordinator "
                                    "can read its update",
                    "set policy.require_secure_aggregation: true unless the consortium has "
                    "fewer than 3 sites"});
  } else if (c.signing_key_file.empty()) {
    out->push_back({Finding::kFail, "secure rounds are required but signing_key_file is empty: "
                                    "this site can join no round",
                    "fedsmear keygen --out DIR NAME writes NAME.sign.key; set signing_key_file"});
  }
  if (!p.secagg_roster_file.empty()) {
    Result<SigningRoster> roster = LoadSigningRoster(p.secagg_roster_file);
    if (!roster.ok()) {
      out->push_back({Finding::kFail, "the consortium roster cannot be used: " +
                                          roster.status().message(),
                      "one line per member site: SITE-ID ED25519-KEY (or the allowlist's three "
                      "columns)"});
      return;
    }
    if (!roster->count(c.site_id)) {
      out->push_back({Finding::kFail, "the consortium roster " + p.secagg_roster_file +
                                          " does not list this site (" + c.site_id + ")",
                      "ask the operator for the current roster, or correct site_id"});
      return;
    }
  }
  if (!p.require_secagg_roster || p.secagg_roster_file.empty()) {
    out->push_back({Finding::kWarn, "no consortium roster (policy.secagg_roster_file): this site "
                                    "trusts the coordinator's list of its peers, which may be "
                                    "sites the coordinator invented",
                    "ask the operator for the roster (the allowlist's three columns) and set "
                    "policy.secagg_roster_file and policy.require_secagg_roster: true"});
  }
  if (p.require_secure_aggregation && p.require_secagg_roster && !p.secagg_roster_file.empty() &&
      !c.signing_key_file.empty()) {
    out->push_back({Finding::kOk, "secure aggregation required, with the consortium roster " +
                                      p.secagg_roster_file + " and at least " +
                                      std::to_string(std::max(3, p.min_secagg_sites)) +
                                      " sites per round", ""});
  }
}

void CheckSecureAggregation(const CoordinatorConfig& c, const std::vector<AllowedSite>& allowed,
                            std::vector<Finding>* out) {
  if (c.secure_aggregation == SecureAggregation::kOff) {
    out->push_back({Finding::kWarn, "secure_aggregation is off: the coordinator reads every "
                                    "site's update, and sites that require secure rounds (the "
                                    "default) refuse its tasks",
                    "set secure_aggregation: secagg+ (needs 3 sites with signing keys)"});
    return;
  }
  size_t keyed = 0;
  for (const AllowedSite& a : allowed) keyed += a.sign_public_key.empty() ? 0 : 1;
  if (keyed < 3) {
    out->push_back({Finding::kFail, "secure_aggregation secagg+ needs at least 3 sites with a "
                                    "signing key in the allowlist; it has " +
                                        std::to_string(keyed),
                    "add each site's NAME.sign.pub as the third column of " +
                        c.allowed_sites_file + ", or, for a consortium of two, "
                        "secure_aggregation: off"});
  } else {
    out->push_back({Finding::kOk, "secure aggregation on, " + std::to_string(keyed) +
                                      " sites with signing keys", ""});
  }
}

void CheckSiteId(const ClientConfig& c, std::vector<Finding>* out) {
  if (c.site_id != "site-a") return;
  out->push_back({Finding::kFail,
                  "site_id is site-a, the placeholder of the shipped client.yaml",
                  "set site_id to the id the consortium operator gave this site (the one on its "
                  "allowed_sites line)"});
}

void CheckCoordinatorAddress(const ClientConfig& c, bool loopback_ok, std::vector<Finding>* out) {
  const std::string host = EndpointHost(c.coordinator);
  if (!IsLoopback(host)) return;
  if (loopback_ok) {
    out->push_back({Finding::kInfo, "the coordinator address " + c.coordinator +
                                        " is this machine (accepted: --allow-loopback)", ""});
    return;
  }
  out->push_back(
      {Finding::kFail,
       "the coordinator address " + c.coordinator + " is this machine's loopback (" + host +
           "): the consortium's coordinator on another host is not reached there, and a "
           "coordinator bound to " + host + " cannot be reached by other hosts",
       "set coordinator: to the address the consortium operator gave "
       "(tcp://coordinator.example.org:7878); for a trial on one machine pass --allow-loopback"});
}

void CheckCoordinatorBind(const CoordinatorConfig& c, std::vector<Finding>* out) {
  const std::string host = EndpointHost(c.bind);
  if (!IsLoopback(host)) return;
  out->push_back({Finding::kWarn,
                  "the coordinator binds " + c.bind + ": only this machine can connect, sites on "
                  "other hosts cannot reach it",
                  "bind: tcp://0.0.0.0:7878 (or this host's address) for sites on other hosts"});
}

void CheckHttpEndpoint(const HttpEndpointConfig& e, const std::string& what,
                       std::vector<Finding>* out) {
  if (!e.enabled) return;
  // host:port, [v6]:port or :port; an empty host listens on every address.
  std::string host = e.bind.substr(0, e.bind.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && IsLoopback(host)) return;
  if (e.token_file.empty()) {
    out->push_back({Finding::kFail,
                    what + " listen on " + e.bind + " beyond this machine without a token: "
                    "anyone who reaches it reads site ids, refusal reasons and scores",
                    "set token_file (a file holding a long random token) in the same section, "
                    "or bind 127.0.0.1 and scrape through a tunnel"});
    return;
  }
  out->push_back({Finding::kInfo,
                  what + " listen on " + e.bind + ", behind the token in " + e.token_file, ""});
}

void CheckPendingPlan(const ClientConfig& c, const std::string& config_path,
                      std::vector<Finding>* out) {
  if (c.state_dir.empty() || !c.policy.require_plan_approval) return;
  const std::string path = PendingPlanPath(c.state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    out->push_back({Finding::kInfo, "no training plan received yet (the coordinator sends it when "
                                    "this site first connects)", ""});
    return;
  }
  Result<std::string> bytes = ReadFile(path, 16 << 20);
  Result<TrainingPlan> plan = bytes.ok() ? ParsePlan(*bytes) : bytes.status();
  if (!plan.ok()) {
    out->push_back({Finding::kFail, "the stored training plan " + path + " cannot be read: " +
                                        plan.status().message(),
                    "the site refuses tasks until the coordinator sends its plan again; restart "
                    "the site daemon"});
    return;
  }
  Result<bool> approved = IsPlanApproved(c, plan->hash);
  if (!approved.ok()) {
    out->push_back({Finding::kFail, "the plan approvals cannot be read: " +
                                        approved.status().message(),
                    "correct the file named above (one plan hash per line)"});
    return;
  }
  if (*approved) {
    out->push_back({Finding::kOk, "the current training plan " + plan->hash.substr(0, 16) +
                                      "... is approved", ""});
    return;
  }
  out->push_back({Finding::kFail,
                  "the current training plan " + plan->hash +
                      " is waiting for this site's approval: the site refuses every task until "
                      "it is approved",
                  "review it: fedsmear-client --config " + config_path +
                      " plan show\n            then approve it: fedsmear-client --config " +
                      config_path + " plan approve " + plan->hash});
}

void CheckOpensAs(const std::string& user, const std::vector<AccountFile>& files,
                  std::vector<Finding>* out) {
  if (user.empty() || files.empty()) return;
  Account account;
  if (!LookUp(user, &account)) {
    out->push_back({Finding::kWarn,
                    "there is no user " + user + " on this machine, so the key files were not "
                    "checked as the service account",
                    "pass --service-user NAME when the daemon runs as another account"});
    return;
  }
  const bool as_root = ::geteuid() == 0;
  if (!as_root && ::geteuid() != account.uid) {
    out->push_back({Finding::kInfo,
                    "cannot check as the service account " + user + " without root: whether it "
                    "can open the key files is unknown",
                    "run `sudo fedsmear doctor` to check them as " + user});
    return;
  }
  for (const AccountFile& f : files) {
    if (f.path.empty()) continue;
    const int err = as_root ? ProbeAs(account, f.path, f.folder) : Probe(f.path.c_str(), f.folder);
    const std::string verb = f.folder ? " can write in " : " can open ";
    if (err == 0) {
      out->push_back({Finding::kOk, "the service account " + user + verb + f.what + " " + f.path,
                      ""});
      continue;
    }
    const std::string fix =
        f.folder   ? "run: chown " + user + ":" + user + " " + f.path + " && chmod 0770 " + f.path
        : f.secret ? "run: chown " + user + ":" + user + " " + f.path + " && chmod 600 " + f.path +
                         "  (and let " + user + " enter its folder)"
                   : "let " + user + " read it: chmod 644 " + f.path + " (and its folder)";
    out->push_back({Finding::kFail,
                    "the service account " + user + (f.folder ? " cannot write in " : " cannot open ") +
                        f.what + " " + f.path + ": " + std::strerror(err) + " (the daemon runs as " +
                        user + " and would fail the same way)",
                    fix});
  }
}

void CheckSecretFile(const std::string& path, const std::string& what, std::vector<Finding>* out) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    out->push_back({Finding::kFail, what + " " + path + " does not exist",
                    "a site makes its keys when it enrols, `sudo fedsmear enrol --kit KIT` with "
                    "the kit the consortium sent; a coordinator with `fedsmear keygen --name "
                    "coordinator` (or correct the path in the config)"});
    return;
  }
  const auto loose = std::filesystem::perms::group_all | std::filesystem::perms::others_all;
  if ((st.permissions() & loose) != std::filesystem::perms::none) {
    out->push_back({Finding::kFail,
                    what + " " + path + " can be read by other users of this machine",
                    "run: chmod 600 " + path + "  (only the fedsmear service account may read it)"});
    return;
  }
  out->push_back({Finding::kOk, what + " " + path + " is private to its owner", ""});
}

}  // namespace fedsmear
