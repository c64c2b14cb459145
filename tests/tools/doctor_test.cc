// `fedsmear doctor`'s checks: config, key permissions, the data folder, and the coordinator's
// reachability and key, against a real CurveZMQ router on loopback; the placeholder site id, a
// loopback coordinator address, a plan waiting for approval and keys the service account cannot
// open (tools/doctor_checks.h), and the long-lived coordinator's jobs folder, status endpoint and
// queued jobs (tools/doctor_jobs.cc).
#include "tools/doctor.h"
#include "tools/doctor_checks.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/governance/plan.h"
#include "common/net/keys.h"
#include "common/net/router.h"
#include "coordinator/jobs/job_queue.h"
#include "data/synth.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fedsmear_doctor_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    SynthOptions s;
    s.per_class = 3;
    s.size = 32;
    ASSERT_TRUE(WriteSynthDataset(s, (dir_ / "data").string()).ok());
    std::ofstream(dir_ / "data" / "normal" / "broken.png") << "not an image";
    coordinator_ = GenerateKeyPair();
    site_ = GenerateKeyPair();
    ASSERT_TRUE(WriteKeyPairFiles(coordinator_, (dir_ / "keys").string(), "coordinator", true).ok());
    ASSERT_TRUE(WriteKeyPairFiles(site_, (dir_ / "keys").string(), "site-1", true).ok());
    const SigningKeyHex sign{std::string(64, 'a'), std::string(64, 'b')};
    ASSERT_TRUE(WriteSigningKeyFiles(sign, (dir_ / "keys").string(), "site-1", true).ok());
    std::ofstream(dir_ / "roster") << "site-1 " << sign.public_key << "\nsite-2 "
                                   << std::string(64, 'c') << "\nsite-3 " << std::string(64, 'd')
                                   << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteConfig(const std::string& coordinator, const std::string& extra = "") {
    const std::string path = (dir_ / "client.yaml").string();
    std::ofstream(path) << "site_id: site-1\ncoordinator: " << coordinator
                        << "\nsecret_key_file: " << (dir_ / "keys" / "site-1.key").string()
                        << "\ncoordinator_public_key_file: "
                        << (dir_ / "keys" / "coordinator.pub").string() << "\ndata:\n  root: "
                        << (dir_ / "data").string()
                        << "\nsigning_key_file: " << (dir_ / "keys" / "site-1.sign.key").string()
                        << "\npolicy:\n  secagg_roster_file: " << (dir_ / "roster").string()
                        << "\n" << extra;
    return path;
  }

  // A coordinator config with this fixture's key and run folder and the allowlist at `allowlist`.
  std::string CoordinatorYaml(const std::string& allowlist) {
    return "secret_key_file: " + (dir_ / "keys" / "coordinator.key").string() +
           "\nallowed_sites_file: " + allowlist + "\nrun_dir: " + (dir_ / "run").string() + "\n";
  }

  RouterEndpoint Router(bool allow_site) {
    RouterOptions ro;
    ro.endpoint = "tcp://127.0.0.1:*";
    ro.server_keys = coordinator_;
    if (allow_site) ro.allowed_sites = {{"site-1", site_.public_key, ""}};
    auto router = RouterEndpoint::Bind(ro);
    EXPECT_TRUE(router.ok()) << router.status();
    return std::move(*router);
  }

  // These tests run their coordinator on loopback and check no service account.
  static DoctorOptions OnOneHost() {
    DoctorOptions o;
    o.allow_loopback = true;
    o.service_user = "";
    return o;
  }

  // A finding whose text holds `text` exists and has `level`.
  static void ExpectFinding(const std::vector<DoctorFinding>& f, const std::string& text,
                            DoctorFinding::Level level) {
    const DoctorFinding* x = Find(f, text);
    ASSERT_NE(x, nullptr) << text << "\n" << FormatFindings(f);
    EXPECT_EQ(x->level, level) << text;
  }

  static const DoctorFinding* Find(const std::vector<DoctorFinding>& f, const std::string& text) {
    for (const auto& x : f) {
      if (x.what.find(text) != std::string::npos) return &x;
    }
    return nullptr;
  }

  fs::path dir_;
  KeyPair coordinator_, site_;
};

TEST_F(DoctorTest, HealthySiteWithAReachableCoordinator) {
  RouterEndpoint router = Router(true);
  DoctorOptions o = OnOneHost();
  o.network_timeout_s = 5;
  auto f = CheckSite(WriteConfig(router.endpoint()), o);
  const std::string text = FormatFindings(f);
  EXPECT_FALSE(HasFailures(f)) << text;
  const DoctorFinding* data = Find(f, "image");
  ASSERT_NE(data, nullptr) << text;
  EXPECT_EQ(data->level, DoctorFinding::kOk);
  EXPECT_NE(data->what.find("normal 3"), std::string::npos) << data->what;
  const DoctorFinding* skipped = Find(f, "1 file skipped");
  ASSERT_NE(skipped, nullptr) << text;
  EXPECT_NE(skipped->what.find("broken.png"), std::string::npos);
  const DoctorFinding* accepted = Find(f, "accepted the encrypted connection");
  ASSERT_NE(accepted, nullptr) << text;
  EXPECT_EQ(accepted->level, DoctorFinding::kOk);
}

TEST_F(DoctorTest, SiteNotOnTheAllowlistIsExplained) {
  RouterEndpoint router = Router(false);
  DoctorOptions o = OnOneHost();
  o.network_timeout_s = 5;
  auto f = CheckSite(WriteConfig(router.endpoint()), o);
  const DoctorFinding* refused = Find(f, "did not accept the encrypted connection");
  ASSERT_NE(refused, nullptr) << FormatFindings(f);
  EXPECT_EQ(refused->level, DoctorFinding::kFail);
  EXPECT_NE(refused->fix.find("allowed_sites"), std::string::npos) << refused->fix;
}

TEST_F(DoctorTest, WrongCoordinatorKeyIsExplained) {
  RouterEndpoint router = Router(true);
  // The site pins another coordinator's key.
  ASSERT_TRUE(WriteKeyPairFiles(GenerateKeyPair(), (dir_ / "keys").string(), "coordinator", true).ok());
  DoctorOptions o = OnOneHost();
  o.network_timeout_s = 3;
  auto f = CheckSite(WriteConfig(router.endpoint()), o);
  EXPECT_TRUE(HasFailures(f));
  EXPECT_EQ(Find(f, "accepted the encrypted connection"), nullptr) << FormatFindings(f);
  const std::string text = FormatFindings(f);
  EXPECT_NE(text.find("coordinator_public_key_file"), std::string::npos) << text;
}

TEST_F(DoctorTest, UnreachableCoordinatorAndLooseKeyPermissions) {
  fs::permissions(dir_ / "keys" / "site-1.key", fs::perms::others_read, fs::perm_options::add);
  DoctorOptions o = OnOneHost();
  o.network_timeout_s = 2;
  // Port 1 on loopback: nothing listens there.
  auto f = CheckSite(WriteConfig("tcp://127.0.0.1:1"), o);
  const DoctorFinding* key = Find(f, "can be read by other users");
  ASSERT_NE(key, nullptr) << FormatFindings(f);
  EXPECT_EQ(key->level, DoctorFinding::kFail);
  EXPECT_NE(key->fix.find("chmod 600"), std::string::npos);
  const DoctorFinding* net = Find(f, "cannot reach the coordinator");
  ASSERT_NE(net, nullptr) << FormatFindings(f);
  EXPECT_NE(net->fix.find("firewall"), std::string::npos);
}

TEST_F(DoctorTest, BrokenConfigAndEmptyDataFolder) {
  auto bad = CheckSite(WriteConfig("tcp://127.0.0.1:1", "colour: blue\n"), DoctorOptions{});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].level, DoctorFinding::kFail);
  EXPECT_NE(bad[0].what.find("colour"), std::string::npos) << bad[0].what;

  fs::create_directories(dir_ / "empty");
  const std::string path = WriteConfig("tcp://127.0.0.1:1");
  std::string text = ReadFile(path).value();
  text.replace(text.find((dir_ / "data").string()), (dir_ / "data").string().size(),
               (dir_ / "empty").string());
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  DoctorOptions offline;
  offline.check_network = false;
  auto f = CheckSite(path, offline);
  const std::string report = FormatFindings(f);
  EXPECT_TRUE(HasFailures(f)) << report;
  // An empty folder is either unreadable as a dataset or holds no images: both name it.
  EXPECT_NE(report.find("[FAIL] data folder " + (dir_ / "empty").string()), std::string::npos)
      << report;
}

// The coordinator's strategy and codecs are checked against the registries, with their names.
TEST_F(DoctorTest, UnknownStrategyNamesTheRegistry) {
  const std::string path = (dir_ / "coordinator.yaml").string();
  ASSERT_TRUE(WriteFileAtomic(path, "insecure: true\nstrategy: fedsgd\n").ok());
  auto f = CheckCoordinator(path, DoctorOptions{});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, DoctorFinding::kFail);
  EXPECT_NE(f[0].what.find("fedavg | fedprox | fedadam | fedavgm"), std::string::npos) << f[0].what;
}

TEST_F(DoctorTest, PlaceholderSiteIdFails) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  const std::string path = WriteConfig("tcp://coordinator.example.org:7878");
  std::string text = *ReadFile(path);
  text.replace(text.find("site_id: site-1"), 15, "site_id: site-a");
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  auto f = CheckSite(path, o);
  ExpectFinding(f, "placeholder", DoctorFinding::kFail);
  EXPECT_TRUE(HasFailures(f));
  EXPECT_EQ(Find(CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o), "placeholder"),
            nullptr);
}

TEST_F(DoctorTest, LoopbackCoordinatorSeenFromASiteFails) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  o.allow_loopback = false;
  for (const char* endpoint :
       {"tcp://127.0.0.1:7878", "tcp://localhost:7878", "tcp://[::1]:7878"}) {
    auto f = CheckSite(WriteConfig(endpoint), o);
    const DoctorFinding* loop = Find(f, "loopback");
    ASSERT_NE(loop, nullptr) << endpoint << "\n" << FormatFindings(f);
    EXPECT_EQ(loop->level, DoctorFinding::kFail);
    EXPECT_NE(loop->what.find("cannot be reached by other hosts"), std::string::npos);
    EXPECT_TRUE(HasFailures(f));
  }
  auto remote = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  EXPECT_FALSE(HasFailures(remote)) << FormatFindings(remote);
  o.allow_loopback = true;
  auto trial = CheckSite(WriteConfig("tcp://127.0.0.1:7878"), o);
  EXPECT_FALSE(HasFailures(trial)) << FormatFindings(trial);

  // The coordinator's own config bound to loopback is a warning.
  const std::string coord = (dir_ / "coordinator.yaml").string();
  ASSERT_TRUE(WriteFileAtomic(coord, "insecure: true\nbind: tcp://127.0.0.1:7878\nrun_dir: " +
                                         (dir_ / "run").string() + "\n")
                  .ok());
  auto c = CheckCoordinator(coord, o);
  ExpectFinding(c, "only this machine can connect", DoctorFinding::kWarn);
}

TEST_F(DoctorTest, PlanWaitingForApprovalFails) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  const std::string state = (dir_ / "state").string();
  const std::string path = WriteConfig("tcp://coordinator.example.org:7878",
                                       "state_dir: " + state + "\n");
  auto none = CheckSite(path, o);
  ASSERT_NE(Find(none, "no training plan received yet"), nullptr) << FormatFindings(none);
  EXPECT_FALSE(HasFailures(none)) << FormatFindings(none);

  CoordinatorConfig cc;
  const TrainingPlan plan = MakePlan(cc, PlanFacts{true});
  ASSERT_TRUE(WriteFileAtomic(state + "/pending_plan", plan.bytes).ok());  // as the daemon stores it
  auto pending = CheckSite(path, o);
  const DoctorFinding* wait = Find(pending, "waiting for this site's approval");
  ASSERT_NE(wait, nullptr) << FormatFindings(pending);
  EXPECT_EQ(wait->level, DoctorFinding::kFail);
  EXPECT_NE(wait->what.find(plan.hash), std::string::npos);
  EXPECT_NE(wait->fix.find("plan approve " + plan.hash), std::string::npos) << wait->fix;

  ASSERT_TRUE(WriteFileAtomic(state + "/approved_plans", plan.hash + "  # approved by test\n").ok());
  auto approved = CheckSite(path, o);
  EXPECT_FALSE(HasFailures(approved)) << FormatFindings(approved);
  EXPECT_NE(Find(approved, "is approved"), nullptr);
}

TEST_F(DoctorTest, KeyTheServiceAccountCannotOpenFails) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to open files as another account";
  struct passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' to stand for the service account";
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  o.service_user = "nobody";
  std::error_code ec;
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec, ec);
  fs::permissions(dir_ / "keys", fs::perms::owner_all | fs::perms::others_exec, ec);
  const std::string key = (dir_ / "keys" / "site-1.key").string();
  // root:root 0600: mode fine, yet the account the daemon runs as cannot open it.
  auto f = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  const DoctorFinding* denied = Find(f, "cannot open secret key");
  ASSERT_NE(denied, nullptr) << FormatFindings(f);
  EXPECT_EQ(denied->level, DoctorFinding::kFail);
  EXPECT_NE(denied->what.find("Permission denied"), std::string::npos) << denied->what;
  EXPECT_NE(denied->fix.find("chown nobody"), std::string::npos) << denied->fix;
  EXPECT_NE(Find(f, "Permission denied"), nullptr);

  ASSERT_EQ(::chown(key.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  const std::string sign_key = (dir_ / "keys" / "site-1.sign.key").string();
  ASSERT_EQ(::chown(sign_key.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  const std::string pub = (dir_ / "keys" / "coordinator.pub").string();
  fs::permissions(pub, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read, ec);
  auto fixed = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  EXPECT_FALSE(HasFailures(fixed)) << FormatFindings(fixed);
  EXPECT_NE(Find(fixed, "nobody can open secret key"), nullptr) << FormatFindings(fixed);
}

TEST_F(DoctorTest, ServiceAccountCheckSaysWhenItCannotCheck) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  o.service_user = "no-such-user-fedsmear";
  auto f = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  ExpectFinding(f, "there is no user no-such-user-fedsmear", DoctorFinding::kWarn);
  if (::geteuid() == 0) return;  // the not-root message needs a user other than the caller
  struct passwd* root = ::getpwuid(0);
  ASSERT_NE(root, nullptr);
  o.service_user = root->pw_name;
  auto g = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  EXPECT_NE(Find(g, "cannot check as the service account"), nullptr) << FormatFindings(g);
}

// Issue 34: doctor warns about every setting weaker than the secure defaults, at the site and at
// the coordinator, and fails what cannot work.
TEST_F(DoctorTest, WeakerSecuritySettingsAreNamed) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  auto strict = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  ExpectFinding(strict, "secure aggregation required", DoctorFinding::kOk);

  const std::string path = WriteConfig("tcp://coordinator.example.org:7878");
  std::string text = *ReadFile(path);
  text.replace(text.find("policy:\n"), 8,
               "policy:\n  require_secure_aggregation: false\n  require_secagg_roster: false\n");
  ASSERT_TRUE(WriteFileAtomic(path, text.substr(0, text.find("  secagg_roster_file:")) +
                                        "  secagg_roster_file: \"\"\n").ok());
  auto weak = CheckSite(path, o);
  ExpectFinding(weak, "answers plain rounds", DoctorFinding::kWarn);
  ExpectFinding(weak, "no consortium roster", DoctorFinding::kWarn);

  std::ofstream(dir_ / "roster") << "site-2 " << std::string(64, 'c') << "\n";
  auto stranger = CheckSite(WriteConfig("tcp://coordinator.example.org:7878"), o);
  ASSERT_NE(Find(stranger, "does not list this site"), nullptr) << FormatFindings(stranger);
  EXPECT_TRUE(HasFailures(stranger));

  const std::string coordinator = (dir_ / "coordinator.yaml").string();
  ASSERT_TRUE(WriteFileAtomic(dir_.string() + "/allowed",
                              "site-1 " + site_.public_key + " " + std::string(64, 'a') +
                                  "\nsite-2 " + coordinator_.public_key + "\n")
                  .ok());
  const std::string base = CoordinatorYaml((dir_ / "allowed").string());
  ASSERT_TRUE(WriteFileAtomic(coordinator, base).ok());
  auto few = CheckCoordinator(coordinator, o);
  ExpectFinding(few, "needs at least 3 sites with a signing key", DoctorFinding::kFail);
  ASSERT_TRUE(WriteFileAtomic(coordinator, base + "secure_aggregation: off\n").ok());
  auto off = CheckCoordinator(coordinator, o);
  ExpectFinding(off, "reads every site's update", DoctorFinding::kWarn);
}

// A status page or /metrics beyond loopback without a token is a failure: site ids, refusal
// reasons and scores for anyone who reaches the address.
TEST_F(DoctorTest, OpenStatusEndpointWithoutATokenFails) {
  std::vector<DoctorFinding> out;
  CheckHttpEndpoint({true, "127.0.0.1:9464", ""}, "the status page and /metrics", &out);
  CheckHttpEndpoint({true, "[::1]:9464", ""}, "the status page and /metrics", &out);
  CheckHttpEndpoint({false, "0.0.0.0:9464", ""}, "the status page and /metrics", &out);
  EXPECT_TRUE(out.empty()) << FormatFindings(out);
  CheckHttpEndpoint({true, "0.0.0.0:9464", ""}, "the status page and /metrics", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].level, DoctorFinding::kFail);
  EXPECT_NE(out[0].what.find("without a token"), std::string::npos) << out[0].what;
  out.clear();
  CheckHttpEndpoint({true, ":9100", "/etc/fedsmear/metrics.token"}, "the site's /metrics", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].level, DoctorFinding::kInfo);
}

// The long-lived coordinator as its service runs it: a jobs folder open to every user fails (anyone
// could queue a run), a status endpoint beyond loopback without its token fails, and a queued job
// whose config names a missing allowlist is named by its id; chmod 0770 leaves a warning (no
// setgid bit); after chmod 2770, a loopback endpoint and a repaired config nothing fails.
TEST_F(DoctorTest, JobServiceFolderEndpointAndQueuedJobs) {
  DoctorOptions o = OnOneHost();
  o.check_network = false;
  const std::string jobs = (dir_ / "jobs").string();
  JobServiceSettings s{jobs, "0.0.0.0:9464", ""};
  auto missing = CheckJobService(s, o);
  ASSERT_NE(Find(missing, "does not exist"), nullptr) << FormatFindings(missing);
  EXPECT_TRUE(HasFailures(missing));
  EXPECT_FALSE(fs::exists(jobs)) << "doctor made the jobs folder";

  Result<JobQueue> queue = JobQueue::Open(jobs);
  ASSERT_TRUE(queue.ok()) << queue.status();
  fs::permissions(jobs, fs::perms::all);
  ASSERT_TRUE(queue->SubmitText(CoordinatorYaml((dir_ / "no-such-allowlist").string()), "trial")
                  .ok());
  auto open = CheckJobService(s, o);
  ExpectFinding(open, "open to every user", DoctorFinding::kFail);
  ExpectFinding(open, "without a token", DoctorFinding::kFail);
  EXPECT_EQ(fs::status(jobs).permissions(), fs::perms::all) << "doctor changed the folder's mode";
  ExpectFinding(open, "job-0001 (trial): the site allowlist cannot be used", DoctorFinding::kFail);

  fs::permissions(jobs, fs::perms::owner_all | fs::perms::group_all);
  ASSERT_TRUE(WriteFileAtomic(dir_.string() + "/allowed",
                              "site-1 " + site_.public_key + " " + std::string(64, 'a') + "\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(jobs + "/job-0001/config.yaml",
                              CoordinatorYaml((dir_ / "allowed").string()) +
                                  "secure_aggregation: off\n")
                  .ok());
  s.status_bind = "127.0.0.1:9464";
  ExpectFinding(CheckJobService(s, o), "does not pass its group on", DoctorFinding::kWarn);
  fs::permissions(jobs, fs::perms::set_gid, fs::perm_options::add);
  auto fixed = CheckJobService(s, o);
  EXPECT_FALSE(HasFailures(fixed)) << FormatFindings(fixed);
  ASSERT_NE(Find(fixed, "open to its owner and group only"), nullptr) << FormatFindings(fixed);
  ASSERT_NE(Find(fixed, "1 job(s) in"), nullptr) << FormatFindings(fixed);
}

}  // namespace
}  // namespace fedsmear
