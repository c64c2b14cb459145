// The jobs folder of a long-lived coordinator (coordinator/jobs/job_queue.h): ids in order,
// states and their times, abort before and while running, and refusals.
#include "coordinator/jobs/job_queue.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fedsmear_jobs_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(WriteFileAtomic((dir_ / "a.yaml").string(), "rounds: 3\n").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(JobQueueTest, JobsRunOldestFirstThroughTheirStates) {
  auto queue = JobQueue::Open((dir_ / "jobs").string());
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(fs::status(dir_ / "jobs").permissions() & fs::perms::others_all, fs::perms::none);
  auto first = queue->Submit((dir_ / "a.yaml").string(), "");
  auto second = queue->Submit((dir_ / "a.yaml").string(), "second try");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->id, "job-0001");
  EXPECT_EQ(second->id, "job-0002");
  EXPECT_EQ(first->name, "a.yaml");
  EXPECT_EQ(second->name, "second try");
  EXPECT_FALSE(first->submitted_by.empty());
  EXPECT_EQ(ReadFile(first->config_path()).value_or(""), "rounds: 3\n");

  EXPECT_EQ(queue->NextQueued()->id, "job-0001");
  ASSERT_TRUE(queue->Set("job-0001", JobState::kRunning).ok());
  EXPECT_EQ(queue->NextQueued()->id, "job-0002");
  ASSERT_TRUE(queue->Set("job-0001", JobState::kCompleted).ok());
  auto done = queue->Get("job-0001");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kCompleted);
  EXPECT_GT(done->started_unix, 0);
  EXPECT_GE(done->ended_unix, done->started_unix);

  // Abort: a queued job at once; a running one by request; an ended one not at all.
  ASSERT_TRUE(queue->Abort("job-0002").ok());
  EXPECT_EQ(queue->Get("job-0002")->state, JobState::kAborted);
  EXPECT_EQ(queue->NextQueued().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue->Abort("job-0001").code(), StatusCode::kFailedPrecondition);
  auto third = queue->Submit((dir_ / "a.yaml").string(), "");
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(queue->Set(third->id, JobState::kRunning).ok());
  EXPECT_FALSE(queue->AbortRequested(third->id));
  ASSERT_TRUE(queue->Abort(third->id).ok());
  EXPECT_TRUE(queue->AbortRequested(third->id));
  EXPECT_EQ(queue->Get(third->id)->state, JobState::kRunning);  // the server decides

  auto all = queue->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].id, "job-0003");
}

// Whoever submits (an operator whose umask keeps everything private, root), the job's folder and
// files are the jobs folder's group's to read and write, and the folder passes its group on.
TEST_F(JobQueueTest, JobsBelongToTheFolderGroupWhateverTheSubmittersUmask) {
  auto queue = JobQueue::Open((dir_ / "jobs").string());
  ASSERT_TRUE(queue.ok()) << queue.status();
  const mode_t old_umask = ::umask(077);
  auto job = queue->Submit((dir_ / "a.yaml").string(), "");
  const Status aborted = job.ok() ? queue->Abort(job->id) : Status::Ok();
  ::umask(old_umask);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_TRUE(aborted.ok()) << aborted;
  const fs::perms shared_folder = fs::perms::owner_all | fs::perms::group_all | fs::perms::set_gid;
  EXPECT_EQ(fs::status(dir_ / "jobs").permissions(), shared_folder);
  EXPECT_EQ(fs::status(job->dir).permissions(), shared_folder);
  const fs::perms shared_file = fs::perms::owner_read | fs::perms::owner_write |
                                fs::perms::group_read | fs::perms::group_write;
  EXPECT_EQ(fs::status(job->config_path()).permissions(), shared_file);
  EXPECT_EQ(fs::status(job->dir + "/job.json").permissions(), shared_file);
  struct stat folder {}, made {};
  ASSERT_EQ(::stat((dir_ / "jobs").c_str(), &folder), 0);
  ASSERT_EQ(::stat(job->dir.c_str(), &made), 0);
  EXPECT_EQ(made.st_gid, folder.st_gid);
}

TEST_F(JobQueueTest, BadIdsAndDamagedRecordsAreRefused) {
  auto queue = JobQueue::Open((dir_ / "jobs").string());
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ(queue->Get("../etc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue->Get("job-0042").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue->Submit((dir_ / "missing.yaml").string(), "").status().code(),
            StatusCode::kNotFound);
  auto job = queue->Submit((dir_ / "a.yaml").string(), "");
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(WriteFileAtomic(job->dir + "/job.json", "{\"id\": 7}").ok());
  EXPECT_EQ(queue->List().status().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace fedsmear
