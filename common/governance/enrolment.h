// Enrolment of a site with a consortium, in three steps and two commands on each side:
//
//   operator: MakeSiteKit + WriteSiteKit   `fedsmear kit make --site-id ID --coordinator-endpoint
//             (a folder, sent to the site)  tcp://HOST:7878 --out DIR` prints the coordinator's
//                                           fingerprint
//   site:     EnrolSite                     `fedsmear enrol --kit DIR` makes the site's own keys
//             (installs the kit, makes keys,  (never at package install), installs the config,
//             writes the enrolment request)   coordinator key and roster, prints both
//                                             fingerprints and the request file
//   operator: ReadEnrolmentRequest +         `fedsmear kit admit REQUEST` prints the site's
//             AdmitSite (allowlist_edit.h)    fingerprint and adds its allowlist line
//
// Both sides read the fingerprints (common/net/key_fingerprint.h) to each other over the phone
// before trusting the files: the site checks the coordinator's key its kit carries, the operator
// the site's keys its request carries. A kit holds no secret.
//
// The kit folder: `kit.txt` (format, site id, coordinator endpoint and fingerprint),
// `coordinator.pub`, `roster` (the Ed25519 keys of the consortium's other sites, "site-id hex"
// lines, for secure aggregation; may be empty) and `client.yaml`, the site's config with its real
// site id, the coordinator's endpoint and absolute paths for the keys, roster, state and images.
// EnrolSite writes every file where that config says: the keys (NAME.key, NAME.sign.key, mode
// 0600, owned by `owner`), coordinator.pub, the roster (the kit's lines plus the site's own), the
// config itself, and the request NAME.request beside the keys: one allowlist line
// "site-id curve-key ed25519-key" under comments that give the fingerprints.
//
// Thread-safety: reentrant functions. Ownership: plain values; files are written atomically.
#pragma once

#include <string>

#include "common/net/keys.h"
#include "common/status.h"

namespace fedsmear {

struct KitRequest {
  std::string site_id;
  std::string coordinator_endpoint;         // as the site reaches it, e.g. tcp://host:7878
  std::string coordinator_public_key_file;  // coordinator.pub (or its .key)
  std::string roster_source;  // allowlist or roster whose Ed25519 keys go into the kit ("" = none)
  // Where the site's files go (absolute paths written into the kit's client.yaml).
  std::string etc_dir = "/etc/fedsmear";
  std::string state_dir = "/var/lib/fedsmear/state";
  std::string data_root = "/srv/fedsmear/images";
};

struct SiteKit {
  std::string site_id;
  std::string coordinator_endpoint;
  std::string coordinator_public_key;   // Z85
  std::string coordinator_fingerprint;
  std::string roster;       // "site-id ed25519-hex" lines of the other sites
  std::string site_config;  // client.yaml
};

// InvalidArgument for a bad site id, endpoint, key or roster source.
Result<SiteKit> MakeSiteKit(const KitRequest& request);
// Writes the kit folder `dir` (created; kFailedPrecondition if it exists and is not empty).
Status WriteSiteKit(const SiteKit& kit, const std::string& dir);
// Reads and checks a kit folder: the fingerprint belongs to the key, the config loads and names
// the kit's site id and endpoint. kCorrupt when they disagree.
Result<SiteKit> ReadSiteKit(const std::string& dir);

struct EnrolOptions {
  std::string kit_dir;
  std::string config_path = "/etc/fedsmear/client.yaml";  // where the kit's config is installed
  bool new_key = false;  // make new keys even if some exist (rotation)
  std::string owner;     // user that owns the secret key files ("" = the caller)
};

struct Enrolment {
  AllowedSite request;       // the site's real id and public keys
  std::string fingerprint;   // SiteFingerprint(request)
  std::string coordinator_fingerprint;
  bool keys_created = false;  // false: the existing keys were kept
  std::string request_file;
  std::string config_file;
  std::string previous_config;  // where a different earlier config was set aside, or ""
};

// Installs a kit at a site (see above). Keys that exist are kept unless `new_key`; only one of
// the two existing is kFailedPrecondition. kNotFound for an unknown `owner`.
Result<Enrolment> EnrolSite(const EnrolOptions& options);

// Reads a site's NAME.request (exactly one allowlist line with an Ed25519 key).
Result<AllowedSite> ReadEnrolmentRequest(const std::string& path);

}  // namespace fedsmear
