// ProcessSlots (client/process_slots.h): the work budget site processes of a simulation share.
#include "client/process_slots.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

fs::path Dir() {
  return fs::temp_directory_path() / ("fedsmear_slots_" + std::to_string(::getpid()));
}

TEST(ProcessSlotsTest, AHolderWaitsForAFreeSlot) {
  fs::remove_all(Dir());
  auto slots = ParseWorkSlots(Dir().string() + ":2");
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(slots->slots(), 2);
  auto a = slots->Acquire();
  auto b = slots->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  std::atomic<bool> got{false};
  std::thread third([&] {
    auto c = slots->Acquire();
    got.store(c.ok());
  });
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_FALSE(got.load()) << "two slots, three holders";
  { ProcessSlots::Held released = std::move(*a); }
  third.join();
  EXPECT_TRUE(got.load());
  fs::remove_all(Dir());
}

TEST(ProcessSlotsTest, AProcessThatDiesReleasesItsSlot) {
  fs::remove_all(Dir());
  auto slots = ParseWorkSlots(Dir().string() + ":1");
  ASSERT_TRUE(slots.ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = slots->Acquire();
    (void)!::write(ready[1], "x", 1);
    ::usleep(300000);
    ::_exit(held.ok() ? 0 : 1);  // dies holding it: the kernel drops the lock
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const auto start = std::chrono::steady_clock::now();
  auto mine = slots->Acquire();
  ASSERT_TRUE(mine.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(Dir());
}

TEST(ProcessSlotsTest, BadSpecsAreRefused) {
  EXPECT_EQ(ParseWorkSlots("no-count").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWorkSlots(Dir().string() + ":x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWorkSlots(Dir().string() + ":0").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedsmear
