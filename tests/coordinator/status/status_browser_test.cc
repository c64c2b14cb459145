// The status endpoint against real clients, without a federation (torch-free): headless
// Chromium renders a page whose site reports hostile strings and must run none of them, the same
// for a long-lived coordinator's job list and a finished job's page whose name, submitter,
// outcome and site reasons are hostile, and a real Prometheus scrapes /metrics with the bearer
// token. Both skip, saying why, when the
// program is absent (Debian packages `chromium`, `prometheus`). Loopback only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/file_util.h"
#include "common/process.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_service.h"
#include "tests/coordinator/status/fake_job_listing.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

// Each payload, if it ever ran, would retitle the page and add an element with id "pwned".
const char* const kHostile[] = {
    "'><img src=x onerror=\"document.title='pwned';document.body.append(Object.assign("
    "document.createElement('div'),{id:'pwned'}))\">",
    "</script><script>document.title='pwned';document.body.append(Object.assign("
    "document.createElement('div'),{id:'pwned'}))</script>",
    "\"><svg onload=\"document.title='pwned'\"></svg><b id=\"pwned\">bold</b>",
};

StatusRunInfo Info() {
  StatusRunInfo info;
  info.run_id = "run-browser";
  info.strategy = "fedvote";
  info.codec_down = "sign1+q8";
  info.codec_up = "sign1+q8";
  info.rounds_planned = 3;
  info.min_sites = 1;
  info.heartbeat_s = 60;
  info.round_deadline_s = 120;
  return info;
}

// A model whose site "evil" refused round 1 with each hostile reason, and whose state detail
// (the page's title attribute) is the first of them.
void DriveHostileRound(StatusModel& m) {
  m.SiteJoined("good", 100, 10);
  m.SiteJoined("evil", 100, 10);
  m.RoundStarted(1, {"good", "evil"});
  std::vector<SiteFailure> failures;
  for (const char* reason : kHostile) failures.push_back({"evil", PermissionDenied(reason)});
  nlohmann::ordered_json line = {{"round", 1},
                                 {"sites_selected", {"good", "evil"}},
                                 {"sites_reported", {"good"}},
                                 {"accuracy", 0.5},
                                 {"macro_f1", 0.4},
                                 {"bytes_down", 1000},
                                 {"bytes_up", 500},
                                 {"round_s", 3.0}};
  m.RoundFinished(line, failures);
  m.SetSiteState("evil", "refused", kHostile[0]);
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The DOM of `url` after the page's script ran, as headless Chromium serializes it ("" and a
// test failure when Chromium fails). Virtual time lets the script fetch and draw. Headless
// Chromium now and then never returns from a virtual-time run (status_federation_test.cc): a
// launch is stopped after 45 s and retried with a fresh profile, at most three times.
std::string DumpDom(const std::string& chromium, const testing::TempDir& dir,
                    const std::string& url) {
  const std::string dom = dir.Sub("dom.html"), log = dir.Sub("chromium.log");
  int rc = -1;
  for (int attempt = 1; attempt <= 3 && rc != 0; ++attempt) {
    const std::string cmd = "timeout 45 '" + chromium +
                            "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                            "--no-first-run --user-data-dir='" + dir.Sub("profile") + "-" +
                            std::to_string(attempt) + "' --virtual-time-budget=5000 --dump-dom '" +
                            url + "' > '" + dom + "' 2> '" + log + "'";
    rc = std::system(cmd.c_str());
  }
  EXPECT_EQ(rc, 0) << ReadFile(log).value_or("");
  const std::string html = ReadFile(dom).value_or("");
  EXPECT_FALSE(html.empty()) << ReadFile(log).value_or("");
  return html;
}

// No payload ran or became an element: the title is the page's, no injected element exists,
// and the only script is the page's own.
void ExpectNothingRan(const std::string& html) {
  EXPECT_NE(html.find("<title>fedsmear run status</title>"), std::string::npos);
  EXPECT_EQ(html.find("pwned</title>"), std::string::npos);
  EXPECT_EQ(html.find("<div id=\"pwned\""), std::string::npos);
  EXPECT_EQ(html.find("<b id=\"pwned\""), std::string::npos);
  EXPECT_EQ(html.find("<i id=\"pwned\""), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_EQ(Count(html, "<script"), 1u) << "only the page's own /status.js";
}

TEST(StatusBrowserTest, HostileSiteReasonsRunNoScript) {
  Result<std::string> chromium = FindProgram("chromium");
  if (!chromium.ok()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`)";
  testing::TempDir dir("fedsmear-browser");
  StatusModel m(Info());
  DriveHostileRound(m);
  auto service = StatusService::Start({true, "127.0.0.1:0", ""}, &m);
  ASSERT_TRUE(service.ok()) << service.status();
  const std::string url = "http://127.0.0.1:" + std::to_string((*service)->port()) + "/";
  const std::string html = DumpDom(*chromium, dir, url);
  ASSERT_FALSE(html.empty());
  // The page did render the run, the sites and the refusals (else the test proves nothing).
  ASSERT_NE(html.find("run run-browser"), std::string::npos) << html.substr(0, 3000);
  ASSERT_NE(html.find("<td>evil</td>"), std::string::npos) << html.substr(0, 3000);
  ASSERT_NE(html.find("id=\"round-1\""), std::string::npos);
  // Every hostile reason is there as text: its markup escaped, not parsed.
  EXPECT_EQ(Count(html, "&lt;/script&gt;&lt;script&gt;document.title="), 1u) << html;
  // (twice: the reason cell, and the state cell's title attribute)
  EXPECT_EQ(Count(html, "'&gt;&lt;img src=x onerror="), 2u) << html;
  EXPECT_NE(html.find("title=\"'&gt;&lt;img src=x onerror=&quot;document.title="), std::string::npos);
  EXPECT_EQ(Count(html, "&lt;b id=\"pwned\"&gt;bold&lt;/b&gt;"), 1u) << html;
  // And none of it ran or became an element.
  ExpectNothingRan(html);
  EXPECT_NE(html.find("id=\"jobs-section\" hidden"), std::string::npos)
      << "a single run's endpoint has no jobs";
}

// A long-lived coordinator's jobs whose texts are hostile: job-0001 failed with a hostile
// outcome, name and submitter, and a site failure reason in its run folder; job-0002 is the live
// (benign) run; the newest job's id itself is hostile (a tampered job.json).
class HostileJobs {
 public:
  explicit HostileJobs(const testing::TempDir& dir) {
    const std::string run = dir.Sub("job-0001/run");
    nlohmann::ordered_json line = {{"round", 1},
                                   {"sites_selected", {"good", "evil"}},
                                   {"sites_reported", {"good"}},
                                   {"sites_failed", {{"evil", kHostile[0]}}},
                                   {"accuracy", 0.5},
                                   {"macro_f1", 0.4},
                                   {"round_s", 3.0}};
    EXPECT_TRUE(WriteFileAtomic(run + "/metrics.jsonl", line.dump() + "\n").ok());
    JobSummary failed = testing::MakeJob("job-0001", "failed", run, kHostile[0]);
    failed.name = kHostile[1];
    failed.submitted_by = kHostile[2];
    jobs.Add(failed, Info());
    jobs.Add(testing::MakeJob("job-0002", "running", dir.Sub("job-0002/run")), Info());
    JobSummary tampered = testing::MakeJob(kHostileId, "queued");
    tampered.name = "tampered";
    jobs.Add(tampered);
    auto model = std::make_shared<StatusModel>(Info());
    model->SiteJoined("good", 100, 10);
    live.Publish("job-0002", model);
  }
  static constexpr const char* kHostileId = "job-0003\"><i id=\"pwned\">x</i>";
  testing::FakeJobListing jobs;
  StatusSlot live;
};

TEST(StatusBrowserTest, HostileJobTextsRunNoScript) {
  Result<std::string> chromium = FindProgram("chromium");
  if (!chromium.ok()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`)";
  testing::TempDir dir("fedsmear-browser-jobs");
  HostileJobs fixture(dir);
  auto service = StatusService::StartForJobs({true, "127.0.0.1:0", ""}, &fixture.live,
                                             &fixture.jobs);
  ASSERT_TRUE(service.ok()) << service.status();
  const std::string base = "http://127.0.0.1:" + std::to_string((*service)->port());

  // The list: every job, its texts as text; links only to well-formed ids.
  const std::string list = DumpDom(*chromium, dir, base + "/");
  ASSERT_FALSE(list.empty());
  ASSERT_NE(list.find("<a href=\"/jobs/job-0001\">job-0001</a>"), std::string::npos)
      << list.substr(0, 4000);
  ASSERT_NE(list.find("<a href=\"/jobs/job-0002\">job-0002</a>"), std::string::npos);
  EXPECT_NE(list.find("running (shown below)"), std::string::npos);
  EXPECT_EQ(list.find("href=\"/jobs/job-0003"), std::string::npos) << "a malformed id is no link";
  EXPECT_EQ(Count(list, "job-0003\"&gt;&lt;i id=\"pwned\"&gt;x&lt;/i&gt;"), 1u) << list;
  EXPECT_EQ(Count(list, "&lt;/script&gt;&lt;script&gt;document.title="), 1u) << list;  // name
  EXPECT_EQ(Count(list, "'&gt;&lt;img src=x onerror="), 1u) << list;                  // outcome
  EXPECT_EQ(Count(list, "&lt;b id=\"pwned\"&gt;bold&lt;/b&gt;"), 1u) << list;        // submitter
  ExpectNothingRan(list);

  // The failed job's own page: from its run folder, the hostile texts again only as text.
  const std::string page = DumpDom(*chromium, dir, base + "/jobs/job-0001");
  ASSERT_FALSE(page.empty());
  ASSERT_NE(page.find("job job-0001"), std::string::npos) << page.substr(0, 4000);
  ASSERT_NE(page.find("id=\"round-1\""), std::string::npos) << "its recorded round";
  EXPECT_NE(page.find("reported in 0 of 1 round(s)"), std::string::npos) << "the evil site";
  EXPECT_EQ(Count(page, "&lt;/script&gt;&lt;script&gt;document.title="), 1u) << page;
  // the outcome, the stage's detail, the round's failure reason, and the site's title attribute
  EXPECT_EQ(Count(page, "'&gt;&lt;img src=x onerror="), 4u) << page;
  EXPECT_NE(page.find("title=\"'&gt;&lt;img src=x onerror=&quot;document.title="),
            std::string::npos);
  ExpectNothingRan(page);
}

TEST(StatusBrowserTest, PrometheusScrapesWithTheBearerToken) {
  Result<std::string> prometheus = FindProgram("prometheus");
  if (!prometheus.ok()) GTEST_SKIP() << "prometheus is not installed (Debian package `prometheus`)";
  testing::TempDir dir("fedsmear-prom");
  std::ofstream(dir.Sub("token")) << "scrape-token\n";
  StatusModel m(Info());
  DriveHostileRound(m);
  auto service = StatusService::Start({true, "127.0.0.1:0", dir.Sub("token")}, &m);
  ASSERT_TRUE(service.ok()) << service.status();
  const int prom_port = FreePort();
  ASSERT_GT(prom_port, 0);
  std::ofstream(dir.Sub("prometheus.yml"))
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         "scrape_configs:\n  - job_name: fedsmear\n"
         "    authorization: {credentials_file: " << dir.Sub("token") << "}\n"
         "    static_configs:\n      - targets: ['127.0.0.1:" << (*service)->port() << "']\n";
  auto server = ChildProcess::Spawn(
      {*prometheus, "--config.file=" + dir.Sub("prometheus.yml"),
       "--storage.tsdb.path=" + dir.Sub("tsdb"),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      dir.Sub("prometheus.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto query = [&](const std::string& expr) -> double {
    httplib::Client client("127.0.0.1", prom_port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    auto res = client.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
    if (!res || res->status != 200) return std::nan("");
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].empty()) return std::nan("");
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  double info = std::nan("");
  for (int i = 0; i < 120 && info != 1; ++i) {  // at most about a minute
    std::this_thread::sleep_for(milliseconds(500));
    info = query("fedsmear_build_info{job=\"fedsmear\"}");
  }
  ASSERT_EQ(info, 1) << ReadFile(dir.Sub("prometheus.log")).value_or("");
  EXPECT_EQ(query("up{job=\"fedsmear\"}"), 1);
  EXPECT_EQ(query("fedsmear_site_up{site=\"evil\"}"), 1);
  EXPECT_EQ(query("fedsmear_central_accuracy_ratio"), 0.5);
  EXPECT_EQ(query("sum(fedsmear_site_refusals_total)"), 3);
  EXPECT_GT(query("process_resident_memory_bytes{job=\"fedsmear\"}"), 0);
  server->Stop();
}

}  // namespace
}  // namespace fedsmear
