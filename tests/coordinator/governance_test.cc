// End to end: a site that has not approved the run's training plan refuses its tasks while the
// others train; once its operator approves the plan it joins the next round. Every site's and
// the coordinator's audit log verifies (harness: federation_harness.h).
#include <sstream>

#include "client/site_plan.h"
#include "common/governance/audit_log.h"
#include "coordinator/run_plan.h"
#include "tests/coordinator/federation_harness.h"

namespace fedsmear {
namespace {

using namespace testing_federation;  // NOLINT(build/namespaces): test-local harness

// The site's audit entries of `kind` (all files of its log).
std::vector<nlohmann::json> Entries(const std::string& path, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const std::string& file : AuditFiles(path)) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      auto e = nlohmann::json::parse(line);
      if (e["kind"] == kind) out.push_back(e);
    }
  }
  return out;
}

// The plan the coordinator of `c` runs under, as `fedsmear plan show` prints it for approval.
TrainingPlan RunPlan(const CoordinatorConfig& c) {
  Result<TrainingPlan> plan = MakeRunPlan(c);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : TrainingPlan{};
}

TEST_F(FederationTest, UnapprovedSiteIsRefusedThenJoinsAfterApproval) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) {
    ClientConfig s = SiteConfig("site-" + std::to_string(k), k);
    s.policy.require_plan_approval = true;
    s.state_dir = (run_dir_ / ("state-" + std::to_string(k))).string();
    sites.push_back(s);
  }
  CoordinatorConfig c = MakeConfig(3, 2, 3);  // after SiteConfig: it writes the allowlist
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  c.wait_for_sites_s = 3;  // then round 1 starts with the two ready sites
  const TrainingPlan plan = RunPlan(c);
  for (int k = 0; k < 2; ++k) {  // site-3 has not approved the plan
    EXPECT_TRUE(AppendApprovedPlan(ApprovedPlansPath(sites[k].state_dir), plan.hash, "test").ok());
  }
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);

  // site-3 says with its heartbeats that the plan waits for its approval, so round 1 runs with
  // the two others (none of its tasks is refused); its operator approves once round 1 is over, as
  // `fedsmear-client plan approve HASH` would, and site-3 joins the next rounds.
  const ClientConfig& late = sites[2];
  const std::string late_log = SiteAuditLogPath(late);
  bool round_one = false;
  for (int i = 0; i < 1200 && !round_one; ++i) {
    round_one = !Metrics().empty();
    if (!round_one) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(round_one) << "round 1 never completed";
  std::ostringstream out;
  ASSERT_TRUE(ApprovePendingPlan(late, plan.hash, out).ok());
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;

  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 3u);
  // site-3 may be selected before its first heartbeat says it waits; then it refuses, and that
  // is not counted as a failure either.
  EXPECT_EQ(rows[0]["sites_reported"].size(), 2u) << rows[0].dump();
  EXPECT_FALSE(rows[0].contains("sites_failed") && rows[0]["sites_failed"].contains("site-3"))
      << "a site waiting for approval is not a failure: " << rows[0].dump();
  int joined = 0;
  for (size_t r = 1; r < rows.size(); ++r) joined += rows[r]["sites_reported"].size() == 3u;
  EXPECT_GE(joined, 1) << rows[1].dump() << rows[2].dump();

  // Every site's log verifies; site-3's shows the refusal, the approval and its later updates.
  for (const auto& s : sites) {
    auto summary = VerifyAudit(AuditFiles(SiteAuditLogPath(s)));
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_TRUE(summary->chain_ok) << s.site_id << "\n" << FormatAuditSummary(*summary);
    EXPECT_EQ(summary->plain_updates_while_secure_required, 0u);
    EXPECT_TRUE(summary->plans.count(plan.hash)) << FormatAuditSummary(*summary);
    if (s.site_id != "site-3") {
      EXPECT_EQ(summary->sent_by_message["update"], 3u) << FormatAuditSummary(*summary);
    }
  }
  auto refusals = Entries(late_log, "sent");
  bool refusal_logged = false;
  for (const auto& e : refusals) {
    refusal_logged |= e["fields"]["message"] == "refusal" &&
                      e["fields"]["description"].get<std::string>().find(plan.hash) !=
                          std::string::npos;
  }
  EXPECT_TRUE(refusal_logged);
  EXPECT_EQ(Entries(late_log, "plan_approved").size(), 1u);

  // The coordinator's log holds what it received and decided, chained.
  const std::string coord_log = (run_dir_ / "run" / "audit.jsonl").string();
  auto coord = VerifyAudit(AuditFiles(coord_log));
  ASSERT_TRUE(coord.ok());
  EXPECT_TRUE(coord->chain_ok) << FormatAuditSummary(*coord);
  EXPECT_EQ(coord->kinds["round_closed"], 3u);
  EXPECT_GE(coord->kinds["received"], 8u);  // 3 hellos, 8 updates, refusals
  EXPECT_EQ(coord->messages_received, coord->kinds["received"]);
  EXPECT_GT(coord->bytes_received, 0u);
  auto closed = Entries(coord_log, "round_closed");
  ASSERT_EQ(closed.size(), 3u);
  EXPECT_TRUE(closed[0]["fields"]["failures"].empty()) << closed[0].dump();
  EXPECT_EQ(closed[0]["fields"]["plan_hash"], plan.hash);
  EXPECT_TRUE(fs::exists(run_dir_ / "run" / "plan.json"));
}

// Approval is a state, not a failure: with every site needed and one waiting for its operator,
// the run waits (no retry is used: max_round_retries 0) and completes once the site approves;
// when nobody approves within approval_wait_s, the run ends naming the site and the plan.
TEST_F(FederationTest, RoundWaitsForAPendingApproval) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) {
    ClientConfig s = SiteConfig("site-" + std::to_string(k), k);
    s.policy.require_plan_approval = true;
    s.state_dir = (run_dir_ / ("state-" + std::to_string(k))).string();
    sites.push_back(s);
  }
  CoordinatorConfig c = MakeConfig(2, 3, 3);
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  c.max_round_retries = 0;
  c.wait_for_sites_s = 2;
  c.approval_wait_s = 120;
  const TrainingPlan plan = RunPlan(c);
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(AppendApprovedPlan(ApprovedPlansPath(sites[k].state_dir), plan.hash, "test").ok());
  }
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // past wait_for_sites_s
  std::ostringstream out;
  ASSERT_TRUE(ApprovePendingPlan(sites[2], plan.hash, out).ok());
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_EQ(r["sites_reported"].size(), 3u) << r.dump();

  // Nobody approves: the run ends after approval_wait_s, naming who and which plan.
  stop_.store(false);
  ClientConfig never = sites[2];
  never.state_dir = (run_dir_ / "state-never").string();
  c.run_dir = (run_dir_ / "never").string();
  c.approval_wait_s = 3;
  const TrainingPlan plan2 = RunPlan(c);
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(AppendApprovedPlan(ApprovedPlansPath(sites[k].state_dir), plan2.hash, "t").ok());
  }
  endpoint = StartCoordinator(c);
  StartSite(sites[0], endpoint);
  StartSite(sites[1], endpoint);
  StartSite(never, endpoint);
  Finish();
  EXPECT_EQ(run_status_.code(), StatusCode::kUnavailable) << run_status_;
  EXPECT_NE(run_status_.message().find("site-3 did not approve training plan " + plan2.hash),
            std::string::npos)
      << run_status_;
}

// The allowlist reloads without a restart; the coordinator's audit log names each version a round
// ran under (its hash and site ids), so an admission or a revocation is on the record.
TEST_F(FederationTest, AllowlistChangesAreAudited) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 2; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(4, 2, 2);
  c.train.local_epochs = 1;
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  bool round_one = false;
  for (int i = 0; i < 1200 && !round_one; ++i) {
    round_one = !Metrics().empty();
    if (!round_one) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(round_one) << "round 1 never completed";
  // The operator admits a third site while the run goes on (as `fedsmear kit admit` does).
  SiteConfig("site-3", 3);
  ASSERT_TRUE(WriteFileAtomic((run_dir_ / "allowed").string(), allowed_).ok());
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  const std::string audit = (fs::path(c.run_dir) / "audit.jsonl").string();
  auto changes = Entries(audit, "allowlist_changed");
  ASSERT_EQ(changes.size(), 1u);
  const auto& f = changes[0]["fields"];
  EXPECT_GE(f["round"].get<int>(), 2);
  EXPECT_EQ(f["sites"], nlohmann::json({"site-1", "site-2", "site-3"}));
  auto start = Entries(audit, "start");
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0]["fields"]["allowed_sites_sha256"], f["previous_sha256"]);
  EXPECT_NE(f["allowed_sites_sha256"], f["previous_sha256"]);
}

// Under secure aggregation with sign votes every update leaves the site masked, and the audit
// log says so in words; the verifier counts no plain update.
TEST_F(FederationTest, SecureRoundsAreAuditedAsMaskedSignVotes) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) {
    ClientConfig s = SiteConfig("site-" + std::to_string(k), k);
    s.policy.require_plan_approval = true;
    s.state_dir = (run_dir_ / ("state-" + std::to_string(k))).string();
    sites.push_back(s);
  }
  CoordinatorConfig c = MakeConfig(2, 3, 3);
  c.secure_aggregation = SecureAggregation::kSecAggPlus;
  c.secagg_stage_deadline_s = 20;
  c.strategy = "fedvote";
  c.codec_down = "sign1+f16";
  c.codec_up = "sign1+f16";
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  const TrainingPlan plan = RunPlan(c);
  for (const auto& s : sites) {
    EXPECT_TRUE(AppendApprovedPlan(ApprovedPlansPath(s.state_dir), plan.hash, "test").ok());
  }
  std::string endpoint = StartCoordinator(c);
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  ASSERT_EQ(Metrics().size(), 2u);
  for (const auto& s : sites) {
    auto summary = VerifyAudit(AuditFiles(SiteAuditLogPath(s)));
    ASSERT_TRUE(summary.ok());
    EXPECT_TRUE(summary->chain_ok) << FormatAuditSummary(*summary);
    EXPECT_EQ(summary->sent_by_message["update"], 2u) << FormatAuditSummary(*summary);
    EXPECT_EQ(summary->plain_updates_while_secure_required, 0u);
    EXPECT_GE(summary->secure_sent, 6u);  // keys, shares, masked vector per round
    bool described = false;
    for (const auto& e : Entries(SiteAuditLogPath(s), "sent")) {
      if (e["fields"]["message"] != "update") continue;
      EXPECT_EQ(e["fields"]["message_kind"], "secaggMasked");
      EXPECT_TRUE(e["fields"]["secure"].get<bool>());
      const std::string words = e["fields"]["description"];
      described = words.find("sign votes of ") == 0 &&
                  words.find(" binary weights packed ") != std::string::npos &&
                  words.find("masked") != std::string::npos;
    }
    EXPECT_TRUE(described);
  }
}

}  // namespace
}  // namespace fedsmear
