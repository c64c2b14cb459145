// Issue 37: a long-lived coordinator takes jobs. Two jobs submitted to one serving coordinator
// (ServeJobs) run one after the other with the same two site daemons, which stay up between
// them; `job list` would show both with their outcome. A job whose config is unusable fails with
// the reason and the next one still runs; an abort request stops a running job. The service's
// one status endpoint lists the jobs, keeps each finished job's page after the next job started,
// and answers /healthz and /metrics when no job runs.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coordinator/jobs/job_server.h"
#include "coordinator/jobs/queue_listing.h"
#include "coordinator/status/status_service.h"
#include "coordinator/strategy_registry.h"
#include "tests/coordinator/federation_harness.h"

namespace fedsmear::testing_federation {
namespace {

// A loopback port nobody listens on now (both jobs bind it in turn).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class JobsTest : public FederationTest {
 protected:
  CoordinatorFactory Factory() {
    return [](const CoordinatorConfig& c) -> Result<std::unique_ptr<Coordinator>> {
      ASSIGN_OR_RETURN(auto strategy, MakeStrategy(c));
      ASSIGN_OR_RETURN(auto eval, CentralEvaluator::Create(c.holdout, c.model.class_names,
                                                           c.model.input_size, c.preprocess,
                                                           CentralEvalOptions{c.eval_engine, 1}));
      return Coordinator::Create(c, std::move(strategy), std::move(eval), false);
    };
  }
  std::string WriteJob(const CoordinatorConfig& c, const std::string& name) {
    const std::string path = (run_dir_ / (name + ".yaml")).string();
    EXPECT_TRUE(WriteFileAtomic(path, ToYaml(c)).ok());
    return path;
  }
  // Stops the serving coordinator and the sites (which outlive its jobs).
  void StopAll(std::atomic<bool>& service_stop, std::thread& service) {
    service_stop.store(true);
    service.join();
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  // Waits until no job is queued or running (or `seconds` pass).
  std::vector<JobInfo> WaitForJobs(const JobQueue& queue, double seconds) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    std::vector<JobInfo> jobs;
    while (std::chrono::steady_clock::now() < until) {
      jobs = queue.List().value_or(std::vector<JobInfo>{});
      bool busy = false;
      for (const JobInfo& j : jobs) {
        busy |= j.state == JobState::kQueued || j.state == JobState::kRunning;
      }
      if (!busy) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return jobs;
  }
};

// The JSON the endpoint on `port` answers at `path` (null, with a test failure, unless 200).
nlohmann::json GetJson(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path.c_str());
  EXPECT_TRUE(res && res->status == 200) << path << ": " << (res ? res->body : "no answer");
  return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json();
}

TEST_F(JobsTest, TwoJobsRunOneAfterTheOtherWithTheSameSites) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 2; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(2, 2, 2);
  c.bind = "tcp://127.0.0.1:" + std::to_string(FreePort());
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  // A job's own status section is not used under the service's endpoint (it would take its
  // address); this port is left free.
  const int job_status_port = FreePort();
  c.status = {true, "127.0.0.1:" + std::to_string(job_status_port), ""};
  auto queue = JobQueue::Open((run_dir_ / "jobs").string());
  ASSERT_TRUE(queue.ok()) << queue.status();
  ASSERT_TRUE(queue->Submit(WriteJob(c, "first"), "first").ok());
  CoordinatorConfig broken = c;
  broken.strategy = "krum";  // not registered: fails with the reason, the next job runs
  ASSERT_TRUE(queue->Submit(WriteJob(broken, "broken"), "broken").ok());
  c.rounds = 1;
  ASSERT_TRUE(queue->Submit(WriteJob(c, "second"), "second").ok());

  std::atomic<bool> service_stop{false};
  Status served;
  JobServerOptions options{0.2, AttachJobLogs()};  // before the site threads log
  StatusSlot live;
  QueueJobListing listing(*queue);
  auto endpoint = StatusService::StartForJobs({true, "127.0.0.1:0", ""}, &live, &listing);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const int port = (*endpoint)->port();
  options.live = &live;
  EXPECT_EQ(GetJson(port, "/api/run")["stage"], "idle") << "the endpoint is up before any job";
  std::thread service([&] { served = ServeJobs(*queue, Factory(), service_stop, options); });
  for (auto& s : sites) StartSite(s, c.bind);  // started once, for both jobs
  // Once the third job has started, the first one's page still answers, from its run folder.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (std::chrono::steady_clock::now() < until &&
         queue->Get("job-0003").value_or(JobInfo{}).started_unix == 0) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  const nlohmann::json first_page = GetJson(port, "/api/jobs/job-0001");
  EXPECT_EQ(first_page["job"]["state"], "completed");
  EXPECT_EQ(first_page["run"]["stage"], "complete");
  EXPECT_EQ(first_page["rounds"]["rounds"].size(), 2u);
  const std::vector<JobInfo> jobs = WaitForJobs(*queue, 240);
  StopAll(service_stop, service);

  // Between jobs (none queued now) the endpoint answers: the jobs, the last job's final values.
  const nlohmann::json listed = GetJson(port, "/api/jobs");
  ASSERT_EQ(listed["jobs"].size(), 3u);
  EXPECT_EQ(listed["jobs"][0]["id"], "job-0003");
  EXPECT_EQ(listed["jobs"][0]["state"], "completed");
  EXPECT_EQ(listed["jobs"][1]["state"], "failed");
  EXPECT_EQ(listed["jobs"][2]["state"], "completed");
  EXPECT_EQ(listed["live_job"], "job-0003");
  const nlohmann::json run = GetJson(port, "/api/run");
  EXPECT_EQ(run["job"], "job-0003");
  EXPECT_EQ(run["stage"], "complete");
  EXPECT_EQ(GetJson(port, "/api/jobs/job-0002")["run"]["stage"], "failed");
  const nlohmann::json first = GetJson(port, "/api/jobs/job-0001");
  EXPECT_FALSE(first["live"]);
  ASSERT_EQ(first["sites"].size(), 2u);
  EXPECT_EQ(first["sites"][0]["rounds_reported"], 2);
  {
    httplib::Client client("127.0.0.1", port);
    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_NE(metrics->body.find("fedsmear_run_ended 1"), std::string::npos);
    EXPECT_NE(metrics->body.find("fedsmear_jobs{state=\"completed\"} 2"), std::string::npos);
    auto missing = client.Get("/api/jobs/job-0009");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    httplib::Client job_port("127.0.0.1", job_status_port);
    job_port.set_connection_timeout(1, 0);
    EXPECT_FALSE(job_port.Get("/healthz")) << "no job served its own endpoint";
  }

  ASSERT_TRUE(served.ok()) << served;
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].state, JobState::kCompleted) << jobs[0].message;
  EXPECT_EQ(jobs[1].state, JobState::kFailed);
  EXPECT_NE(jobs[1].message.find("krum"), std::string::npos) << jobs[1].message;
  EXPECT_EQ(jobs[2].state, JobState::kCompleted) << jobs[2].message;
  EXPECT_LE(jobs[0].ended_unix, jobs[2].started_unix);
  for (const size_t j : {size_t{0}, size_t{2}}) {
    std::ifstream in(jobs[j].run_dir() + "/metrics.jsonl");
    int rounds = 0;
    for (std::string line; std::getline(in, line);) {
      ++rounds;
      EXPECT_EQ(nlohmann::json::parse(line)["sites_reported"].size(), 2u) << line;
    }
    EXPECT_EQ(rounds, j == 0 ? 2 : 1) << jobs[j].id;
    EXPECT_NE(ReadFile(jobs[j].log_path()).value_or("").find("job " + jobs[j].id + " completed"),
              std::string::npos);
  }
}

TEST_F(JobsTest, AbortStopsARunningJob) {
  std::vector<ClientConfig> sites;
  for (int k = 1; k <= 2; ++k) sites.push_back(SiteConfig("site-" + std::to_string(k), k));
  CoordinatorConfig c = MakeConfig(50, 2, 2);
  c.bind = "tcp://127.0.0.1:" + std::to_string(FreePort());
  c.train.local_epochs = 1;
  c.federated_evaluation = false;
  auto queue = JobQueue::Open((run_dir_ / "jobs").string());
  ASSERT_TRUE(queue.ok());
  auto job = queue->Submit(WriteJob(c, "long"), "long");
  ASSERT_TRUE(job.ok());
  std::atomic<bool> service_stop{false};
  std::thread service([&] { (void)ServeJobs(*queue, Factory(), service_stop, {0.2, nullptr}); });
  for (auto& s : sites) StartSite(s, c.bind);
  // Abort once the first round is recorded.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < until &&
         !fs::exists(job->run_dir() + "/metrics.jsonl")) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(queue->Abort(job->id).ok());
  const std::vector<JobInfo> jobs = WaitForJobs(*queue, 60);
  StopAll(service_stop, service);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kAborted) << jobs[0].message;
}

}  // namespace
}  // namespace fedsmear::testing_federation
