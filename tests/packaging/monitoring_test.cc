// packaging/monitoring: the alert rules pass `promtool check rules` and their unit tests
// (`promtool test rules`, skipped with the reason when promtool is absent: Debian package
// `prometheus`), and every series the dashboard and the rules name is one the coordinator
// exports, so a renamed metric cannot leave a panel or an alert silently empty.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <regex>
#include <set>

#include "common/file_util.h"
#include "common/process.h"
#include "coordinator/status/status_model.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

const std::string kDir = std::string(FEDSMEAR_SOURCE_DIR) + "/packaging/monitoring/";

// Runs promtool with `args`; returns its exit code and leaves its output in *out.
int Promtool(const std::string& promtool, std::vector<std::string> args, std::string* out) {
  testing::TempDir dir("fedsmear-promtool");
  args.insert(args.begin(), promtool);
  auto child = ChildProcess::Spawn(args, dir.Sub("log"));
  if (!child.ok()) {
    *out = child.status().message();
    return -1;
  }
  std::optional<int> code = child->Wait(std::chrono::milliseconds(120000));
  if (!code) code = child->Stop();
  *out = ReadFile(dir.Sub("log")).value_or("");
  return *code;
}

TEST(MonitoringTest, AlertRulesPassPromtool) {
  Result<std::string> promtool = FindProgram("promtool");
  if (!promtool.ok()) GTEST_SKIP() << "promtool is not installed (Debian package `prometheus`)";
  std::string out;
  EXPECT_EQ(Promtool(*promtool, {"check", "rules", kDir + "fedsmear-alerts.yml"}, &out), 0) << out;
  EXPECT_NE(out.find("SUCCESS: 5 rules found"), std::string::npos) << out;
  EXPECT_EQ(Promtool(*promtool, {"test", "rules", kDir + "fedsmear-alerts.test.yml"}, &out), 0)
      << out;
  EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
}

// The metric names in a PromQL expression (fedsmear_* and process_*), histogram suffixes off.
void CollectNames(const std::string& expr, std::set<std::string>* names) {
  static const std::regex kName(R"(\b((fedsmear|process)_[a-z0-9_]+))");
  for (std::sregex_iterator it(expr.begin(), expr.end(), kName), end; it != end; ++it) {
    std::string name = (*it)[1];
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      const std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
          name.rfind("fedsmear_round_duration_seconds", 0) == 0) {
        name.resize(name.size() - s.size());
      }
    }
    names->insert(name);
  }
}

// A coordinator's exposition after a round with an evaluation, a refusal and a failure.
std::string Exported() {
  StatusRunInfo info;
  info.run_id = "run-monitoring";
  info.rounds_planned = 2;
  StatusModel m(info);
  m.SiteJoined("a", 10, 1);
  m.RoundStarted(1, {"a"});
  nlohmann::ordered_json line = {{"round", 1}, {"sites_selected", {"a"}},
                                 {"sites_reported", {"a"}}, {"accuracy", 0.5},
                                 {"macro_f1", 0.4}, {"round_s", 2.0},
                                 {"central", {{"h", {{"accuracy", 0.5}, {"macro_f1", 0.4}}}}}};
  m.RoundFinished(line, {{"a", PermissionDenied("busy with another task")}});
  return m.PrometheusText();
}

void ExpectExported(const std::set<std::string>& names, const std::string& where) {
  const std::string text = Exported();
  ASSERT_FALSE(names.empty()) << where;
  for (const std::string& name : names) {
    EXPECT_NE(text.find("# TYPE " + name + " "), std::string::npos)
        << where << " uses " << name << ", which the coordinator does not export";
  }
}

TEST(MonitoringTest, DashboardShowsExportedSeries) {
  Result<std::string> text = ReadFile(kDir + "fedsmear-dashboard.json");
  ASSERT_TRUE(text.ok()) << text.status();
  const nlohmann::json dash = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_FALSE(dash.is_discarded()) << "the dashboard is not valid JSON";
  EXPECT_EQ(dash["uid"], "fedsmear-coordinator");
  std::set<int> ids;
  std::set<std::string> names;
  int targets = 0;
  for (const auto& panel : dash["panels"]) {
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate panel id " << panel["id"];
    if (panel["type"] == "row") continue;
    EXPECT_EQ(panel["datasource"]["uid"], "${datasource}") << panel["title"];
    ASSERT_FALSE(panel["targets"].empty()) << panel["title"];
    for (const auto& t : panel["targets"]) {
      ++targets;
      CollectNames(t["expr"].get<std::string>(), &names);
    }
  }
  EXPECT_GE(targets, 20);
  for (const char* needed : {"fedsmear_site_up", "fedsmear_site_last_seen_timestamp_seconds",
                             "fedsmear_central_accuracy_ratio", "fedsmear_site_refusals_total",
                             "fedsmear_build_info", "process_resident_memory_bytes"}) {
    EXPECT_TRUE(names.count(needed)) << "the dashboard does not show " << needed;
  }
  ExpectExported(names, "the dashboard");
}

TEST(MonitoringTest, AlertRulesUseExportedSeries) {
  const YAML::Node rules = YAML::LoadFile(kDir + "fedsmear-alerts.yml");
  std::set<std::string> names, alerts;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      alerts.insert(rule["alert"].as<std::string>());
      EXPECT_TRUE(rule["annotations"]["summary"]) << rule["alert"].as<std::string>();
      EXPECT_TRUE(rule["labels"]["severity"]) << rule["alert"].as<std::string>();
      CollectNames(rule["expr"].as<std::string>(), &names);
    }
  }
  EXPECT_EQ(alerts, (std::set<std::string>{"FedsmearCoordinatorDown", "FedsmearSiteDown",
                                           "FedsmearRoundStuck", "FedsmearAccuracyDrop",
                                           "FedsmearRefusalsRising"}));
  ExpectExported(names, "the alert rules");
}

}  // namespace
}  // namespace fedsmear
