// The coordinator's live status: what the status page, the JSON API and Prometheus /metrics
// show. The round loop reports events (stage changes, sites seen, rounds finished); readers
// take snapshots as JSON or Prometheus text.
//
// Rounds are recorded from the very lines written to RUN_DIR/metrics.jsonl, so the page and
// the file can never disagree; a resumed run reloads the file's earlier rounds.
// Refusals are counted by a short reason label (common/refusal_reason.h) so that free text from
// sites cannot blow up the number of Prometheus series. Metric names follow Prometheus'
// conventions (units and _total suffixes, ratios as _ratio); accuracy series appear only once
// a model has been evaluated; per-site series are labelled with the site id (bounded by the
// allowlist); build and process metrics come from common/http/process_metrics.h.
//
// Thread-safety: every method may be called from any thread (one mutex; prometheus-cpp's
// metrics are thread-safe themselves). Ownership: owns its records and its metric registry.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/strategy.h"

namespace prometheus {
class Registry;
}

namespace fedsmear {

struct StatusMetrics;

struct StatusRunInfo {
  std::string run_id;
  std::string strategy;
  std::string codec_down, codec_up;
  bool secure_aggregation = false;
  int rounds_planned = 0;
  int min_sites = 0;
  double heartbeat_s = 5;  // a site silent for 3 heartbeats counts as disconnected
  double round_deadline_s = 0;  // the configured training deadline of a round (0: unknown)
};

class StatusModel {
 public:
  explicit StatusModel(StatusRunInfo info);
  ~StatusModel();

  // --- events from the round loop ---
  void SetRunId(const std::string& run_id);
  // Stage names: "waiting for sites", "training", "federated evaluation", "central evaluation
  // and checkpoint", "complete", "stopped", "failed".
  void SetStage(int round, const std::string& stage, const std::string& detail = "");
  void SiteJoined(const std::string& site, int64_t num_train, int64_t num_val);
  void SiteSeen(const std::string& site);
  void RoundStarted(int round, const std::vector<std::string>& selected);
  // A site's state within the round in progress (e.g. "reported" when its update arrived).
  void SetSiteState(const std::string& site, const std::string& state, const std::string& detail);
  // `line`: the round's metrics.jsonl line (ToJson of its RoundRecord); `failures`: the
  // round's failed sites (refusals are the PermissionDenied ones). Incomplete (retried) rounds pass completed = false.
  void RoundFinished(const nlohmann::ordered_json& line, const std::vector<SiteFailure>& failures,
                     bool completed = true);
  // Earlier rounds of a resumed run (metrics.jsonl's text); malformed lines are skipped.
  void LoadHistory(const std::string& metrics_jsonl);
  // The run is over: "complete", "stopped" (Aborted) or "failed" with the reason.
  void RunEnded(const Status& result);

  // --- snapshots ---
  nlohmann::json RunJson() const;     // /api/run
  nlohmann::json RoundsJson() const;  // /api/rounds
  std::string PrometheusText() const; // /metrics (with build and process metrics)

 private:
  struct SiteState {
    int64_t num_train = 0, num_val = 0;
    std::chrono::system_clock::time_point last_seen{};
    std::chrono::steady_clock::time_point last_seen_mono{};
    std::string state = "idle";  // idle | training | reported | refused | dropped | failed
    std::string detail;
    int rounds_reported = 0;
  };
  bool Connected(const SiteState& s, std::chrono::steady_clock::time_point now) const;
  void CountFailuresLocked(int round, const std::vector<SiteFailure>& failures);

  mutable std::mutex mu_;
  StatusRunInfo info_;
  int round_ = 0;
  std::string stage_ = "starting";
  std::string detail_;
  std::chrono::system_clock::time_point started_, stage_since_;
  std::map<std::string, SiteState> sites_;
  std::vector<std::string> selected_;
  bool round_in_progress_ = false;
  std::chrono::system_clock::time_point round_started_{};
  std::vector<nlohmann::ordered_json> rounds_;  // metrics.jsonl lines, in order
  std::vector<nlohmann::json> events_;          // recent refusals and dropouts (newest last)
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<StatusMetrics> metrics_;
};

}  // namespace fedsmear
