// The status endpoint's view of the jobs folder (coordinator/jobs/queue_listing.h): what the
// folder says, states and times included, each job's run settings from its submitted config,
// and ids that are not jobs (or not ids) are not found.
#include "coordinator/jobs/queue_listing.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

TEST(QueueJobListingTest, ListsTheFolderAndReadsEachJobsSettings) {
  testing::TempDir dir("fedsmear-listing");
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("a.yaml"),
                              "rounds: 7\nmin_sites: 3\nstrategy: fedavg\ncodec_down: f32\n"
                              "codec_up: f32\nsecure_aggregation: 'off'\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("broken.yaml"), "rounds: seven\n").ok());
  auto queue = JobQueue::Open(dir.Sub("jobs"));
  ASSERT_TRUE(queue.ok()) << queue.status();
  ASSERT_TRUE(queue->Submit(dir.Sub("a.yaml"), "first").ok());
  ASSERT_TRUE(queue->Submit(dir.Sub("broken.yaml"), "").ok());
  ASSERT_TRUE(queue->Set("job-0001", JobState::kRunning).ok());
  ASSERT_TRUE(queue->Set("job-0001", JobState::kCompleted).ok());
  ASSERT_TRUE(queue->Set("job-0002", JobState::kFailed, "rounds: not a number").ok());

  QueueJobListing listing(*queue);
  auto jobs = listing.Jobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id, "job-0001");
  EXPECT_EQ((*jobs)[0].name, "first");
  EXPECT_EQ((*jobs)[0].state, "completed");
  EXPECT_GT((*jobs)[0].started_unix, 0);
  EXPECT_GE((*jobs)[0].ended_unix, (*jobs)[0].started_unix);
  EXPECT_EQ((*jobs)[0].run_dir, queue->dir() + "/job-0001/run");
  EXPECT_EQ((*jobs)[1].state, "failed");
  EXPECT_EQ((*jobs)[1].message, "rounds: not a number");

  auto first = listing.Job("job-0001");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->summary.state, "completed");
  EXPECT_EQ(first->run.rounds_planned, 7);
  EXPECT_EQ(first->run.min_sites, 3);
  EXPECT_EQ(first->run.strategy, "fedavg");
  EXPECT_EQ(first->run.codec_up, "f32");
  EXPECT_FALSE(first->run.secure_aggregation);
  auto broken = listing.Job("job-0002");
  ASSERT_TRUE(broken.ok()) << "a job whose config is unusable still has its page";
  EXPECT_EQ(broken->run.rounds_planned, 0);

  for (const std::string id : {"job-0003", "..", "job-0001/../job-0002", "../jobs/job-0001", ""}) {
    auto missing = listing.Job(id);
    ASSERT_FALSE(missing.ok()) << id;
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << id;
  }
}

}  // namespace
}  // namespace fedsmear
