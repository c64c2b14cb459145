// StatusModel driven directly, and StatusService's HTTP routes (status, content, token).
#include <gtest/gtest.h>
#include <httplib.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <fstream>

#include "common/refusal_reason.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_service.h"

namespace fedsmear {
namespace {

StatusRunInfo Info() {
  StatusRunInfo info;
  info.run_id = "run-test";
  info.strategy = "fedavg";
  info.codec_down = "f32";
  info.codec_up = "f32";
  info.rounds_planned = 5;
  info.min_sites = 2;
  info.heartbeat_s = 5;
  info.round_deadline_s = 600;
  return info;
}

nlohmann::ordered_json Line(int round, double acc, double f1) {
  nlohmann::ordered_json line;
  line["round"] = round;
  line["sites_selected"] = {"a", "b", "c"};
  line["sites_reported"] = {"a", "b"};
  line["accuracy"] = acc;
  line["macro_f1"] = f1;
  line["central"] = {{"pbc", {{"accuracy", acc}, {"macro_f1", f1}, {"samples", 100},
                              {"per_class", nlohmann::ordered_json::array()},
                              {"confusion", nlohmann::ordered_json::array()}}}};
  line["bytes_down"] = 3000;
  line["bytes_eval_down"] = 500;
  line["bytes_up"] = 2000;
  line["round_s"] = 12.5;
  return line;
}

// The value of the sample line starting with `series` ("name" or "name{labels}"), or NaN.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
  }
  return std::nan("");
}

void DriveTwoRounds(StatusModel& m) {
  m.SiteJoined("a", 100, 10);
  m.SiteJoined("b", 80, 8);
  m.SiteJoined("c", 60, 6);
  m.SetStage(1, "training");
  m.RoundStarted(1, {"a", "b", "c"});
  m.RoundFinished(Line(1, 0.5, 0.4),
                  {{"c", PermissionDenied("task asks for 30 local epochs; site policy allows 20")}});
  m.SetStage(2, "training");
  m.RoundStarted(2, {"a", "b", "c"});
  m.SetSiteState("a", "reported", "round 2");
  m.RoundFinished(Line(2, 0.7, 0.6), {{"c", Timeout("deadline passed")}});
}

TEST(StatusModelTest, RecordsRoundsSitesRefusalsAndDropouts) {
  StatusModel m(Info());
  DriveTwoRounds(m);
  nlohmann::json run = m.RunJson();
  EXPECT_EQ(run["run_id"], "run-test");
  EXPECT_EQ(run["round"], 2);
  EXPECT_EQ(run["stage"], "training");
  EXPECT_EQ(run["rounds_completed"], 2);
  EXPECT_EQ(run["sites_connected"], 3);
  EXPECT_EQ(run["refusals"], 1);
  EXPECT_EQ(run["dropouts"], 1);
  EXPECT_EQ(run["bytes_sent"].get<double>(), 7000);
  EXPECT_EQ(run["bytes_received"].get<double>(), 4000);
  ASSERT_EQ(run["sites"].size(), 3u);
  EXPECT_EQ(run["sites"][0]["site"], "a");
  EXPECT_EQ(run["sites"][0]["state"], "reported");
  EXPECT_EQ(run["sites"][0]["rounds_reported"], 2);
  EXPECT_EQ(run["sites"][2]["state"], "deadline");
  ASSERT_EQ(run["events"].size(), 2u);
  EXPECT_EQ(run["events"][0]["kind"], "refused");

  nlohmann::json rounds = m.RoundsJson();
  ASSERT_EQ(rounds["rounds"].size(), 2u);
  EXPECT_EQ(rounds["holdouts"], nlohmann::json::array({"pbc"}));
  EXPECT_DOUBLE_EQ(rounds["rounds"][1]["central"]["pbc"]["accuracy"].get<double>(), 0.7);
  EXPECT_FALSE(rounds["rounds"][1]["central"]["pbc"].contains("confusion"));
  EXPECT_EQ(rounds["rounds"][0]["refusals"], 1);
  EXPECT_EQ(rounds["rounds"][1]["dropouts"], 1);

  m.RunEnded(Aborted("stopped"));
  EXPECT_EQ(m.RunJson()["stage"], "stopped");
}

TEST(StatusModelTest, PrometheusTextHasTheMetrics) {
  StatusModel m(Info());
  DriveTwoRounds(m);
  const std::string t = m.PrometheusText();
  EXPECT_EQ(Sample(t, "fedsmear_rounds_completed_total"), 2);
  EXPECT_EQ(Sample(t, "fedsmear_current_round"), 2);
  EXPECT_EQ(Sample(t, "fedsmear_rounds_planned"), 5);
  EXPECT_EQ(Sample(t, "fedsmear_sites_registered"), 3);
  EXPECT_EQ(Sample(t, "fedsmear_sites_connected"), 3);
  EXPECT_EQ(Sample(t, "fedsmear_sites_selected"), 3);
  EXPECT_EQ(Sample(t, "fedsmear_sites_reported"), 2);
  EXPECT_EQ(Sample(t, "fedsmear_sent_bytes_total"), 7000);
  EXPECT_EQ(Sample(t, "fedsmear_received_bytes_total"), 4000);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_central_accuracy_ratio"), 0.7);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_central_macro_f1_ratio"), 0.6);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_holdout_accuracy_ratio{holdout=\"pbc\"}"), 0.7);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_holdout_macro_f1_ratio{holdout=\"pbc\"}"), 0.6);
  EXPECT_EQ(Sample(t, "fedsmear_site_refusals_total{reason=\"policy_epochs\"}"), 1);
  EXPECT_EQ(Sample(t, "fedsmear_site_failures_total{kind=\"deadline\"}"), 1);
  EXPECT_EQ(Sample(t, "fedsmear_round_duration_seconds_count"), 2);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_round_duration_seconds_sum"), 25);
  EXPECT_NE(t.find("# TYPE fedsmear_round_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(t.find("fedsmear_run_info{"), std::string::npos);
  for (const char* old : {"fedsmear_bytes_sent_total", "fedsmear_central_accuracy "}) {
    EXPECT_EQ(t.find(old), std::string::npos) << old;
  }
  // Per-site series, build and process metrics.
  EXPECT_EQ(Sample(t, "fedsmear_site_up{site=\"a\"}"), 1);
  EXPECT_EQ(Sample(t, "fedsmear_site_up{site=\"c\"}"), 1);
  EXPECT_GT(Sample(t, "fedsmear_site_last_seen_timestamp_seconds{site=\"b\"}"), 1.7e9);
  EXPECT_EQ(Sample(t, "fedsmear_site_rounds_reported_total{site=\"a\"}"), 2);
  EXPECT_EQ(Sample(t, "fedsmear_site_rounds_reported_total{site=\"c\"}"), 0);
  EXPECT_NE(t.find("fedsmear_build_info{version=\""), std::string::npos);
  EXPECT_GT(Sample(t, "process_start_time_seconds"), 1.7e9);
  EXPECT_GT(Sample(t, "process_resident_memory_bytes"), 0);
  EXPECT_GT(Sample(t, "process_open_fds"), 0);
  // Between rounds: none in progress; the deadline is the configured one.
  EXPECT_EQ(Sample(t, "fedsmear_round_in_progress"), 0);
  EXPECT_EQ(Sample(t, "fedsmear_round_deadline_seconds"), 600);
  EXPECT_GT(Sample(t, "fedsmear_round_started_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(Sample(t, "fedsmear_run_ended"), 0);
}

TEST(StatusModelTest, AccuracyIsNotExportedBeforeAnyEvaluation) {
  StatusModel m(Info());
  m.SiteJoined("a", 100, 10);
  m.RoundStarted(1, {"a"});
  std::string t = m.PrometheusText();
  EXPECT_EQ(Sample(t, "fedsmear_round_in_progress"), 1);
  for (const char* name : {"fedsmear_central_accuracy_ratio", "fedsmear_central_macro_f1_ratio",
                           "fedsmear_holdout_accuracy_ratio{holdout=\"pbc\"}"}) {
    EXPECT_TRUE(std::isnan(Sample(t, name))) << name << " has a value before any evaluation";
  }
  // A round recorded without a central evaluation (no held-out set) exports none either.
  nlohmann::ordered_json line = {{"round", 1}, {"sites_selected", {"a"}}, {"sites_reported", {"a"}}};
  m.RoundFinished(line, {});
  t = m.PrometheusText();
  EXPECT_TRUE(std::isnan(Sample(t, "fedsmear_central_accuracy_ratio")));
  EXPECT_EQ(Sample(t, "fedsmear_round_in_progress"), 0);
  m.RoundStarted(2, {"a"});
  m.RoundFinished(Line(2, 0.8, 0.7), {});
  EXPECT_DOUBLE_EQ(Sample(m.PrometheusText(), "fedsmear_central_accuracy_ratio"), 0.8);
  m.RunEnded(Status::Ok());
  t = m.PrometheusText();
  EXPECT_EQ(Sample(t, "fedsmear_run_ended"), 1);
  EXPECT_DOUBLE_EQ(Sample(t, "fedsmear_central_accuracy_ratio"), 0.8) << "kept after the run";
}

TEST(StatusModelTest, PlanRefusalsAreLabelledWithTheirReason) {
  StatusModel m(Info());
  m.SiteJoined("a", 100, 10);
  m.RoundStarted(1, {"a"});
  m.RoundFinished({{"round", 1}},
                  {{"a", PermissionDenied("training plan 3f2a is not approved at this site; review "
                                          "it with `fedsmear-client --config SITE.yaml plan show`")}},
                  /*completed=*/false);
  const std::string t = m.PrometheusText();
  EXPECT_EQ(Sample(t, "fedsmear_site_refusals_total{reason=\"plan_not_approved\"}"), 1) << t;
  EXPECT_TRUE(std::isnan(Sample(t, "fedsmear_site_refusals_total{reason=\"other\"}")));
}

// A resumed run (or a finished job's page) reloads its rounds and the images each site announced,
// with no time of last contact for sites this process never heard from.
TEST(StatusModelTest, ResumedRunReloadsItsHistory) {
  StatusModel m(Info());
  nlohmann::ordered_json second = Line(2, 0.6, 0.5);
  second["site_images"] = {{"a", {{"train", 100}, {"val", 10}}}, {"b", {{"train", 80}, {"val", 8}}}};
  m.LoadHistory(Line(1, 0.5, 0.4).dump() + "\nnot json\n" + second.dump() + "\n");
  EXPECT_EQ(m.RoundsJson()["rounds"].size(), 2u);
  const nlohmann::json run = m.RunJson();
  EXPECT_EQ(run["round"], 2);
  ASSERT_EQ(run["sites"].size(), 2u) << run["sites"].dump();
  EXPECT_EQ(run["sites"][0]["site"], "a");
  EXPECT_EQ(run["sites"][0]["num_train"], 100);
  EXPECT_EQ(run["sites"][0]["num_val"], 10);
  EXPECT_EQ(run["sites"][0]["rounds_reported"], 1);  // round 2's line only names its images
  EXPECT_TRUE(run["sites"][0]["last_seen"].is_null());
  EXPECT_FALSE(run["sites"][0]["connected"].get<bool>());
  const std::string text = m.PrometheusText();
  EXPECT_EQ(Sample(text, "fedsmear_rounds_completed_total"), 2);
  EXPECT_EQ(Sample(text, "fedsmear_site_up{site=\"a\"}"), 0);
  EXPECT_EQ(text.find("fedsmear_site_last_seen_timestamp_seconds{"), std::string::npos) << text;
}

TEST(StatusModelTest, RefusalReasonsMapToFewLabels) {
  EXPECT_EQ(RefusalReasonLabel("task asks for 30 local epochs; site policy allows 20"),
            "policy_epochs");
  EXPECT_EQ(RefusalReasonLabel("class ig has 3 samples, below the site policy's minimum of 10"),
            "policy_min_samples");
  EXPECT_EQ(RefusalReasonLabel("fewer than 2 training images"), "too_few_images");
  EXPECT_EQ(RefusalReasonLabel("busy with another task"), "busy");
  EXPECT_EQ(RefusalReasonLabel("no secure aggregation session for task"), "secure_aggregation");
  EXPECT_EQ(RefusalReasonLabel("training plan ab12 is not approved at this site; review it"),
            "plan_not_approved");
  EXPECT_EQ(RefusalReasonLabel("outside the approved training plan: task asks for 30 local "
                               "epochs"),
            "plan_mismatch");
  EXPECT_EQ(RefusalReasonLabel("no training plan received yet"), "no_plan");
  EXPECT_EQ(RefusalReasonLabel("the coordinator published no training plan"), "no_plan");
  EXPECT_EQ(RefusalReasonLabel("the published training plan is unusable: bad json"), "no_plan");
  EXPECT_EQ(RefusalReasonLabel("cannot read the approved plans: permission denied"),
            "approvals_unreadable");
  EXPECT_EQ(RefusalReasonLabel("task input size 512 exceeds the site policy's 256"),
            "policy_input_size");
  EXPECT_EQ(RefusalReasonLabel("site policy requires secure aggregation; round 3 is not a "
                               "SecAgg+ round"),
            "secure_aggregation");
  EXPECT_EQ(RefusalReasonLabel("anything else at all"), "other");
}

TEST(StatusServiceTest, ServesPageJsonAndMetrics) {
  StatusModel m(Info());
  DriveTwoRounds(m);
  HttpEndpointConfig config{true, "127.0.0.1:0", ""};
  auto service = StatusService::Start(config, &m);
  ASSERT_TRUE(service.ok()) << service.status();
  httplib::Client client("127.0.0.1", (*service)->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  EXPECT_NE(page->body.find("<script src=\"/status.js\""), std::string::npos);
  EXPECT_EQ(page->body.find("<script>"), std::string::npos) << "no inline script";
  EXPECT_EQ(page->body.find("<style"), std::string::npos) << "no inline style";
  EXPECT_EQ(page->body.find("style="), std::string::npos) << "no inline style";
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must load nothing";
  EXPECT_EQ(page->body.find("https://"), std::string::npos) << "the page must load nothing";
  auto script = client.Get("/status.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_NE(script->get_header_value("Content-Type").find("javascript"), std::string::npos);
  EXPECT_NE(script->body.find("/api/rounds"), std::string::npos);
  // Data reaches the document only as text and attributes.
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function"}) {
    EXPECT_EQ(script->body.find(sink), std::string::npos) << sink;
  }
  auto style = client.Get("/status.css");
  ASSERT_TRUE(style);
  EXPECT_NE(style->get_header_value("Content-Type").find("text/css"), std::string::npos);
  auto run = client.Get("/api/run");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 200);
  EXPECT_EQ(nlohmann::json::parse(run->body)["rounds_completed"], 2);
  auto rounds = client.Get("/api/rounds");
  ASSERT_TRUE(rounds);
  EXPECT_EQ(nlohmann::json::parse(rounds->body)["rounds"].size(), 2u);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  EXPECT_EQ(Sample(metrics->body, "fedsmear_rounds_completed_total"), 2);
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(StatusServiceTest, TokenIsRequiredWhenConfigured) {
  const auto token_file = std::filesystem::temp_directory_path() /
                          ("fedsmear_status_token_" + std::to_string(::getpid()));
  std::ofstream(token_file) << "s3cret\n";
  StatusModel m(Info());
  auto service = StatusService::Start({true, "127.0.0.1:0", token_file.string()}, &m);
  std::filesystem::remove(token_file);
  ASSERT_TRUE(service.ok()) << service.status();
  httplib::Client client("127.0.0.1", (*service)->port());
  auto anonymous = client.Get("/metrics");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto wrong = client.Get("/metrics", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto bearer = client.Get("/metrics", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
  auto cookie = client.Get("/api/run", {{"Cookie", "fedsmear_token=s3cret"}});
  ASSERT_TRUE(cookie);
  EXPECT_EQ(cookie->status, 200);
  auto query = client.Get("/api/run?token=s3cret");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 400) << "a token in the URL is refused";
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << "/healthz needs no token";
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/login");
}

TEST(StatusServiceTest, BadBindOrTokenFileIsAClearError) {
  StatusModel m(Info());
  auto no_port = StatusService::Start({true, "127.0.0.1", ""}, &m);
  ASSERT_FALSE(no_port.ok());
  EXPECT_NE(no_port.status().message().find("host:port"), std::string::npos);
  auto no_token = StatusService::Start({true, "127.0.0.1:0", "/nonexistent/token"}, &m);
  ASSERT_FALSE(no_token.ok());
  auto first = StatusService::Start({true, "127.0.0.1:0", ""}, &m);
  ASSERT_TRUE(first.ok());
  auto taken = StatusService::Start(
      {true, "127.0.0.1:" + std::to_string((*first)->port()), ""}, &m);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
