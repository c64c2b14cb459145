#include "common/http/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <prometheus/text_serializer.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "fedsmear/version.h"

namespace fedsmear {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Gauge(const char* name, const char* help, double value) {
  ClientMetric m;
  m.gauge.value = value;
  return MetricFamily{name, help, MetricType::Gauge, {m}};
}

MetricFamily Counter(const char* name, const char* help, double value) {
  ClientMetric m;
  m.counter.value = value;
  return MetricFamily{name, help, MetricType::Counter, {m}};
}

// Fields 3.. of /proc/self/stat (after "pid (comm)"), so that fields[0] is field 3, the state.
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

std::optional<double> Field(const std::vector<std::string>& fields, int number) {
  const size_t index = static_cast<size_t>(number - 3);
  if (index >= fields.size()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(fields[index].c_str(), &end);
  if (end == fields[index].c_str()) return std::nullopt;
  return v;
}

std::optional<double> BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      if (in >> v) return v;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::optional<double> OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

std::vector<MetricFamily> ProcessMetricFamilies() {
  std::vector<MetricFamily> out;
  {
    ClientMetric m;
    m.label = {{"version", kVersion}};
    m.gauge.value = 1;
    out.push_back({"fedsmear_build_info", "Always 1; the label is the fedsmear version",
                   MetricType::Gauge, {m}});
  }
  const std::vector<std::string> stat = StatFields();
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const auto utime = Field(stat, 14), stime = Field(stat, 15), start = Field(stat, 22);
  const auto vsize = Field(stat, 23), rss = Field(stat, 24);
  if (utime && stime && ticks > 0) {
    out.push_back(Counter("process_cpu_seconds_total", "Total user and system CPU time in seconds",
                          (*utime + *stime) / ticks));
  }
  if (const auto boot = BootTime(); boot && start && ticks > 0) {
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process since the Unix epoch in seconds",
                        *boot + *start / ticks));
  }
  if (rss && page > 0) {
    out.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes",
                        *rss * page));
  }
  if (vsize) {
    out.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes", *vsize));
  }
  if (const auto fds = OpenFds()) {
    out.push_back(Gauge("process_open_fds", "Number of open file descriptors", *fds));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.push_back(Gauge("process_max_fds", "Maximum number of open file descriptors",
                        static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

std::string WithProcessMetrics(std::string text) {
  return text + prometheus::TextSerializer().Serialize(ProcessMetricFamilies());
}

}  // namespace fedsmear
