// tools/job_commands.h through the command line, as `fedsmear` parses it: an admin's commands
// work inside the service's jobs folder and never make or re-mode it; submit checks the config
// and makes its paths absolute; list, status and abort follow a job.
#include "tools/job_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "common/file_util.h"
#include "tests/temp_dir.h"
#include "tests/tools/cli_run.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

CliRun Job(std::vector<std::string> args, const std::string& jobs) {
  args.insert(args.begin(), "job");
  args.push_back("--jobs");
  args.push_back(jobs);
  return RunCli({&AddJobCommand}, args);
}

TEST(JobCommandsTest, AdminCommandsUseTheServiceFolderAsItIs) {
  testing::TempDir dir("fedsmear-job-cli");
  const std::string jobs = dir.Sub("jobs");
  const std::string config = dir.Sub("trial.yaml");
  ASSERT_TRUE(WriteFileAtomic(config, "secret_key_file: keys/coordinator.key\n"
                                      "allowed_sites_file: " + dir.Sub("allowed") + "\n"
                                      "run_dir: " + dir.Sub("run") + "\nrounds: 7\n")
                  .ok());

  // A mistyped --jobs is an error that names the service, and leaves nothing behind.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"list"}, {"submit", config}, {"status", "job-0001"},
                                             {"abort", "job-0001"}}) {
    CliRun missing = Job(args, jobs);
    EXPECT_EQ(missing.code, 2) << args[0];
    EXPECT_NE(missing.err.find("no jobs folder " + jobs), std::string::npos) << missing.err;
    EXPECT_NE(missing.err.find("fedsmear-coordinator"), std::string::npos) << missing.err;
  }
  EXPECT_FALSE(fs::exists(jobs));

  // The operator's mode (here 0750) survives every command.
  fs::create_directory(jobs);
  const fs::perms mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
  fs::permissions(jobs, mode);
  CliRun empty = Job({"list"}, jobs);
  EXPECT_EQ(empty.code, 0);
  EXPECT_NE(empty.out.find("no jobs in"), std::string::npos) << empty.out;

  ASSERT_TRUE(WriteFileAtomic(dir.Sub("bad.yaml"), "strategy: nosuch\n").ok());
  CliRun bad = Job({"submit", dir.Sub("bad.yaml")}, jobs);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("nosuch"), std::string::npos) << bad.err;

  CliRun submit = Job({"submit", config, "--name", "trial"}, jobs);
  ASSERT_EQ(submit.code, 0) << submit.err;
  EXPECT_EQ(submit.out, "job-0001 queued (trial, 7 rounds)\n");
  // The service runs elsewhere: the relative key path was made absolute against this folder.
  Result<std::string> queued = ReadFile(jobs + "/job-0001/config.yaml");
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_NE(queued->find((fs::current_path() / "keys/coordinator.key").string()),
            std::string::npos) << *queued;
  EXPECT_EQ(fs::status(jobs).permissions(), mode);

  CliRun list = Job({"list"}, jobs);
  EXPECT_NE(list.out.find("job-0001  queued  trial"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("job-0002"), std::string::npos) << "the refused config was queued";
  CliRun abort = Job({"abort", "job-0001"}, jobs);
  ASSERT_EQ(abort.code, 0) << abort.err;
  EXPECT_EQ(abort.out, "job-0001: aborted\n");
  CliRun status = Job({"status", "job-0001"}, jobs);
  EXPECT_NE(status.out.find("job-0001: aborted"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("before it started"), std::string::npos) << status.out;
  EXPECT_EQ(Job({"abort", "job-0001"}, jobs).code, 1);  // already ended
  EXPECT_EQ(Job({"status", "job-0009"}, jobs).code, 2);
  EXPECT_EQ(fs::status(jobs).permissions(), mode);
}

}  // namespace
}  // namespace fedsmear
