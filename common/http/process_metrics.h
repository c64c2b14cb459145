// Metrics every fedsmear daemon exports beside its own, in Prometheus' conventions:
//   fedsmear_build_info{version}        always 1; the version compiled into the binary
//   process_start_time_seconds          Unix time the process started
//   process_cpu_seconds_total           user + system CPU time
//   process_resident_memory_bytes       resident set size
//   process_virtual_memory_bytes        virtual memory size
//   process_open_fds, process_max_fds   open file descriptors and their limit
// read from /proc/self at each scrape (Linux). A value that cannot be read is left out rather
// than reported as 0.
//
// Thread-safety: pure functions over /proc. Ownership: none.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace fedsmear {

std::vector<prometheus::MetricFamily> ProcessMetricFamilies();

// The families as Prometheus text, after `text` (another registry's exposition).
std::string WithProcessMetrics(std::string text);

}  // namespace fedsmear
