// The jobs part of the status endpoint (StatusService::StartForJobs, job_pages.h), over a fake
// listing and real run folders: the job list, a finished job's page after the next job started,
// 404s for unknown and path-like ids, the token, and an endpoint that answers while idle.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "coordinator/status/job_pages.h"
#include "coordinator/status/status_service.h"
#include "tests/coordinator/status/fake_job_listing.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using testing::FakeJobListing;
using testing::MakeJob;

StatusRunInfo RunInfo(const std::string& run_id, int rounds) {
  StatusRunInfo info;
  info.run_id = run_id;
  info.strategy = "fedvote";
  info.codec_down = "sign1+q8";
  info.codec_up = "sign1+q8";
  info.rounds_planned = rounds;
  info.min_sites = 2;
  return info;
}

// A metrics.jsonl line: both sites selected, `reported` of them aggregated, the rest failed.
std::string Line(int round, double acc, const std::vector<std::string>& reported,
                 const nlohmann::json& failed = nlohmann::json::object()) {
  nlohmann::ordered_json j;
  j["round"] = round;
  j["sites_selected"] = {"site-1", "site-2"};
  j["sites_reported"] = reported;
  j["sites_failed"] = failed;
  j["accuracy"] = acc;
  j["macro_f1"] = acc - 0.1;
  j["bytes_down"] = 1000;
  j["bytes_up"] = 500;
  j["round_s"] = 2.0;
  return j.dump() + "\n";
}

// A model as a job's coordinator leaves it after `rounds` rounds (ended when `ended`).
std::shared_ptr<StatusModel> Model(const std::string& run_id, int rounds, bool ended) {
  auto m = std::make_shared<StatusModel>(RunInfo(run_id, rounds));
  m->SiteJoined("site-1", 100, 10);
  m->SiteJoined("site-2", 100, 10);
  for (int r = 1; r <= rounds; ++r) {
    m->RoundStarted(r, {"site-1", "site-2"});
    m->RoundFinished(nlohmann::ordered_json::parse(Line(r, 0.5 + 0.1 * r, {"site-1", "site-2"})),
                     {});
  }
  if (ended) m->RunEnded(Status::Ok());
  return m;
}

double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
  }
  return std::nan("");
}

class JobPagesTest : public ::testing::Test {
 protected:
  // A run folder for `id` holding `lines` as its metrics.jsonl.
  std::string RunDir(const std::string& id, const std::string& lines) {
    const std::string dir = dir_.Sub(id + "/run");
    EXPECT_TRUE(WriteFileAtomic(dir + "/metrics.jsonl", lines).ok());
    return dir;
  }
  std::unique_ptr<StatusService> Start(const std::string& token_file = "") {
    auto service = StatusService::StartForJobs({true, "127.0.0.1:0", token_file}, &slot_, &jobs_);
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }
  static httplib::Result Get(const StatusService& s, const std::string& path,
                             const httplib::Headers& headers = {}) {
    httplib::Client client("127.0.0.1", s.port());
    return client.Get(path, headers);
  }

  testing::TempDir dir_{"fedsmear-jobpages"};
  StatusSlot slot_;
  FakeJobListing jobs_;
};

TEST_F(JobPagesTest, ListsTheNewestJobsFirstWithTheirStates) {
  const char* states[] = {"completed", "failed", "aborted", "completed", "running", "queued"};
  std::vector<JobSummary> all;
  for (int k = 1; k <= 60; ++k) {
    char id[16];
    std::snprintf(id, sizeof id, "job-%04d", k);
    all.push_back(MakeJob(id, k > 54 ? states[k - 55] : "completed", "",
                          k == 56 ? "krum is not a strategy" : ""));
  }
  all.push_back(MakeJob("job-0061\"><b>", "completed"));  // not a job id: listed, never linked
  const nlohmann::json j = JobsJson(all, "job-0059");
  ASSERT_EQ(j["jobs"].size(), kJobsListed);
  EXPECT_EQ(j["total"], 61);
  EXPECT_EQ(j["listed"], 50);
  EXPECT_EQ(j["live_job"], "job-0059");
  EXPECT_EQ(j["jobs"][0]["id"], "job-0061\"><b>");
  EXPECT_TRUE(j["jobs"][0]["page"].is_null());
  EXPECT_EQ(j["jobs"][1]["id"], "job-0060");
  EXPECT_EQ(j["jobs"][1]["state"], "queued");
  EXPECT_TRUE(j["jobs"][1]["started"].is_null()) << "a queued job has not started";
  EXPECT_EQ(j["jobs"][2]["state"], "running");
  EXPECT_TRUE(j["jobs"][2]["ended"].is_null());
  EXPECT_EQ(j["jobs"][5]["state"], "failed");
  EXPECT_EQ(j["jobs"][5]["message"], "krum is not a strategy");
  EXPECT_EQ(j["jobs"][5]["page"], "/jobs/job-0056");
  EXPECT_EQ(j["jobs"][5]["submitted"], 1700000000);
  EXPECT_EQ(j["jobs"][5]["ended"], 1700000200);
  EXPECT_EQ(j["jobs"][49]["id"], "job-0012");
  EXPECT_EQ(j["counts"]["completed"], 57);
  EXPECT_EQ(j["counts"]["failed"], 1);
  EXPECT_EQ(j["counts"]["aborted"], 1);
  EXPECT_EQ(j["counts"]["running"], 1);
  EXPECT_EQ(j["counts"]["queued"], 1);
  const std::string prom = JobsPrometheusText(all);
  EXPECT_EQ(Sample(prom, "fedsmear_jobs{state=\"completed\"}"), 57);
  EXPECT_EQ(Sample(prom, "fedsmear_jobs{state=\"queued\"}"), 1);
}

TEST_F(JobPagesTest, AFinishedJobsPageAnswersAfterTheNextJobStarted) {
  const std::string first_run =
      RunDir("job-0001", Line(1, 0.6, {"site-1", "site-2"}) +
                             Line(2, 0.7, {"site-1"}, {{"site-2", "deadline passed"}}));
  jobs_.Add(MakeJob("job-0001", "running", first_run), RunInfo("", 2));
  auto service = Start();
  ASSERT_TRUE(service);
  slot_.Publish("job-0001", Model("run-one", 2, /*ended=*/true));
  jobs_.Update(MakeJob("job-0001", "completed", first_run));
  // The next job starts: the slot now serves its model.
  jobs_.Add(MakeJob("job-0002", "running", RunDir("job-0002", "")), RunInfo("", 5));
  slot_.Publish("job-0002", Model("run-two", 1, /*ended=*/false));

  auto list = Get(*service, "/api/jobs");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200);
  const nlohmann::json jobs = nlohmann::json::parse(list->body);
  ASSERT_EQ(jobs["jobs"].size(), 2u);
  EXPECT_EQ(jobs["jobs"][0]["id"], "job-0002");
  EXPECT_EQ(jobs["jobs"][0]["state"], "running");
  EXPECT_EQ(jobs["jobs"][1]["state"], "completed");
  EXPECT_EQ(jobs["live_job"], "job-0002");

  auto run = Get(*service, "/api/run");
  ASSERT_TRUE(run);
  EXPECT_EQ(nlohmann::json::parse(run->body)["job"], "job-0002");
  EXPECT_EQ(nlohmann::json::parse(run->body)["run_id"], "run-two");

  // job-0001's page and JSON come from its run folder now.
  auto page = Get(*service, "/jobs/job-0001");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<script src=\"/status.js\""), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  auto first = Get(*service, "/api/jobs/job-0001");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  const nlohmann::json d = nlohmann::json::parse(first->body);
  EXPECT_FALSE(d["live"]);
  EXPECT_EQ(d["job"]["state"], "completed");
  EXPECT_EQ(d["run"]["job"], "job-0001");
  EXPECT_EQ(d["run"]["stage"], "complete");
  EXPECT_EQ(d["run"]["rounds_completed"], 2);
  EXPECT_EQ(d["run"]["rounds_planned"], 2);
  EXPECT_EQ(d["run"]["strategy"], "fedvote");
  ASSERT_EQ(d["rounds"]["rounds"].size(), 2u);
  EXPECT_DOUBLE_EQ(d["rounds"]["rounds"][1]["accuracy"].get<double>(), 0.7);
  ASSERT_EQ(d["sites"].size(), 2u);
  EXPECT_EQ(d["sites"][1]["site"], "site-2");
  EXPECT_EQ(d["sites"][1]["rounds_selected"], 2);
  EXPECT_EQ(d["sites"][1]["rounds_reported"], 1);
  EXPECT_EQ(d["sites"][1]["last_failure"], "deadline passed");
  ASSERT_EQ(d["run"]["events"].size(), 1u);
  EXPECT_EQ(d["run"]["events"][0]["round"], 2);
  EXPECT_EQ(d["run"]["events"][0]["reason"], "deadline passed");

  // The running job's JSON is its live model.
  auto second = Get(*service, "/api/jobs/job-0002");
  ASSERT_TRUE(second);
  const nlohmann::json l = nlohmann::json::parse(second->body);
  EXPECT_TRUE(l["live"]);
  EXPECT_EQ(l["run"]["run_id"], "run-two");
  EXPECT_EQ(l["run"]["sites"].size(), 2u);
}

TEST_F(JobPagesTest, EndedJobsShowTheirOutcome) {
  jobs_.Add(MakeJob("job-0001", "failed", RunDir("job-0001", Line(1, 0.5, {"site-1"})),
                    "round 2 failed 4 times with fewer than 2 updates"));
  jobs_.Add(MakeJob("job-0002", "aborted", dir_.Sub("job-0002/run"), "aborted: stopped"));
  jobs_.Add(MakeJob("job-0003", "queued", dir_.Sub("job-0003/run")));
  auto service = Start();
  ASSERT_TRUE(service);
  auto stage = [&](const std::string& id) {
    auto res = Get(*service, "/api/jobs/" + id);
    EXPECT_TRUE(res && res->status == 200) << id;
    return res ? nlohmann::json::parse(res->body)["run"] : nlohmann::json();
  };
  const nlohmann::json failed = stage("job-0001");
  EXPECT_EQ(failed["stage"], "failed");
  EXPECT_EQ(failed["detail"], "round 2 failed 4 times with fewer than 2 updates");
  EXPECT_EQ(failed["rounds_completed"], 1);
  EXPECT_EQ(stage("job-0002")["stage"], "stopped");
  EXPECT_EQ(stage("job-0002")["rounds_completed"], 0) << "no metrics.jsonl: no round";
  EXPECT_EQ(stage("job-0003")["stage"], "queued");
}

TEST_F(JobPagesTest, UnknownOrPathLikeIdsAre404AndNeverLookedUp) {
  jobs_.Add(MakeJob("job-0001", "completed", RunDir("job-0001", Line(1, 0.5, {"site-1"}))));
  auto service = Start();
  ASSERT_TRUE(service);
  for (const std::string prefix : {"/jobs/", "/api/jobs/"}) {
    auto missing = Get(*service, prefix + "job-0099");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404) << prefix;
    EXPECT_NE(missing->body.find("no job job-0099"), std::string::npos);
    for (const std::string item :
         {"..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "job-0001%2F..%2F..", "job-0001/run",
          "job-", "job-abc", "JOB-0001", "job-0001.", "job-0001%00", "run", "job-1234567890",
          "%3Cimg%20src%3Dx%3E"}) {
      auto res = Get(*service, prefix + item);
      ASSERT_TRUE(res) << prefix << item;
      EXPECT_EQ(res->status, 404) << prefix << item;
      EXPECT_EQ(res->body.find("passwd"), std::string::npos);
      EXPECT_EQ(res->body.find("<img"), std::string::npos);
    }
  }
  EXPECT_EQ(jobs_.asked(), (std::vector<std::string>{"job-0099", "job-0099"}))
      << "only well-formed ids reach the listing";
  auto ok = Get(*service, "/api/jobs/job-0001");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(JobPagesTest, AnIdleEndpointAnswersAndKeepsTheLastJobsMetrics) {
  auto service = Start();
  ASSERT_TRUE(service);
  auto health = Get(*service, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto run = Get(*service, "/api/run");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 200);
  EXPECT_EQ(nlohmann::json::parse(run->body)["stage"], "idle");
  EXPECT_EQ(nlohmann::json::parse(run->body)["job"], "");
  auto rounds = Get(*service, "/api/rounds");
  ASSERT_TRUE(rounds);
  EXPECT_TRUE(nlohmann::json::parse(rounds->body)["rounds"].empty());
  auto idle = Get(*service, "/metrics");
  ASSERT_TRUE(idle);
  EXPECT_EQ(idle->status, 200);
  EXPECT_EQ(Sample(idle->body, "fedsmear_jobs{state=\"queued\"}"), 0);
  EXPECT_NE(idle->body.find("fedsmear_build_info"), std::string::npos);
  EXPECT_EQ(idle->body.find("fedsmear_rounds_completed_total"), std::string::npos)
      << "no run, no run metrics";
  auto jobs = Get(*service, "/api/jobs");
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(nlohmann::json::parse(jobs->body)["jobs"].empty());

  // A job ran and ended; until the next one starts its final values stay scrapeable.
  jobs_.Add(MakeJob("job-0001", "completed", RunDir("job-0001", "")));
  jobs_.Add(MakeJob("job-0002", "queued", dir_.Sub("job-0002/run")));
  slot_.Publish("job-0001", Model("run-one", 3, /*ended=*/true));
  auto after = Get(*service, "/metrics");
  ASSERT_TRUE(after);
  EXPECT_EQ(Sample(after->body, "fedsmear_rounds_completed_total"), 3);
  EXPECT_EQ(Sample(after->body, "fedsmear_run_ended"), 1);
  EXPECT_EQ(Sample(after->body, "fedsmear_jobs{state=\"completed\"}"), 1);
  EXPECT_EQ(Sample(after->body, "fedsmear_jobs{state=\"queued\"}"), 1);
  auto last = Get(*service, "/api/run");
  ASSERT_TRUE(last);
  EXPECT_EQ(nlohmann::json::parse(last->body)["stage"], "complete");
}

TEST_F(JobPagesTest, JobsNeedTheToken) {
  const std::string token = dir_.Sub("token");
  ASSERT_TRUE(WriteFileAtomic(token, "t0ken\n").ok());
  jobs_.Add(MakeJob("job-0001", "completed", RunDir("job-0001", "")));
  auto service = Start(token);
  ASSERT_TRUE(service);
  for (const char* path : {"/api/jobs", "/api/jobs/job-0001", "/jobs/job-0001", "/jobs/..",
                           "/metrics", "/api/run"}) {
    auto res = Get(*service, path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    auto with = Get(*service, path, {{"Authorization", "Bearer t0ken"}});
    ASSERT_TRUE(with) << path;
    EXPECT_EQ(with->status, std::string(path) == "/jobs/.." ? 404 : 200) << path;
  }
  auto browser = Get(*service, "/jobs/job-0001", {{"Accept", "text/html"}});
  ASSERT_TRUE(browser);
  EXPECT_EQ(browser->status, 303);
  EXPECT_EQ(browser->get_header_value("Location"), "/login");
  auto health = Get(*service, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto query = Get(*service, "/api/jobs?token=t0ken");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 400);
}

}  // namespace
}  // namespace fedsmear
