#include "coordinator/status/status_metrics.h"

namespace fedsmear {

StatusMetrics::StatusMetrics(prometheus::Registry& r) {
  using namespace prometheus;
  rounds_completed = &BuildCounter().Name("fedsmear_rounds_completed_total")
                          .Help("Training rounds completed (aggregated and checkpointed)")
                          .Register(r).Add({});
  rounds_incomplete = &BuildCounter().Name("fedsmear_rounds_incomplete_total")
                           .Help("Round attempts with fewer than min_sites updates (retried)")
                           .Register(r).Add({});
  round_duration = &BuildHistogram().Name("fedsmear_round_duration_seconds")
                        .Help("Wall time of a round from sending tasks to the last update")
                        .Register(r).Add({}, Histogram::BucketBoundaries{
                            1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600});
  last_round_duration = &BuildGauge().Name("fedsmear_last_round_duration_seconds")
                             .Help("Wall time of the last completed round").Register(r).Add({});
  current_round = &BuildGauge().Name("fedsmear_current_round")
                       .Help("Round in progress (or last finished)").Register(r).Add({});
  rounds_planned = &BuildGauge().Name("fedsmear_rounds_planned")
                        .Help("Rounds the run is configured for").Register(r).Add({});
  sites_registered = &BuildGauge().Name("fedsmear_sites_registered")
                          .Help("Sites that said hello during this run").Register(r).Add({});
  sites_connected = &BuildGauge().Name("fedsmear_sites_connected")
                         .Help("Sites heard from within 3 heartbeat intervals")
                         .Register(r).Add({});
  sites_selected = &BuildGauge().Name("fedsmear_sites_selected")
                        .Help("Sites selected in the current (or last) round").Register(r).Add({});
  sites_reported = &BuildGauge().Name("fedsmear_sites_reported")
                        .Help("Sites whose update was aggregated in the last finished round")
                        .Register(r).Add({});
  bytes_sent = &BuildCounter().Name("fedsmear_sent_bytes_total")
                    .Help("Bytes of training and evaluation tasks sent to sites")
                    .Register(r).Add({});
  bytes_received = &BuildCounter().Name("fedsmear_received_bytes_total")
                        .Help("Bytes of model updates received from sites").Register(r).Add({});
  central_accuracy = &BuildGauge().Name("fedsmear_central_accuracy_ratio")
                          .Help("Accuracy (0-1) of the global model on all held-out sets "
                                "(pooled), from the last evaluated round")
                          .Register(r);
  central_macro_f1 = &BuildGauge().Name("fedsmear_central_macro_f1_ratio")
                          .Help("Macro-F1 (0-1) of the global model on all held-out sets "
                                "(pooled), from the last evaluated round")
                          .Register(r);
  holdout_accuracy = &BuildGauge().Name("fedsmear_holdout_accuracy_ratio")
                          .Help("Accuracy (0-1) of the global model per held-out set").Register(r);
  holdout_macro_f1 = &BuildGauge().Name("fedsmear_holdout_macro_f1_ratio")
                          .Help("Macro-F1 (0-1) of the global model per held-out set").Register(r);
  refusals = &BuildCounter().Name("fedsmear_site_refusals_total")
                  .Help("Tasks sites refused, by reason").Register(r);
  failures = &BuildCounter().Name("fedsmear_site_failures_total")
                  .Help("Selected sites without an aggregated update, by kind "
                        "(refused, deadline, dropped, failed)")
                  .Register(r);
  run_info = &BuildGauge().Name("fedsmear_run_info")
                  .Help("Always 1; the labels describe the run").Register(r);
  round_in_progress = &BuildGauge().Name("fedsmear_round_in_progress")
                           .Help("1 from the start of a round attempt until it is recorded")
                           .Register(r).Add({});
  round_started = &BuildGauge().Name("fedsmear_round_started_timestamp_seconds")
                       .Help("Unix time the current (or last) round attempt started")
                       .Register(r).Add({});
  round_deadline = &BuildGauge().Name("fedsmear_round_deadline_seconds")
                        .Help("Configured training deadline of a round (round_deadline_s)")
                        .Register(r).Add({});
  run_ended = &BuildGauge().Name("fedsmear_run_ended")
                   .Help("1 once the run has ended (complete, stopped or failed)")
                   .Register(r).Add({});
  run_start_time = &BuildGauge().Name("fedsmear_run_start_time_seconds")
                        .Help("Unix time this coordinator process started the run (a job of a "
                              "long-lived coordinator, or the resumed part of a run)")
                        .Register(r).Add({});
}

}  // namespace fedsmear
