// End-to-end federated runs in one process (harness: federation_harness.h).
#include "client/latent_store.h"
#include "client/optimizer_store.h"
#include "common/file_util.h"
#include "tests/coordinator/federation_harness.h"

namespace fedsmear {
namespace {

using namespace testing_federation;  // NOLINT(build/namespaces): test-local harness

TEST_F(FederationTest, ThreeSitesLearnWellAboveChance) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  std::string endpoint = StartCoordinator(MakeConfig(4, 3, 3));
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 4u);
  for (auto& r : rows) {
    EXPECT_EQ(r["sites_reported"].size(), 3u);
    EXPECT_GT(r["bytes_down"].get<double>(), 0);
    EXPECT_GT(r["bytes_up"].get<double>(), 0);
  }
  // 8 classes: chance is 0.125.
  EXPECT_GT(rows.back()["accuracy"].get<double>(), 0.4) << rows.back().dump();
  EXPECT_TRUE(fs::exists(run_dir_ / "run" / "final.model"));
  EXPECT_TRUE(fs::exists(run_dir_ / "run" / "final.pt"));
  // The sites share their class counts (the default policy), so every train task carries their
  // pooled distribution, and the audit log says so (train.logit_adjustment_prior: pooled).
  std::ifstream audit(run_dir_ / "run" / "audit.jsonl");
  std::string line;
  int tasks = 0, pooled = 0;
  while (std::getline(audit, line)) {
    if (line.find("train task:") == std::string::npos) continue;
    ++tasks;
    if (line.find("toward the pooled class prior") != std::string::npos) ++pooled;
  }
  EXPECT_EQ(tasks, 12) << "4 rounds x 3 sites";
  EXPECT_EQ(pooled, tasks);
}

// FedAvg whose aggregation takes a second, as central evaluation of a large held-out set does.
class SlowFedAvg : public FedAvg {
 public:
  SlowFedAvg() : FedAvg(1.0, 2) {}
  Result<ModelState> Finish(int round, const ModelState& global, const RoundSum& sum) override {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return FedAvg::Finish(round, global, sum);
  }
};

// A coordinator busy for longer than three heartbeats (aggregating, evaluating, writing a
// checkpoint) must count the heartbeats queued meanwhile, or live sites would be judged silent
// and left out of the next round.
TEST_F(FederationTest, BusyCoordinatorDoesNotLoseLiveSites) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(3, 2, 3);
  c.heartbeat_s = 0.1;  // silent after 0.3 s, far less than the 1 s aggregation
  c.train.local_epochs = 1;
  std::string endpoint = StartCoordinator(c, false, std::make_unique<SlowFedAvg>());
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 3u);
  for (auto& r : rows) EXPECT_EQ(r["sites_selected"].size(), 3u) << r.dump();
}

TEST_F(FederationTest, SiteDyingMidRoundDoesNotStallTheRound) {
  auto a = SiteConfig("site-a", 1), b = SiteConfig("site-b", 2), dead = SiteConfig("dies", 3);
  CoordinatorConfig c = MakeConfig(1, 2, 3);
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartSite(b, endpoint);
  StartFake(dead, endpoint, Fake::kVanish);
  auto start = std::chrono::steady_clock::now();
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["sites_reported"].size(), 2u);
  EXPECT_TRUE(rows[0]["sites_failed"].contains("dies")) << rows[0].dump();
  // Noticed by missing heartbeats, long before the 60 s deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(45));
}

TEST_F(FederationTest, SiteThatNeverAnswersHitsTheDeadline) {
  auto a = SiteConfig("site-a", 1), b = SiteConfig("site-b", 2), mute = SiteConfig("mute", 3);
  CoordinatorConfig c = MakeConfig(1, 2, 3);
  c.round_deadline_s = 8;
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartSite(b, endpoint);
  StartFake(mute, endpoint, Fake::kSilentButAlive);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["sites_reported"].size(), 2u);
  EXPECT_EQ(rows[0]["sites_failed"]["mute"], "deadline passed") << rows[0].dump();
  EXPECT_GE(rows[0]["round_s"].get<double>(), 7.5);
}

TEST_F(FederationTest, StaleAndNanUpdatesAreRejected) {
  auto a = SiteConfig("site-a", 1), stale = SiteConfig("stale", 2), nan = SiteConfig("nan", 3);
  CoordinatorConfig c = MakeConfig(1, 1, 3);
  c.round_deadline_s = 8;
  std::string endpoint = StartCoordinator(c);
  StartSite(a, endpoint);
  StartFake(stale, endpoint, Fake::kStaleRound);
  StartFake(nan, endpoint, Fake::kNanUpdate);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["sites_reported"], nlohmann::json::array({"site-a"})) << rows[0].dump();
  EXPECT_NE(rows[0]["sites_failed"]["nan"].get<std::string>().find("NaN"), std::string::npos);
  EXPECT_TRUE(rows[0]["sites_failed"].contains("stale"));  // its update never counted
}

TEST_F(FederationTest, UnknownSiteKeyIsRefused) {
  auto a = SiteConfig("site-a", 1);
  CoordinatorConfig c = MakeConfig(1, 1, 1);
  std::string endpoint = StartCoordinator(c);  // allowlist holds site-a only
  ClientConfig intruder = a;
  KeyPair other = GenerateKeyPair();
  ASSERT_TRUE(WriteKeyPairFiles(other, (root_ / "keys").string(), "intruder", true).ok());
  intruder.secret_key_file = (root_ / "keys" / "intruder.key").string();
  intruder.coordinator = endpoint;
  auto opts = DealerOptionsFromConfig(intruder);
  ASSERT_TRUE(opts.ok());
  auto dealer = DealerEndpoint::Connect(*opts);
  ASSERT_TRUE(dealer.ok());
  wire::Hello h;
  h.site_id = "site-a";  // claims to be an allowed site, with the wrong key
  h.class_names = SynthClassNames("rbc");
  Status st = dealer->Send(wire::Encode({wire::kProtocolVersion, "", h}), milliseconds(1500));
  EXPECT_EQ(st.code(), StatusCode::kTimeout) << st;
  EXPECT_GE(dealer->handshake_failures(), 1u);
  StartSite(a, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_EQ(Metrics().size(), 1u);
}

TEST_F(FederationTest, CoordinatorCrashAndResumeLosesNoRound) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(4, 3, 3);
  c.federated_evaluation = false;
  c.bind = StartCoordinator(c);  // the restarted coordinator binds the same port
  for (auto& s : sites) StartSite(s, c.bind);
  // "Crash" once two rounds are in metrics.jsonl.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (Metrics().size() < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  coordinator_stop_.store(true);
  coordinator_thread_.join();
  coordinator_.reset();
  auto before = Metrics();
  ASSERT_GE(before.size(), 2u);
  // Restart from the checkpoint; the sites are never restarted and must find it again.
  StartCoordinator(c, /*resume=*/true);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["round"].get<int>(), static_cast<int>(i + 1));
    EXPECT_EQ(rows[i]["sites_reported"].size(), 3u) << rows[i].dump();
  }
  // Completed rounds were neither lost nor redone.
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(rows[i], before[i]);
  EXPECT_TRUE(fs::exists(run_dir_ / "run" / "final.model"));

  // A restart on the finished run (a service restarted with --resume-if-present) ends at once
  // instead of waiting for sites that have gone.
  coordinator_.reset();
  const auto restarted = std::chrono::steady_clock::now();
  StartCoordinator(c, /*resume=*/true);
  coordinator_thread_.join();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_LT(std::chrono::steady_clock::now() - restarted, std::chrono::seconds(20));
  EXPECT_EQ(Metrics().size(), 4u);
}

// A site daemon outlives runs (exit_after_run false, the default): after the coordinator's
// Goodbye it waits, and the next run's coordinator on the same address finds every site without
// anyone restarting them.
TEST_F(FederationTest, SiteDaemonsStayUpForTheNextRun) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(1, 3, 3);
  c.federated_evaluation = false;
  c.train.local_epochs = 1;
  c.bind = StartCoordinator(c);  // the second run binds the same port
  for (auto& s : sites) StartSite(s, c.bind);
  coordinator_thread_.join();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  coordinator_.reset();
  ASSERT_EQ(Metrics().size(), 1u);

  c.run_dir = (run_dir_ / "run2").string();
  c.rounds = 2;
  StartCoordinator(c);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  std::vector<nlohmann::json> rows;
  std::ifstream in(run_dir_ / "run2" / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_EQ(r["sites_reported"].size(), 3u) << r.dump();
}

// A site's latent weights and optimizer state belong to the run that trained them: saved with
// that run's id, and a site joining another run starts it without them, then saves under the
// new run's id.
TEST_F(FederationTest, SiteTrainingStateFollowsItsRun) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 2; ++k) {
    ClientConfig s = SiteConfig("site-" + std::to_string(k), k);
    s.state_dir = (run_dir_ / ("state-" + std::to_string(k))).string();
    sites.push_back(s);
  }
  CoordinatorConfig c = MakeConfig(1, 2, 2);
  c.strategy = "fedvote";
  c.codec_down = "sign1+q8";
  c.codec_up = "sign1+q8";
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  auto run_of = [&](const ClientConfig& s) {
    auto saved = LoadLatentState(s.state_dir);
    return saved.ok() && saved->has_value() ? (*saved)->run_id : std::string();
  };
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  const std::string first = run_of(sites[0]);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(run_of(sites[1]), first);
  EXPECT_TRUE(fs::exists(LatentStatePath(sites[0].state_dir)));
  // The sites' Adam moments (train.optimizer_state keep, the default) are saved with the run.
  auto moments = LoadOptimizerState(sites[0].state_dir);
  ASSERT_TRUE(moments.ok() && moments->has_value()) << moments.status();
  EXPECT_EQ((*moments)->run_id, first);
  EXPECT_GT((*moments)->state.step, 0);

  // A damaged state file costs its site the saved state, not the run: site-1's optimizer
  // moments and site-2's latent weights are overwritten with garbage; each site sets the file
  // aside as .corrupt, starts that part fresh and trains the new run.
  ASSERT_TRUE(WriteFileAtomic(OptimizerStatePath(sites[0].state_dir), "not a state").ok());
  ASSERT_TRUE(WriteFileAtomic(LatentStatePath(sites[1].state_dir), "not a model").ok());

  // A new run (new folder, new id): the restarted sites load the first run's weights from disk,
  // and set them aside when the new run's first task arrives.
  c.run_dir = (run_dir_ / "run2").string();
  stop_.store(false);
  endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  const std::string second = run_of(sites[0]);
  EXPECT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_EQ(run_of(sites[1]), second);
  EXPECT_EQ(ReadFile(OptimizerStatePath(sites[0].state_dir) + ".corrupt").value_or(""),
            "not a state");
  EXPECT_EQ(ReadFile(LatentStatePath(sites[1].state_dir) + ".corrupt").value_or(""),
            "not a model");
  for (const ClientConfig& s : sites) {
    moments = LoadOptimizerState(s.state_dir);
    ASSERT_TRUE(moments.ok() && moments->has_value()) << s.site_id << ": " << moments.status();
    EXPECT_EQ((*moments)->run_id, second) << s.site_id;
  }
}

// bn_recalibration_images: after each round every site computes the new model's batch-norm
// statistics on its training images and the coordinator pools them, also when federated
// evaluation is off; the metrics line says how many sites and images, and what it cost.
TEST_F(FederationTest, BatchNormRecalibrationPoolsEverySite) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(2, 3, 3);
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  c.bn_recalibration_images = 40;
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 2u);
  for (auto& r : rows) {
    ASSERT_TRUE(r.contains("bn_recalibration")) << r.dump();
    EXPECT_FALSE(r.contains("federated")) << "federated evaluation is off";
    const auto& b = r["bn_recalibration"];
    EXPECT_EQ(b["sites"].get<int>(), 3);
    // Each site gives min(40, its training images), all of them readable here.
    EXPECT_GT(b["images"].get<int>(), 3 * 32);
    EXPECT_LE(b["images"].get<int>(), 3 * 40);
    EXPECT_GT(b["bytes_up"].get<double>(), 0);
    EXPECT_GT(r["bytes_eval_down"].get<double>(), 0);
    // The recalibration stage's time is counted in the record, after the training round's.
    EXPECT_GT(r["eval_s"].get<double>(), 0);
  }
}

}  // namespace
}  // namespace fedsmear
