// The coordinator's Prometheus series that StatusModel keeps in its registry (the per-site
// series are made at each scrape in status_model.cc; build and process metrics come from
// common/http/process_metrics.h). Internal to fedsmear_status.
// Thread-safety: prometheus-cpp metrics are thread-safe. Ownership: the pointers point into
// the registry given to the constructor, which must outlive this object.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace fedsmear {

struct StatusMetrics {
  explicit StatusMetrics(prometheus::Registry& r);

  prometheus::Counter* rounds_completed;
  prometheus::Counter* rounds_incomplete;
  prometheus::Histogram* round_duration;
  prometheus::Gauge* last_round_duration;
  prometheus::Gauge* current_round;
  prometheus::Gauge* rounds_planned;
  prometheus::Gauge* sites_registered;
  prometheus::Gauge* sites_connected;
  prometheus::Gauge* sites_selected;
  prometheus::Gauge* sites_reported;
  prometheus::Counter* bytes_sent;
  prometheus::Counter* bytes_received;
  // Accuracy series exist only after the first evaluation: no 0 that looks like a result.
  prometheus::Family<prometheus::Gauge>* central_accuracy;
  prometheus::Family<prometheus::Gauge>* central_macro_f1;
  prometheus::Family<prometheus::Gauge>* holdout_accuracy;
  prometheus::Family<prometheus::Gauge>* holdout_macro_f1;
  prometheus::Family<prometheus::Counter>* refusals;
  prometheus::Family<prometheus::Counter>* failures;
  prometheus::Family<prometheus::Gauge>* run_info;
  prometheus::Gauge* run_info_current = nullptr;
  prometheus::Gauge* round_in_progress;
  prometheus::Gauge* round_started;
  prometheus::Gauge* round_deadline;
  prometheus::Gauge* run_ended;
  prometheus::Gauge* run_start_time;
};

}  // namespace fedsmear
