// The operator's side of enrolment: site kits and enrolment requests (enrolment.h).
#include <filesystem>
#include <map>
#include <sstream>

#include "common/config.h"
#include "common/file_util.h"
#include "common/governance/enrolment.h"
#include "common/net/key_fingerprint.h"
#include "common/wire/messages.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKitFormat = "fedsmear-site-kit-1";
constexpr uint64_t kMaxKitFileBytes = uint64_t{16} << 20;

// A path written unquoted into YAML: absolute, and nothing YAML or a line could misread.
Status CheckPath(const std::string& path, const std::string& what) {
  if (path.empty() || path.front() != '/') return InvalidArgument(what + " must be absolute");
  for (char c : path) {
    if (c == '\n' || c == '\r' || c == '#' || c == ':' || c == '"' || c == '\'' || c == ' ') {
      return InvalidArgument(what + " '" + path + "' has a character a config cannot hold");
    }
  }
  return Status::Ok();
}

Status CheckEndpoint(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (endpoint.rfind("tcp://", 0) != 0 || colon == std::string::npos || colon < 7 ||
      colon + 1 == endpoint.size() ||
      endpoint.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
      endpoint.find_first_of(" \t\n\r#\"'") != std::string::npos) {
    return InvalidArgument("coordinator endpoint '" + endpoint +
                           "' is not tcp://HOST:PORT (the address sites connect to)");
  }
  if (endpoint.find('*') != std::string::npos || endpoint.find("0.0.0.0") != std::string::npos) {
    return InvalidArgument("coordinator endpoint '" + endpoint +
                           "' is a bind address; give the one sites connect to");
  }
  return Status::Ok();
}

std::string SiteConfigYaml(const KitRequest& r) {
  std::ostringstream y;
  y << "# fedsmear-client config of site " << r.site_id
    << ", from the consortium's enrolment kit.\n"
    << "# Settings not named here keep their defaults (`fedsmear-client --help-config` lists\n"
    << "# them all). Before starting: put the images under data.root, one folder per class.\n"
    << "site_id: " << r.site_id << "\n"
    << "coordinator: " << r.coordinator_endpoint << "\n"
    << "coordinator_public_key_file: " << r.etc_dir << "/keys/coordinator.pub\n"
    << "secret_key_file: " << r.etc_dir << "/keys/site.key\n"
    << "signing_key_file: " << r.etc_dir << "/keys/site.sign.key\n"
    << "state_dir: " << r.state_dir << "\n"
    << "data:\n  root: " << r.data_root << "\n"
    << "policy:\n  secagg_roster_file: " << r.etc_dir << "/roster\n";
  return y.str();
}

// "site-id hex" lines of every site but `except` with an Ed25519 key in an allowlist or roster.
Result<std::string> RosterLines(const std::string& path, const std::string& except) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKitFileBytes));
  std::map<std::string, std::string> keys;
  Result<std::vector<AllowedSite>> allowed = ParseAllowedSites(text, path);
  if (allowed.ok()) {
    for (const AllowedSite& s : *allowed) {
      if (!s.sign_public_key.empty()) keys[s.site_id] = s.sign_public_key;
    }
  } else {
    Result<SigningRoster> roster = ParseSigningRoster(text, path);
    if (!roster.ok()) {
      return InvalidArgument(path + " is neither an allowlist (" + allowed.status().message() +
                             ") nor a roster (" + roster.status().message() + ")");
    }
    for (const auto& [id, raw] : *roster) keys[id] = HexEncode(raw);
  }
  std::string lines;
  for (const auto& [id, hex] : keys) {
    if (id != except) lines += id + " " + hex + "\n";
  }
  return lines;
}

// True when `text` has a line that is neither blank nor a '#' comment.
bool HasEntries(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#') return true;
  }
  return false;
}

Result<std::map<std::string, std::string>> ParseKitFile(const std::string& text,
                                                        const std::string& path) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos) return Corrupt(path + ": expected 'name: value' lines");
    fields[line.substr(0, colon)] = line.substr(colon + 2);
  }
  for (const char* name : {"format", "site_id", "coordinator", "coordinator_fingerprint"}) {
    if (fields.count(name) == 0) return Corrupt(path + ": no '" + std::string(name) + "' line");
  }
  if (fields["format"] != kKitFormat) {
    return Corrupt(path + ": format '" + fields["format"] + "' is not " + std::string(kKitFormat));
  }
  return fields;
}

}  // namespace

Result<SiteKit> MakeSiteKit(const KitRequest& request) {
  if (!wire::IsValidSiteId(request.site_id)) {
    return InvalidArgument("site id '" + request.site_id +
                           "' must be 1-128 characters of [A-Za-z0-9._-]");
  }
  if (request.site_id == "site-a" || request.site_id == "site") {
    return InvalidArgument("site id '" + request.site_id +
                           "' is the shipped placeholder; give the site its real id");
  }
  RETURN_IF_ERROR(CheckEndpoint(request.coordinator_endpoint));
  RETURN_IF_ERROR(CheckPath(request.etc_dir, "the site's config folder"));
  RETURN_IF_ERROR(CheckPath(request.state_dir, "the site's state folder"));
  RETURN_IF_ERROR(CheckPath(request.data_root, "the site's image folder"));
  SiteKit kit;
  kit.site_id = request.site_id;
  kit.coordinator_endpoint = request.coordinator_endpoint;
  ASSIGN_OR_RETURN(kit.coordinator_public_key,
                   LoadPublicKeyFile(request.coordinator_public_key_file));
  ASSIGN_OR_RETURN(kit.coordinator_fingerprint, KeyFingerprint(kit.coordinator_public_key));
  if (!request.roster_source.empty()) {
    ASSIGN_OR_RETURN(kit.roster, RosterLines(request.roster_source, request.site_id));
  }
  kit.site_config = SiteConfigYaml(request);
  return kit;
}

Status WriteSiteKit(const SiteKit& kit, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return FailedPrecondition(dir + " exists and is not empty; give a new folder for the kit");
  }
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  const fs::path d(dir);
  const std::string kit_txt =
      "# fedsmear site kit for " + kit.site_id + ". At the site: `sudo fedsmear enrol --kit " +
      "THIS_FOLDER`.\n# Before that, compare coordinator_fingerprint below with the one the " +
      "consortium operator reads to you.\nformat: " + std::string(kKitFormat) +
      "\nsite_id: " + kit.site_id + "\ncoordinator: " + kit.coordinator_endpoint +
      "\ncoordinator_fingerprint: " + kit.coordinator_fingerprint + "\n";
  RETURN_IF_ERROR(WriteFileAtomic((d / "kit.txt").string(), kit_txt, 0644));
  RETURN_IF_ERROR(WriteFileAtomic((d / "coordinator.pub").string(),
                                  "# fedsmear CurveZMQ key 'coordinator'\npublic-key = " +
                                      kit.coordinator_public_key + "\n",
                                  0644));
  RETURN_IF_ERROR(WriteFileAtomic(
      (d / "roster").string(),
      "# consortium roster: site-id ed25519-public-key (secure aggregation)\n" + kit.roster, 0644));
  return WriteFileAtomic((d / "client.yaml").string(), kit.site_config, 0644);
}

Result<SiteKit> ReadSiteKit(const std::string& dir) {
  const fs::path d(dir);
  const std::string kit_path = (d / "kit.txt").string();
  ASSIGN_OR_RETURN(std::string kit_txt, ReadFile(kit_path, kMaxKitFileBytes));
  ASSIGN_OR_RETURN(auto fields, ParseKitFile(kit_txt, kit_path));
  SiteKit kit;
  kit.site_id = fields["site_id"];
  kit.coordinator_endpoint = fields["coordinator"];
  ASSIGN_OR_RETURN(kit.coordinator_public_key,
                   LoadPublicKeyFile((d / "coordinator.pub").string()));
  ASSIGN_OR_RETURN(kit.coordinator_fingerprint, KeyFingerprint(kit.coordinator_public_key));
  if (!FingerprintsMatch(kit.coordinator_fingerprint, fields["coordinator_fingerprint"])) {
    return Corrupt(dir + ": coordinator.pub has the fingerprint " + kit.coordinator_fingerprint +
                   ", not the kit's " + fields["coordinator_fingerprint"] +
                   "; ask the consortium for a new kit");
  }
  const std::string roster_path = (d / "roster").string();
  ASSIGN_OR_RETURN(kit.roster, ReadFile(roster_path, kMaxKitFileBytes));
  // A roster of comments only is valid here: the consortium's first site has no peers yet.
  if (HasEntries(kit.roster)) {
    RETURN_IF_ERROR(ParseSigningRoster(kit.roster, roster_path).status());
  }
  const std::string config_path = (d / "client.yaml").string();
  ASSIGN_OR_RETURN(kit.site_config, ReadFile(config_path, kMaxKitFileBytes));
  ASSIGN_OR_RETURN(ClientConfig config, LoadClientConfig(config_path));
  if (config.site_id != kit.site_id || config.coordinator != kit.coordinator_endpoint) {
    return Corrupt(config_path + " names site " + config.site_id + " at " + config.coordinator +
                   ", but the kit is for " + kit.site_id + " at " + kit.coordinator_endpoint);
  }
  return kit;
}

Result<AllowedSite> ReadEnrolmentRequest(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 20));
  ASSIGN_OR_RETURN(std::vector<AllowedSite> sites, ParseAllowedSites(text, path));
  if (sites.size() != 1 || sites[0].sign_public_key.empty()) {
    return InvalidArgument(path + ": an enrolment request is one line 'site-id curve-key " +
                           "ed25519-key' (fedsmear enrol writes it as NAME.request)");
  }
  return sites[0];
}

}  // namespace fedsmear
