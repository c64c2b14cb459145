#include "tools/doctor.h"
#include "common/unique_fd.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/config.h"
#include "common/net/endpoint_config.h"
#include "common/net/keys.h"
#include "coordinator/strategy_registry.h"
#include "data/dataset.h"
#include "tools/doctor_checks.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using Finding = DoctorFinding;

using Fd = UniqueFd;  // common/unique_fd.h

// getaddrinfo's list, freed when the owner goes away.
class AddrList {
 public:
  AddrList() = default;
  AddrList(const AddrList&) = delete;
  AddrList& operator=(const AddrList&) = delete;
  ~AddrList() {
    if (list_) ::freeaddrinfo(list_);
  }
  addrinfo** out() { return &list_; }
  const addrinfo* get() const { return list_; }

 private:
  addrinfo* list_ = nullptr;
};

// "" when a TCP connection to host:port opened within the timeout, else why not.
std::string TcpConnect(const std::string& host, const std::string& port, double timeout_s) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  AddrList addrs;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, addrs.out()); rc != 0) {
    return "the name " + host + " cannot be resolved (" + ::gai_strerror(rc) + ")";
  }
  std::string last = "no address";
  for (const addrinfo* a = addrs.get(); a; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return "";
    if (errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout_s * 1000));
    if (ready == 0) {
      last = "no answer within " + std::to_string(static_cast<int>(timeout_s)) +
             " s (a firewall dropping the connection?)";
      continue;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return "";
    last = std::strerror(err);
  }
  return last;
}

std::string Plural(size_t n, const std::string& word) {
  const bool sibilant = !word.empty() && word.back() == 's';
  return std::to_string(n) + " " + word + (n == 1 ? "" : sibilant ? "es" : "s");
}

void CheckFolderWritable(const std::string& dir, const std::string& what,
                         std::vector<Finding>* out) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path probe = fs::path(dir) / ".fedsmear-doctor-probe";
  {
    std::ofstream f(probe);
    f << "probe\n";
    if (ec || !f) {
      out->push_back({Finding::kFail, what + " " + dir + " cannot be written",
                      "give the fedsmear service account write access to " + dir});
      return;
    }
  }
  fs::remove(probe, ec);
  out->push_back({Finding::kOk, what + " " + dir + " is writable", ""});
}

// Images per class, skipped files and unknown folders of one image folder or manifest.
void CheckImages(const std::string& path, const std::vector<std::string>& classes,
                 const std::string& what, int min_per_class, std::vector<Finding>* out) {
  if (path.empty()) {
    out->push_back({Finding::kFail, "no " + what + " is configured", "set data.root in the config"});
    return;
  }
  Result<Dataset> ds = OpenDataset(path, classes);
  if (!ds.ok()) {
    out->push_back({Finding::kFail, what + " " + path + " cannot be read: " + ds.status().message(),
                    "check the path and that the fedsmear service account may read it"});
    return;
  }
  const std::vector<int64_t> counts = ds->ClassCounts();
  std::ostringstream per;
  for (size_t k = 0; k < counts.size(); ++k) {
    per << (k ? ", " : "") << ds->class_names[k] << " " << counts[k];
  }
  if (ds->samples.empty()) {
    out->push_back({Finding::kFail, what + " " + path + " holds no usable images",
                    "put images in one sub-folder per class (e.g. " + path + "/neutrophil/)"});
  } else {
    out->push_back({Finding::kOk,
                    what + " " + path + ": " + Plural(ds->samples.size(), "image") + " in " +
                        Plural(counts.size(), "class") + " (" + per.str() + ")",
                    ""});
  }
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] < min_per_class) {
      out->push_back({Finding::kWarn,
                      "class " + ds->class_names[k] + " has " + std::to_string(counts[k]) +
                          " images, fewer than the site policy's minimum of " +
                          std::to_string(min_per_class),
                      "training tasks will be refused until more images are added "
                      "(or the policy is changed)"});
    }
  }
  if (!ds->unknown_classes.empty()) {
    std::string names;
    for (const auto& n : ds->unknown_classes) names += (names.empty() ? "" : ", ") + n;
    out->push_back({Finding::kWarn, "folders or labels that are not classes of the model: " + names,
                    "these images are not used; rename them to a model class if they belong"});
  }
  if (!ds->skipped.empty()) {
    std::string list;
    for (size_t i = 0; i < ds->skipped.size() && i < 5; ++i) {
      list += "\n      " + ds->skipped[i].path + ": " + ds->skipped[i].reason;
    }
    if (ds->skipped.size() > 5) list += "\n      ... (`fedsmear data-info " + path + "` lists all)";
    out->push_back({Finding::kWarn, Plural(ds->skipped.size(), "file") + " skipped:" + list,
                    "replace or remove unreadable files; they are left out of training"});
  }
}

// host and port of "tcp://host:port".
bool SplitTcpEndpoint(const std::string& endpoint, std::string* host, std::string* port) {
  const std::string prefix = "tcp://";
  if (endpoint.rfind(prefix, 0) != 0) return false;
  const std::string rest = endpoint.substr(prefix.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = rest.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  *port = rest.substr(colon + 1);
  return !port->empty();
}

void CheckCoordinatorConnection(const ClientConfig& c, const DoctorOptions& o,
                                std::vector<Finding>* out) {
  std::string host, port;
  if (!SplitTcpEndpoint(c.coordinator, &host, &port)) {
    out->push_back({Finding::kFail, "coordinator address " + c.coordinator + " is not tcp://HOST:PORT",
                    "set coordinator: tcp://coordinator.example.org:7878"});
    return;
  }
  std::string tcp = TcpConnect(host, port, o.network_timeout_s);
  if (!tcp.empty()) {
    out->push_back({Finding::kFail, "cannot reach the coordinator at " + host + " port " + port +
                                        ": " + tcp,
                    "check the address, that the coordinator is running, and that firewalls "
                    "allow outgoing TCP from this machine to port " + port});
    return;
  }
  out->push_back({Finding::kOk, "the coordinator at " + host + " port " + port +
                                    " answers on the network", ""});
  Result<DealerOptions> opts = DealerOptionsFromConfig(c);
  if (!opts.ok()) return;  // the key findings above already say why
  opts->reconnect_ivl_max = std::chrono::milliseconds(1000);
  Result<DealerEndpoint> dealer = DealerEndpoint::Connect(*opts);
  if (!dealer.ok()) {
    out->push_back({Finding::kFail, "cannot open a connection: " + dealer.status().message(), ""});
    return;
  }
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(o.network_timeout_s * 1000));
  while (std::chrono::steady_clock::now() < until && dealer->handshake_successes() == 0 &&
         dealer->handshake_failures() == 0) {
    (void)dealer->Receive(std::chrono::milliseconds(100));
  }
  if (dealer->handshake_successes() > 0) {
    out->push_back({Finding::kOk, c.insecure
                                      ? "the coordinator accepted an unencrypted connection"
                                      : "the coordinator accepted the encrypted connection: its key "
                                        "matches coordinator_public_key_file and this site is on "
                                        "its allowlist",
                    ""});
  } else if (dealer->handshake_failures() > 0) {
    const bool refused = dealer->last_failure().find("refused this site") != std::string::npos;
    out->push_back({Finding::kFail, "the coordinator did not accept the encrypted connection: " +
                                        dealer->last_failure(),
                    refused ? "send this site's public key (the .pub file next to "
                              "secret_key_file) to the consortium operator for allowed_sites"
                            : "check that coordinator_public_key_file holds the key the consortium "
                              "operator published, and that both sides use the same security "
                              "mode (insecure)"});
  } else {
    out->push_back({Finding::kFail, "the coordinator's port is open but no encrypted session was "
                                    "set up within " +
                                        std::to_string(static_cast<int>(o.network_timeout_s)) + " s",
                    "the coordinator's key probably differs from coordinator_public_key_file; ask "
                    "the consortium operator for the current coordinator.pub"});
  }
}

}  // namespace

std::vector<DoctorFinding> CheckSite(const std::string& config_path, const DoctorOptions& o) {
  std::vector<Finding> out;
  Result<ClientConfig> config = LoadClientConfig(config_path);
  if (!config.ok()) {
    out.push_back({Finding::kFail, "the configuration cannot be used: " + config.status().message(),
                   "correct the key named above; configs/client.yaml documents every key"});
    return out;
  }
  const ClientConfig& c = *config;
  out.push_back({Finding::kOk, "configuration " + config_path + " reads correctly (site " +
                                   c.site_id + ")", ""});
  CheckSiteId(c, &out);
  CheckCoordinatorAddress(c, o.allow_loopback, &out);
  if (c.insecure) {
    out.push_back({Finding::kWarn, "encryption is switched off (insecure: true)",
                   "use insecure only for local tests; set insecure: false and install keys"});
  } else {
    CheckSecretFile(c.secret_key_file, "secret key", &out);
    if (Result<std::string> pub = LoadPublicKeyFile(c.coordinator_public_key_file); !pub.ok()) {
      out.push_back({Finding::kFail, "the coordinator's public key cannot be read: " +
                                         pub.status().message(),
                     "copy coordinator.pub from the consortium operator to " +
                         c.coordinator_public_key_file});
    } else {
      out.push_back({Finding::kOk, "coordinator public key " + c.coordinator_public_key_file +
                                       " is valid (" + KeyPrefix(*pub) + ")", ""});
    }
  }
  if (!c.signing_key_file.empty()) CheckSecretFile(c.signing_key_file, "signing key", &out);
  CheckOpensAs(o.service_user,
               {{c.insecure ? "" : c.secret_key_file, "secret key", true},
                {c.insecure ? "" : c.coordinator_public_key_file, "coordinator public key", false},
                {c.signing_key_file, "signing key", true},
                {c.metrics.enabled ? c.metrics.token_file : "", "metrics token", true}},
               &out);
  CheckImages(c.data.manifest.empty() ? c.data.root : c.data.manifest, {}, "data folder",
              c.policy.min_samples_per_class, &out);
  if (!c.state_dir.empty()) CheckFolderWritable(c.state_dir, "state folder", &out);
  CheckPendingPlan(c, config_path, &out);
  CheckSecurePolicy(c, &out);
  CheckHttpEndpoint(c.metrics, "the site's /metrics", &out);
  if (o.check_network) CheckCoordinatorConnection(c, o, &out);
  return out;
}

std::vector<DoctorFinding> CheckCoordinator(const std::string& config_path,
                                            const DoctorOptions& o) {
  std::vector<Finding> out;
  Result<CoordinatorConfig> config = LoadCoordinatorConfig(config_path);
  if (config.ok()) {
    if (Status st = CheckRegisteredChoices(*config); !st.ok()) config = st;
  }
  if (!config.ok()) {
    out.push_back({Finding::kFail, "the configuration cannot be used: " + config.status().message(),
                   "correct the key named above; configs/coordinator.yaml documents every key"});
    return out;
  }
  const CoordinatorConfig& c = *config;
  out.push_back({Finding::kOk, "configuration " + config_path + " reads correctly", ""});
  CheckCoordinatorBind(c, &out);
  CheckHttpEndpoint(c.status, "the status page and /metrics", &out);
  if (c.insecure) {
    out.push_back({Finding::kWarn, "encryption is switched off (insecure: true)",
                   "use insecure only for local tests"});
  } else {
    CheckSecretFile(c.secret_key_file, "secret key", &out);
    Result<std::vector<AllowedSite>> allowed = LoadAllowedSites(c.allowed_sites_file);
    if (!allowed.ok()) {
      out.push_back({Finding::kFail, "the site allowlist cannot be used: " +
                                         allowed.status().message(),
                     "one line per site: SITE-ID PUBLIC-KEY [SIGNING-KEY]; `fedsmear kit admit "
                     "SITE.request --fingerprint FP` adds an enrolled site's"});
    } else {
      std::string ids;
      for (const auto& s : *allowed) ids += (ids.empty() ? "" : ", ") + s.site_id;
      out.push_back({allowed->size() >= static_cast<size_t>(c.min_sites) ? Finding::kOk
                                                                         : Finding::kWarn,
                     Plural(allowed->size(), "site") + " on the allowlist (" + ids + "); a round "
                     "needs " + std::to_string(c.min_sites),
                     allowed->size() >= static_cast<size_t>(c.min_sites)
                         ? ""
                         : "admit the missing sites (`fedsmear kit admit SITE.request "
                           "--fingerprint FP`) into " + c.allowed_sites_file});
      CheckSecureAggregation(c, *allowed, &out);
    }
  }
  CheckOpensAs(o.service_user,
               {{c.insecure ? "" : c.secret_key_file, "secret key", true},
                {c.insecure ? "" : c.allowed_sites_file, "site allowlist", false},
                {c.signing_key_file, "signing key", true},
                {c.status.enabled ? c.status.token_file : "", "status token", true}},
               &out);
  for (const HoldoutSet& h : c.holdout) {
    CheckImages(h.path, c.model.class_names, "held-out set " + h.name + " at", 0, &out);
  }
  CheckFolderWritable(c.run_dir, "run folder", &out);
  if (c.status.enabled && c.status.token_file.empty() && c.status.bind.rfind("127.", 0) != 0) {
    out.push_back({Finding::kWarn, "the status page listens beyond this machine (" +
                                       c.status.bind + ") without a token",
                   "set status.token_file, or bind it to 127.0.0.1 behind a reverse proxy"});
  }
  return out;
}

std::string FormatFindings(const std::vector<DoctorFinding>& findings) {
  std::ostringstream s;
  int fails = 0, warns = 0;
  for (const Finding& f : findings) {
    const char* tag = f.level == Finding::kOk     ? "[ok]  "
                      : f.level == Finding::kInfo ? "[info]"
                      : f.level == Finding::kWarn ? "[warn]"
                                                  : "[FAIL]";
    fails += f.level == Finding::kFail;
    warns += f.level == Finding::kWarn;
    s << "  " << tag << " " << f.what << "\n";
    if (!f.fix.empty()) s << "         -> " << f.fix << "\n";
  }
  if (fails == 0 && warns == 0) {
    s << "Everything checked is in order.\n";
  } else {
    s << Plural(static_cast<size_t>(fails), "problem") << " and "
      << Plural(static_cast<size_t>(warns), "warning") << " found.\n";
  }
  return s.str();
}

bool HasFailures(const std::vector<DoctorFinding>& findings) {
  for (const Finding& f : findings) {
    if (f.level == Finding::kFail) return true;
  }
  return false;
}

}  // namespace fedsmear
