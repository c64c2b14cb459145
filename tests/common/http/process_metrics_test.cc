// Build and process metrics read from /proc/self.
#include "common/http/process_metrics.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "fedsmear/version.h"

namespace fedsmear {
namespace {

double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
  }
  return std::nan("");
}

TEST(ProcessMetricsTest, ReportsThisProcess) {
  const std::string t = WithProcessMetrics("");
  EXPECT_EQ(Sample(t, std::string("fedsmear_build_info{version=\"") + kVersion + "\"}"), 1) << t;
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = Sample(t, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600) << "this test process started within the hour";
  EXPECT_GT(Sample(t, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sample(t, "process_virtual_memory_bytes"), Sample(t, "process_resident_memory_bytes"));
  EXPECT_GE(Sample(t, "process_cpu_seconds_total"), 0);
  EXPECT_NE(t.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  EXPECT_GT(Sample(t, "process_max_fds"), 0);
}

TEST(ProcessMetricsTest, OpenFdsCountsDescriptors) {
  const double before = Sample(WithProcessMetrics(""), "process_open_fds");
  ASSERT_GE(before, 3);
  const int a = ::open("/dev/null", O_RDONLY), b = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(Sample(WithProcessMetrics(""), "process_open_fds"), before + 2);
  ::close(a);
  ::close(b);
  EXPECT_EQ(Sample(WithProcessMetrics(""), "process_open_fds"), before);
}

}  // namespace
}  // namespace fedsmear
