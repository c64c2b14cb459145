// The site's side of enrolment: EnrolSite (enrolment.h).
#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/config.h"
#include "common/file_util.h"
#include "common/governance/audit_key.h"
#include "common/governance/enrolment.h"
#include "common/net/key_fingerprint.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

// Where a config's key files are: one folder, NAME.key and NAME.sign.key.
struct KeyPaths {
  std::string dir;
  std::string name;
  std::string curve;  // NAME.key
  std::string sign;   // NAME.sign.key
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<KeyPaths> KeyPathsOf(const ClientConfig& config) {
  const std::string& curve = config.secret_key_file;
  const std::string& sign = config.signing_key_file;
  if (!EndsWith(curve, ".key") || !EndsWith(sign, ".sign.key") ||
      fs::path(curve).parent_path() != fs::path(sign).parent_path() ||
      fs::path(curve).stem().string() + ".sign.key" != fs::path(sign).filename().string()) {
    return InvalidArgument("the kit's config must name DIR/NAME.key and DIR/NAME.sign.key (it " +
                           std::string("names '") + curve + "' and '" + sign + "')");
  }
  return KeyPaths{fs::path(curve).parent_path().string(), fs::path(curve).stem().string(), curve,
                  sign};
}

Result<SigningKeyHex> NewSigningKey() {
  std::string seed(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32) != 1) {
    return Internal("OpenSSL RAND_bytes failed");
  }
  ASSIGN_OR_RETURN(AuditSigner signer, AuditSigner::FromSeed(seed));
  return SigningKeyHex{signer.public_hex(), HexEncode(seed)};
}

// Makes or keeps the site's keys; returns its allowlist entry (without the site id).
Result<AllowedSite> SiteKeys(const KeyPaths& paths, bool new_key, bool* created) {
  std::error_code ec;
  const bool have_curve = fs::exists(paths.curve, ec);
  const bool have_sign = fs::exists(paths.sign, ec);
  if (!new_key && have_curve && have_sign) {
    ASSIGN_OR_RETURN(KeyPair curve, LoadSecretKeyFile(paths.curve));
    ASSIGN_OR_RETURN(SigningKeyHex sign, LoadSigningKeyFile(paths.sign));
    *created = false;
    return AllowedSite{"", curve.public_key, sign.public_key};
  }
  if (!new_key && (have_curve || have_sign)) {
    return FailedPrecondition("only one of " + paths.curve + " and " + paths.sign +
                              " exists; enrol with --new-key to make both afresh");
  }
  if (!CurveAvailable()) return FailedPrecondition("libzmq was built without CURVE support");
  const KeyPair curve = GenerateKeyPair();
  ASSIGN_OR_RETURN(SigningKeyHex sign, NewSigningKey());
  RETURN_IF_ERROR(WriteKeyPairFiles(curve, paths.dir, paths.name, new_key));
  RETURN_IF_ERROR(WriteSigningKeyFiles(sign, paths.dir, paths.name, new_key));
  *created = true;
  return AllowedSite{"", curve.public_key, sign.public_key};
}

Status Chown(const std::string& owner, const std::vector<std::string>& files) {
  if (owner.empty()) return Status::Ok();
  const passwd* pw = ::getpwnam(owner.c_str());
  if (pw == nullptr) return NotFound("no user '" + owner + "' to own the site's keys");
  for (const std::string& f : files) {
    if (::chown(f.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return IoError("cannot give " + f + " to " + owner + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

// Installs `text` at `path`; a different file there is kept as PATH.before-enrol (returned).
Result<std::string> Install(const std::string& path, const std::string& text) {
  std::string previous;
  Result<std::string> old = ReadFile(path, uint64_t{16} << 20);
  if (old.ok() && *old != text) {
    previous = path + ".before-enrol";
    RETURN_IF_ERROR(WriteFileAtomic(previous, *old, 0644));
  }
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  RETURN_IF_ERROR(WriteFileAtomic(path, text, 0644));
  return previous;
}

}  // namespace

Result<Enrolment> EnrolSite(const EnrolOptions& options) {
  ASSIGN_OR_RETURN(SiteKit kit, ReadSiteKit(options.kit_dir));
  ASSIGN_OR_RETURN(ClientConfig config,
                   LoadClientConfig((fs::path(options.kit_dir) / "client.yaml").string()));
  ASSIGN_OR_RETURN(KeyPaths paths, KeyPathsOf(config));
  if (config.coordinator_public_key_file.empty() || config.policy.secagg_roster_file.empty()) {
    return InvalidArgument("the kit's config names no coordinator_public_key_file or "
                           "policy.secagg_roster_file");
  }
  Enrolment out;
  out.coordinator_fingerprint = kit.coordinator_fingerprint;
  ASSIGN_OR_RETURN(out.request, SiteKeys(paths, options.new_key, &out.keys_created));
  out.request.site_id = kit.site_id;
  RETURN_IF_ERROR(Chown(options.owner, {paths.curve, paths.sign}));
  ASSIGN_OR_RETURN(out.fingerprint, SiteFingerprint(out.request));

  RETURN_IF_ERROR(Install(config.coordinator_public_key_file,
                          "# fedsmear CurveZMQ key 'coordinator' (fingerprint " +
                              kit.coordinator_fingerprint + ")\npublic-key = " +
                              kit.coordinator_public_key + "\n")
                      .status());
  // The site trusts its own Ed25519 key; the consortium's roster grows as sites join.
  RETURN_IF_ERROR(Install(config.policy.secagg_roster_file,
                          kit.roster + kit.site_id + " " + out.request.sign_public_key + "\n")
                      .status());
  out.config_file = options.config_path;
  ASSIGN_OR_RETURN(out.previous_config, Install(options.config_path, kit.site_config));
  out.request_file = (fs::path(paths.dir) / (paths.name + ".request")).string();
  RETURN_IF_ERROR(WriteFileAtomic(
      out.request_file,
      "# fedsmear enrolment request of site " + kit.site_id +
          ". Send this file to the consortium operator and read them the site fingerprint;\n"
          "# they run `fedsmear kit admit` on it, which prints the same fingerprint.\n"
          "# site fingerprint: " + out.fingerprint +
          "\n# coordinator fingerprint (from the kit): " + kit.coordinator_fingerprint + "\n" +
          out.request.site_id + " " + out.request.public_key + " " + out.request.sign_public_key +
          "\n",
      0644));
  return out;
}

}  // namespace fedsmear
