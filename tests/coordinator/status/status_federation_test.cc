// The status endpoint during real federated runs (3 sites on threads, CurveZMQ over loopback):
// JSON and /metrics against metrics.jsonl, the page rendered by headless Chromium, and a real
// Prometheus server scraping the coordinator. Chromium and Prometheus tests skip, saying why,
// when the programs are absent (Debian packages `chromium`, `prometheus`).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "common/process.h"
#include "tests/coordinator/federation_harness.h"

namespace fedsmear::testing_federation {
namespace {

class StatusFederationTest : public FederationTest {
 protected:
  // Starts a status-enabled coordinator (any free port) and 3 sites; returns the HTTP port.
  int StartRun(int rounds) {
    std::vector<ClientConfig> sites;
    for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
    CoordinatorConfig c = MakeConfig(rounds, 3, 3);
    c.status = {true, "127.0.0.1:0", ""};
    c.train.local_epochs = 1;
    std::string endpoint = StartCoordinator(c);
    const int port = coordinator_->status_port();
    for (auto& s : sites) StartSite(s, endpoint);
    return port;
  }

  static std::string Get(int port, const std::string& path, int* status = nullptr) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    auto res = client.Get(path.c_str());
    if (status) *status = res ? res->status : -1;
    return res ? res->body : std::string();
  }

  static double Sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
      if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
    }
    return std::nan("");
  }

  // A port nothing listens on right now (the kernel's choice for a socket bound to port 0).
  static int FreePort() {
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

  // Where the test leaves files worth looking at (the screenshot).
  static fs::path Artefacts() {
    fs::path dir = fs::path(FEDSMEAR_BINARY_DIR) / "tests" / "artefacts";
    fs::create_directories(dir);
    return dir;
  }
};

TEST_F(StatusFederationTest, JsonAndMetricsFollowTheRun) {
  const int port = StartRun(2);
  ASSERT_GT(port, 0);
  // While the run goes on, the endpoint answers and shows the sites.
  int code = 0;
  nlohmann::json run;
  for (int i = 0; i < 200; ++i) {
    run = nlohmann::json::parse(Get(port, "/api/run", &code), nullptr, false);
    if (code == 200 && run.is_object() && run["sites"].size() == 3) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(code, 200);
  EXPECT_EQ(run["sites"].size(), 3u) << run.dump();
  EXPECT_EQ(run["rounds_planned"], 2);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;

  // After the run the endpoint still serves what happened (the coordinator object lives).
  auto rows = Metrics();
  ASSERT_EQ(rows.size(), 2u);
  run = nlohmann::json::parse(Get(port, "/api/run", &code));
  EXPECT_EQ(run["stage"], "complete");
  EXPECT_EQ(run["rounds_completed"], 2);
  nlohmann::json rounds = nlohmann::json::parse(Get(port, "/api/rounds", &code));
  ASSERT_EQ(code, 200);
  ASSERT_EQ(rounds["rounds"].size(), 2u);
  EXPECT_EQ(rounds["holdouts"], nlohmann::json::array({"synth"}));
  double down = 0, up = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rounds["rounds"][i]["round"], rows[i]["round"]);
    EXPECT_DOUBLE_EQ(rounds["rounds"][i]["accuracy"].get<double>(),
                     rows[i]["accuracy"].get<double>());
    EXPECT_DOUBLE_EQ(rounds["rounds"][i]["central"]["synth"]["macro_f1"].get<double>(),
                     rows[i]["central"]["synth"]["macro_f1"].get<double>());
    down += rows[i]["bytes_down"].get<double>() + rows[i].value("bytes_eval_down", 0.0);
    up += rows[i]["bytes_up"].get<double>();
  }
  const std::string m = Get(port, "/metrics", &code);
  ASSERT_EQ(code, 200);
  EXPECT_EQ(Sample(m, "fedsmear_rounds_completed_total"), 2);
  EXPECT_EQ(Sample(m, "fedsmear_current_round"), 2);
  EXPECT_EQ(Sample(m, "fedsmear_sites_registered"), 3);
  EXPECT_EQ(Sample(m, "fedsmear_sites_selected"), 3);
  EXPECT_EQ(Sample(m, "fedsmear_sites_reported"), 3);
  EXPECT_EQ(Sample(m, "fedsmear_sent_bytes_total"), down);
  EXPECT_EQ(Sample(m, "fedsmear_received_bytes_total"), up);
  EXPECT_DOUBLE_EQ(Sample(m, "fedsmear_central_accuracy_ratio"),
                   rows[1]["accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(Sample(m, "fedsmear_holdout_macro_f1_ratio{holdout=\"synth\"}"),
                   rows[1]["central"]["synth"]["macro_f1"].get<double>());
  EXPECT_EQ(Sample(m, "fedsmear_round_duration_seconds_count"), 2);
}

TEST_F(StatusFederationTest, HeadlessChromiumRendersTheRounds) {
  Result<std::string> chromium = FindProgram("chromium");
  if (!chromium.ok()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`)";
  const int port = StartRun(2);
  Finish();
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const fs::path out = Artefacts();
  const fs::path png = out / "status_page.png";
  const fs::path dom = out / "status_page.dom.html";
  fs::remove(png);
  const std::string profile = (run_dir_ / "chromium-profile").string();
  // The page polls and redraws: give it virtual time to fetch both API calls first.
  auto argv = [&](const std::string& user_data, std::vector<std::string> extra) {
    std::vector<std::string> a = {
        *chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--user-data-dir=" + user_data, "--virtual-time-budget=5000",
        "--window-size=1400,1100"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  // Headless Chromium now and then never returns from a virtual-time screenshot (about one
  // launch in four on the 2-core CI machine of 2026-12-07, cause unknown): such a launch is
  // stopped and retried with a fresh profile, at most three times. What the page shows is
  // asserted as before.
  std::optional<int> shot_exit;
  for (int attempt = 1; attempt <= 3 && !shot_exit; ++attempt) {
    auto shot = ChildProcess::Spawn(
        argv(profile + "-" + std::to_string(attempt), {"--screenshot=" + png.string(), url}),
        (run_dir_ / "chromium.log").string());
    ASSERT_TRUE(shot.ok()) << shot.status();
    shot_exit = shot->Wait(milliseconds(45000));
    if (!shot_exit) shot->Stop(milliseconds(2000));
  }
  ASSERT_EQ(shot_exit, 0) << ReadFile((run_dir_ / "chromium.log").string()).value_or("");
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 10000u);
  // --dump-dom writes the rendered DOM to stdout: run it through a shell redirect (under
  // `timeout`, retried like the screenshot).
  int dumped = -1;
  for (int attempt = 1; attempt <= 3 && dumped != 0; ++attempt) {
    const std::string cmd = "timeout 45 '" + *chromium + "' --headless --no-sandbox --disable-gpu "
                            "--disable-dev-shm-usage --no-first-run --user-data-dir='" + profile +
                            "-dom-" + std::to_string(attempt) + "' --virtual-time-budget=5000 "
                            "--dump-dom '" + url + "' > '" + dom.string() + "' 2>> '" +
                            (run_dir_ / "chromium.log").string() + "'";
    dumped = std::system(cmd.c_str());
  }
  ASSERT_EQ(dumped, 0);
  const std::string html = ReadFile(dom.string()).value_or("");
  // The rounds table has one row per round, newest first, and the plots were drawn.
  EXPECT_NE(html.find("id=\"round-1\""), std::string::npos) << html.substr(0, 2000);
  EXPECT_NE(html.find("id=\"round-2\""), std::string::npos);
  EXPECT_NE(html.find("round 2 of 2: complete"), std::string::npos);
  EXPECT_NE(html.find("<polyline fill=\"none\" stroke=\"#"), std::string::npos);
  EXPECT_NE(html.find("<td>site-3</td>"), std::string::npos);
  EXPECT_NE(html.find("<div id=\"error\" style=\"display: none;\">"), std::string::npos);
}

TEST_F(StatusFederationTest, PrometheusScrapesTheCoordinator) {
  Result<std::string> prometheus = FindProgram("prometheus");
  if (!prometheus.ok()) GTEST_SKIP() << "prometheus is not installed (Debian package `prometheus`)";
  // The coordinator's port is only known once it runs: start it first, Prometheus next, sites
  // last, so that Prometheus scrapes during the run.
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 3; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(2, 3, 3);
  c.status = {true, "127.0.0.1:0", ""};
  c.train.local_epochs = 1;
  std::string endpoint = StartCoordinator(c);
  const int port = coordinator_->status_port();
  ASSERT_GT(port, 0);
  const int prom_port = FreePort();
  ASSERT_GT(prom_port, 0);
  const fs::path config = run_dir_ / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                           "scrape_configs:\n  - job_name: fedsmear\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:" << port << "']\n";
  auto server = ChildProcess::Spawn(
      {*prometheus, "--config.file=" + config.string(),
       "--storage.tsdb.path=" + (run_dir_ / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      (run_dir_ / "prometheus.log").string());
  ASSERT_TRUE(server.ok()) << server.status();
  // Ask Prometheus (not the coordinator) what it scraped; it scrapes every second.
  auto query = [&](const std::string& expr) -> double {
    httplib::Client client("127.0.0.1", prom_port);
    auto res = client.Get("/api/v1/query", httplib::Params{{"query", expr}}, httplib::Headers{});
    if (!res || res->status != 200) return std::nan("");
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].empty()) return std::nan("");
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  // The sites start once Prometheus has scraped the waiting coordinator: it sees the run.
  double up = 0;
  for (int i = 0; i < 120 && up != 1; ++i) {
    std::this_thread::sleep_for(milliseconds(250));
    up = query("up{job=\"fedsmear\"}");
  }
  for (auto& s : sites) StartSite(s, endpoint);
  Finish();
  ASSERT_EQ(up, 1) << ReadFile((run_dir_ / "prometheus.log").string()).value_or("");
  ASSERT_TRUE(run_status_.ok()) << run_status_;
  double rounds = std::nan("");
  for (int i = 0; i < 60 && rounds != 2; ++i) {
    std::this_thread::sleep_for(milliseconds(500));
    rounds = query("fedsmear_rounds_completed_total{job=\"fedsmear\"}");
  }
  EXPECT_EQ(rounds, 2);
  EXPECT_EQ(query("fedsmear_sites_registered"), 3);
  EXPECT_EQ(query("fedsmear_build_info"), 1);
  EXPECT_EQ(query("count(fedsmear_site_last_seen_timestamp_seconds)"), 3);
  EXPECT_EQ(query("fedsmear_round_duration_seconds_count"), 2);
  // Scraped during the run too: samples before the first round show 0 completed rounds.
  EXPECT_EQ(query("min_over_time(fedsmear_rounds_completed_total[5m])"), 0);
  server->Stop();
}

}  // namespace
}  // namespace fedsmear::testing_federation
