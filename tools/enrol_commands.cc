// `fedsmear kit make|admit|revoke|fingerprint` and `fedsmear enrol` (tools/enrol_commands.h).
#include "tools/enrol_commands.h"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "common/governance/enrolment.h"
#include "common/net/allowlist_edit.h"
#include "common/net/key_fingerprint.h"

namespace fedsmear {
namespace {

constexpr const char* kAllowlist = "/etc/fedsmear/keys/allowed_sites";

struct KitArgs {
  KitRequest make;
  std::string out;
  std::string request_file;
  std::string fingerprint;
  std::string allowlist = kAllowlist;
  bool replace = false;
  std::string site_id;
  std::string file;
};

int Fail(const std::string& what, const Status& st) {
  std::cerr << "fedsmear " << what << ": " << st.message() << "\n";
  return 1;
}

int RunKitMake(KitArgs& a) {
  std::error_code ec;
  if (a.make.roster_source.empty() && std::filesystem::exists(kAllowlist, ec)) {
    a.make.roster_source = kAllowlist;
  }
  Result<SiteKit> kit = MakeSiteKit(a.make);
  if (!kit.ok()) return Fail("kit make", kit.status());
  if (Status st = WriteSiteKit(*kit, a.out); !st.ok()) return Fail("kit make", st);
  std::cout << "kit for site " << kit->site_id << " in " << a.out
            << ": kit.txt, coordinator.pub, roster, client.yaml (no secret)\n"
            << "coordinator fingerprint: " << kit->coordinator_fingerprint << "\n"
            << "Send the folder to the site (e.g. tar -C " << a.out << " -czf " << kit->site_id
            << "-kit.tgz .). When its operator calls, read them this fingerprint and note the\n"
            << "one they read you; then: fedsmear kit admit SITE.request --fingerprint THEIRS\n";
  return 0;
}

int RunKitAdmit(const KitArgs& a) {
  Result<AllowedSite> site = ReadEnrolmentRequest(a.request_file);
  if (!site.ok()) return Fail("kit admit", site.status());
  Result<std::string> fp = SiteFingerprint(*site);
  if (!fp.ok()) return Fail("kit admit", fp.status());
  if (!FingerprintsMatch(*fp, a.fingerprint)) {
    std::cerr << "fedsmear kit admit: the request of " << site->site_id << " has the fingerprint "
              << *fp << ", not " << a.fingerprint
              << ": not admitted. Ask the site to read its fingerprint again (`fedsmear kit "
                 "fingerprint /etc/fedsmear/keys/site.request` there); a difference means the "
                 "request was changed on its way.\n";
    return 1;
  }
  Result<AllowlistChange> change = AdmitSite(a.allowlist, *site, a.replace);
  if (!change.ok()) return Fail("kit admit", change.status());
  const char* what = *change == AllowlistChange::kAdded      ? "added to"
                     : *change == AllowlistChange::kReplaced ? "rotated (keys replaced) in"
                                                             : "already, with these keys, in";
  std::cout << "site " << site->site_id << " (fingerprint " << *fp << ") " << what << " "
            << a.allowlist << "; a running coordinator reloads it by itself\n";
  return 0;
}

int RunKitRevoke(const KitArgs& a) {
  Result<AllowlistChange> change = RevokeSite(a.allowlist, a.site_id);
  if (!change.ok()) return Fail("kit revoke", change.status());
  std::cout << "site " << a.site_id << " revoked in " << a.allowlist
            << ": a running coordinator drops its messages within a second and refuses its "
               "next connection\n";
  return 0;
}

int RunKitFingerprint(const KitArgs& a) {
  std::error_code ec;
  if (std::filesystem::is_directory(a.file, ec)) {
    Result<SiteKit> kit = ReadSiteKit(a.file);
    if (!kit.ok()) return Fail("kit fingerprint", kit.status());
    std::cout << "coordinator fingerprint: " << kit->coordinator_fingerprint << " (kit for "
              << kit->site_id << ")\n";
    return 0;
  }
  if (Result<AllowedSite> site = ReadEnrolmentRequest(a.file); site.ok()) {
    std::cout << "site fingerprint: " << *SiteFingerprint(*site) << " (" << site->site_id
              << ")\n";
    return 0;
  }
  Result<std::string> key = LoadPublicKeyFile(a.file);
  if (!key.ok()) return Fail("kit fingerprint", key.status());
  std::cout << "key fingerprint: " << *KeyFingerprint(*key) << "\n";
  return 0;
}

struct EnrolArgs {
  EnrolOptions options;
  std::string coordinator_fingerprint;
  std::string owner = "-";  // "-": fedsmear when run as root and that user exists
};

int RunEnrol(EnrolArgs& a) {
  if (!a.coordinator_fingerprint.empty()) {
    Result<SiteKit> kit = ReadSiteKit(a.options.kit_dir);
    if (!kit.ok()) return Fail("enrol", kit.status());
    if (!FingerprintsMatch(kit->coordinator_fingerprint, a.coordinator_fingerprint)) {
      std::cerr << "fedsmear enrol: the kit's coordinator key has the fingerprint "
                << kit->coordinator_fingerprint << ", not " << a.coordinator_fingerprint
                << ": nothing installed. Do not use this kit; ask the consortium for another.\n";
      return 1;
    }
  }
  a.options.owner = a.owner;
  if (a.owner == "-") {
    a.options.owner = ::geteuid() == 0 && ::getpwnam("fedsmear") != nullptr ? "fedsmear" : "";
  }
  Result<Enrolment> e = EnrolSite(a.options);
  if (!e.ok()) return Fail("enrol", e.status());
  const std::string keys = std::filesystem::path(e->request_file).parent_path().string();
  std::cout << "enrolled site " << e->request.site_id << "\n"
            << "  keys:    " << (e->keys_created ? "new, in " : "kept (already there), in ")
            << keys << (a.options.owner.empty() ? "" : ", owned by " + a.options.owner) << "\n"
            << "  config:  " << e->config_file
            << (e->previous_config.empty() ? "" : " (the previous one is " + e->previous_config +
                                                      ")")
            << "\n  request: " << e->request_file << "  <- send it to the consortium operator\n"
            << "coordinator fingerprint: " << e->coordinator_fingerprint
            << "  (from the kit: compare it with the one the operator reads you)\n"
            << "this site's fingerprint: " << e->fingerprint
            << "  (read it to the operator: they admit the request with it)\n"
            << "Then: images under data.root, `fedsmear doctor --config " << e->config_file
            << "`, and `systemctl start fedsmear-client` once the operator has admitted you.\n";
  return 0;
}

}  // namespace

Command AddKitCommand(CLI::App& root) {
  auto a = std::make_shared<KitArgs>();
  CLI::App* kit = root.add_subcommand("kit", "Enrol sites: make kits, admit, revoke, fingerprints");
  kit->require_subcommand(1);
  CLI::App* make = kit->add_subcommand("make", "Make a site's enrolment kit (a folder)");
  make->add_option("--site-id", a->make.site_id, "the site's id in the allowlist")->required();
  make->add_option("--coordinator-endpoint", a->make.coordinator_endpoint,
                   "tcp://HOST:PORT as the site reaches the coordinator")->required();
  make->add_option("--out", a->out, "new folder for the kit")->required();
  make->add_option("--coordinator-key", a->make.coordinator_public_key_file,
                   "the coordinator's public key file")
      ->capture_default_str()->default_val("/etc/fedsmear/keys/coordinator.pub");
  make->add_option("--roster", a->make.roster_source,
                   "allowlist or roster whose Ed25519 keys go into the kit (default: the "
                   "allowlist, when it exists)");
  make->add_option("--site-etc", a->make.etc_dir, "the site's config folder")
      ->capture_default_str();
  make->add_option("--site-state", a->make.state_dir, "the site's state folder")
      ->capture_default_str();
  make->add_option("--site-data", a->make.data_root, "the site's image folder")
      ->capture_default_str();
  CLI::App* admit = kit->add_subcommand("admit", "Add an enrolled site's key to the allowlist");
  admit->add_option("REQUEST", a->request_file, "the site's NAME.request")->required()
      ->check(CLI::ExistingFile);
  admit->add_option("--fingerprint", a->fingerprint, "the fingerprint the site read to you")
      ->required();
  admit->add_option("--allowlist", a->allowlist, "allowed_sites file")->capture_default_str();
  admit->add_flag("--replace", a->replace, "replace the site's keys (rotation)");
  CLI::App* revoke = kit->add_subcommand("revoke", "Take a site's key off the allowlist");
  revoke->add_option("SITE_ID", a->site_id, "the site to revoke")->required();
  revoke->add_option("--allowlist", a->allowlist, "allowed_sites file")->capture_default_str();
  CLI::App* fp =
      kit->add_subcommand("fingerprint", "Print the fingerprint of a key, request or kit");
  fp->add_option("FILE", a->file, "a .pub or .key file, a NAME.request or a kit folder")
      ->required()->check(CLI::ExistingPath);
  return Command{kit, [a, make, admit, revoke] {
                   if (make->parsed()) return RunKitMake(*a);
                   if (admit->parsed()) return RunKitAdmit(*a);
                   if (revoke->parsed()) return RunKitRevoke(*a);
                   return RunKitFingerprint(*a);
                 }};
}

Command AddEnrolCommand(CLI::App& root) {
  auto a = std::make_shared<EnrolArgs>();
  CLI::App* app = root.add_subcommand(
      "enrol", "Enrol this site with its kit: make its own keys, install config and keys");
  app->add_option("--kit", a->options.kit_dir, "the kit folder from the consortium")->required()
      ->check(CLI::ExistingDirectory);
  app->add_option("--config", a->options.config_path, "where to install the site's config")
      ->capture_default_str();
  app->add_option("--coordinator-fingerprint", a->coordinator_fingerprint,
                  "refuse the kit unless its coordinator key has this fingerprint");
  app->add_flag("--new-key", a->options.new_key, "make new keys even if some exist (rotation)");
  app->add_option("--owner", a->owner,
                  "user owning the secret keys (default: fedsmear when run as root; '' = caller)");
  return Command{app, [a] { return RunEnrol(*a); }};
}

}  // namespace fedsmear
