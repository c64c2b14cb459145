// SiteRegistry and TaskRound (coordinator/site_registry.h, task_round.h) over the in-process
// transport, without sockets: fake sites are InprocHub connections driven by the test thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "common/net/inproc_transport.h"
#include "coordinator/site_registry.h"
#include "coordinator/task_round.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string Encode(wire::Body body) {
  return wire::Encode(wire::Message{wire::kProtocolVersion, "run-1", std::move(body)});
}

// A valid evaluation task (the wire checks the model's description).
wire::EvaluateTask Task(uint64_t task_id) {
  wire::EvaluateTask task;
  task.round = 1;
  task.task_id = task_id;
  task.arch = "bdn-tiny";
  task.num_classes = 2;
  task.input_size = 32;
  return task;
}

// The first message of `body`'s type that reaches a fake site, skipping others.
template <typename T>
std::optional<T> Next(SiteTransport& site) {
  for (int i = 0; i < 20; ++i) {
    auto bytes = site.Receive(500ms);
    if (!bytes.ok() || !bytes->has_value()) return std::nullopt;
    auto msg = wire::Decode(**bytes);
    if (!msg.ok()) return std::nullopt;
    if (auto* t = std::get_if<T>(&msg->body)) return *t;
  }
  return std::nullopt;
}

class TaskRoundTest : public ::testing::Test {
 protected:
  void Start(double heartbeat_s) {
    auto server = hub_.Serve();
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    SiteRegistryOptions o;
    o.run_id = "run-1";
    o.heartbeat_s = heartbeat_s;
    registry_ = std::make_unique<SiteRegistry>(*server_, o);
  }

  // Connects and registers `id`; returns its connection.
  SiteTransport& Join(const std::string& id, uint64_t num_train = 10) {
    sites_[id] = hub_.Connect(id);
    wire::Hello hello;
    hello.site_id = id;
    hello.num_train = num_train;
    EXPECT_TRUE(sites_[id]->Send(Encode(hello), 1s).ok());
    EXPECT_TRUE(registry_->DrainQueued().ok());
    auto welcome = Next<wire::Welcome>(*sites_[id]);
    EXPECT_TRUE(welcome && welcome->accepted);
    return *sites_[id];
  }

  void Reply(const std::string& id, wire::Body body) {
    ASSERT_TRUE(sites_[id]->Send(Encode(std::move(body)), 1s).ok());
  }

  // Sends an evaluation task to each of `ids`; returns their task ids.
  std::map<std::string, uint64_t> Ask(TaskRound& round, const std::vector<std::string>& ids) {
    std::map<std::string, uint64_t> tasks;
    for (const std::string& id : ids) {
      wire::EvaluateTask task = Task(next_task_++);
      EXPECT_TRUE(round.Send(id, task, task.task_id));
      auto got = Next<wire::EvaluateTask>(*sites_[id]);
      EXPECT_TRUE(got && got->task_id == task.task_id);
      tasks[id] = task.task_id;
    }
    return tasks;
  }

  static wire::EvaluateResult ResultOf(uint64_t task_id) {
    wire::EvaluateResult r;
    r.round = 1;
    r.task_id = task_id;
    r.num_samples = 3;
    return r;
  }

  // Answers EvaluateResults of the right task; counts every call by whether it was waited for.
  TaskRound::Handler Handler() {
    return [this](const std::string&, const uint64_t* task, wire::Message& m, size_t) {
      (task ? waited_calls_ : unasked_calls_)++;
      auto* r = std::get_if<wire::EvaluateResult>(&m.body);
      if (task == nullptr || r == nullptr || r->task_id != *task) return Verdict::Ignore();
      if (r->num_samples == 0) return Verdict::Fail(InvalidArgument("empty result"));
      return Verdict::Answer();
    };
  }

  static const SiteFailure* FailureOf(const TaskRound& round, const std::string& id) {
    for (const SiteFailure& f : round.failures()) {
      if (f.site_id == id) return &f;
    }
    return nullptr;
  }

  InprocHub hub_;
  std::unique_ptr<ServerTransport> server_;
  std::unique_ptr<SiteRegistry> registry_;
  std::map<std::string, std::unique_ptr<SiteTransport>> sites_;
  std::atomic<bool> stop_{false};
  uint64_t next_task_ = 1;
  int waited_calls_ = 0;
  int unasked_calls_ = 0;
};

TEST_F(TaskRoundTest, AllAnswer) {
  Start(10);
  for (const char* id : {"a", "b", "c"}) Join(id);
  TaskRound round(*registry_, "test");
  auto tasks = Ask(round, {"a", "b", "c"});
  for (const auto& [id, task] : tasks) Reply(id, ResultOf(task));
  const auto started = Clock::now();
  ASSERT_TRUE(round.Collect(Clock::now() + 10s, stop_, Handler()).ok());
  EXPECT_LT(Clock::now() - started, 2s);  // returns as soon as everyone answered
  EXPECT_EQ(round.answered().size(), 3u);
  EXPECT_TRUE(round.failures().empty());
  EXPECT_TRUE(round.done());
}

TEST_F(TaskRoundTest, SilentSiteIsDroppedBeforeTheDeadline) {
  Start(0.05);  // silent after 150 ms without a message
  Join("a");
  Join("b");
  TaskRound round(*registry_, "test");
  auto tasks = Ask(round, {"a", "b"});
  Reply("a", ResultOf(tasks["a"]));
  const auto started = Clock::now();
  ASSERT_TRUE(round.Collect(Clock::now() + 30s, stop_, Handler()).ok());
  EXPECT_LT(Clock::now() - started, 5s);
  ASSERT_EQ(round.answered(), std::vector<std::string>{"a"});
  const SiteFailure* f = FailureOf(round, "b");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason.code(), StatusCode::kUnavailable);
}

TEST_F(TaskRoundTest, DeadlineFailsTheRest) {
  Start(10);
  Join("a");
  Join("b");
  TaskRound round(*registry_, "test");
  auto tasks = Ask(round, {"a", "b"});
  Reply("b", ResultOf(tasks["b"]));
  ASSERT_TRUE(round.Collect(Clock::now() + 300ms, stop_, Handler()).ok());
  EXPECT_EQ(round.answered(), std::vector<std::string>{"b"});
  ASSERT_EQ(round.failures().size(), 1u);
  EXPECT_EQ(round.failures()[0].site_id, "a");
  EXPECT_EQ(round.failures()[0].reason.code(), StatusCode::kTimeout);
}

TEST_F(TaskRoundTest, RefusalsErrorsAndRejectedRepliesAreFailures) {
  Start(10);
  for (const char* id : {"a", "b", "c", "d"}) Join(id);
  TaskRound round(*registry_, "test");
  auto tasks = Ask(round, {"a", "b", "c", "d"});
  Reply("a", wire::Refusal{tasks["a"], 1, "policy says no"});
  Reply("b", wire::Error{wire::ErrorCode::kInternal, "disk full"});
  Reply("c", ResultOf(tasks["c"] + 100));  // another task's reply: ignored, c still owes one
  Reply("c", wire::Refusal{tasks["c"] + 100, 1, "not for this task"});  // ignored as well
  wire::EvaluateResult empty = ResultOf(tasks["d"]);
  empty.num_samples = 0;
  Reply("d", empty);
  ASSERT_TRUE(round.Collect(Clock::now() + 300ms, stop_, Handler()).ok());
  EXPECT_TRUE(round.answered().empty());
  ASSERT_EQ(round.failures().size(), 4u);
  EXPECT_EQ(FailureOf(round, "a")->reason.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(FailureOf(round, "a")->reason.message(), "policy says no");
  EXPECT_EQ(FailureOf(round, "b")->reason.code(), StatusCode::kInternal);
  EXPECT_EQ(FailureOf(round, "c")->reason.code(), StatusCode::kTimeout);
  EXPECT_EQ(FailureOf(round, "d")->reason.code(), StatusCode::kInvalidArgument);
}

TEST_F(TaskRoundTest, UnaskedAndDuplicateRepliesDoNotCount) {
  Start(10);
  for (const char* id : {"a", "b", "outsider"}) Join(id);
  TaskRound round(*registry_, "test");
  auto tasks = Ask(round, {"a", "b"});
  Reply("outsider", ResultOf(99));
  Reply("a", ResultOf(tasks["a"]));
  Reply("a", ResultOf(tasks["a"]));  // duplicate
  Reply("b", ResultOf(tasks["b"]));
  ASSERT_TRUE(round.Collect(Clock::now() + 10s, stop_, Handler()).ok());
  EXPECT_EQ(round.answered(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(round.failures().empty());
  // The outsider's reply and a's duplicate (if it arrived before the round closed) reached the
  // handler as not waited for.
  EXPECT_EQ(waited_calls_, 2);
  EXPECT_GE(unasked_calls_, 1);
}

TEST_F(TaskRoundTest, UnreachableSiteFailsAtSendAndStopAborts) {
  Start(10);
  Join("a");
  Join("b");
  hub_.Kill("b");
  TaskRound round(*registry_, "test");
  wire::EvaluateTask task = Task(7);
  EXPECT_TRUE(round.Send("a", task, 7));
  EXPECT_FALSE(round.Send("b", task, 7));
  EXPECT_EQ(FailureOf(round, "b")->reason.code(), StatusCode::kUnavailable);
  stop_.store(true);
  EXPECT_EQ(round.Collect(Clock::now() + 10s, stop_, Handler()).code(), StatusCode::kAborted);
}

TEST_F(TaskRoundTest, RegistryAdoptsReconnectionsAndRefusesForgedHellos) {
  Start(10);
  SiteTransport& a = Join("a", 1000000000);
  EXPECT_EQ(registry_->Weight("a"), static_cast<uint64_t>(SiteRegistryOptions{}.max_site_samples));
  // A hello naming another site than the authenticated one is refused.
  auto forger = hub_.Connect("mallory");
  wire::Hello hello;
  hello.site_id = "a";
  ASSERT_TRUE(forger->Send(Encode(hello), 1s).ok());
  ASSERT_TRUE(registry_->DrainQueued().ok());
  auto refused = Next<wire::Welcome>(*forger);
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->accepted);
  // A connection nobody introduced is asked to say hello.
  auto stranger = hub_.Connect("stranger");
  ASSERT_TRUE(stranger->Send(Encode(wire::Heartbeat{1, 0, ""}), 1s).ok());
  ASSERT_TRUE(registry_->DrainQueued().ok());
  auto error = Next<wire::Error>(*stranger);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, wire::ErrorCode::kUnknownSite);
  // a's network drops and comes back on a new connection: its task reaches it there.
  hub_.Kill("a");
  hub_.Revive("a");
  TaskRound round(*registry_, "test");
  wire::EvaluateTask task = Task(5);
  EXPECT_FALSE(round.Send("a", task, 5));  // the old connection is gone
  ASSERT_TRUE(a.Send(Encode(wire::Heartbeat{2, 0, ""}), 1s).ok());
  ASSERT_TRUE(registry_->DrainQueued().ok());
  TaskRound again(*registry_, "test");
  EXPECT_TRUE(again.Send("a", task, 5));
  auto got = Next<wire::EvaluateTask>(a);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->task_id, 5u);
  EXPECT_EQ(registry_->Live().size(), 1u);
}

}  // namespace
}  // namespace fedsmear
