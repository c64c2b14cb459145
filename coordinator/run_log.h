// RunLog: what a run leaves in RUN_DIR, and the bookkeeping that goes with it.
//
//   metrics.jsonl    one RoundRecord (report/round_record.h) per completed round
//   best.model       the global model of the best central macro-F1 so far
//   checkpoints/     one Cap'n Proto checkpoint per round (coordinator/checkpoint.h); the
//                    header holds the caller's run state plus this log's best-model and
//                    early-stop counters
//   final.model, final.pt, report.html, summary.md   at the end of the run
//
// Early stop: ShouldStopEarly() once `early_stop_patience` rounds in a row (> 0) brought no
// macro-F1 gain over 1e-4. Resume() restores the counters from the newest valid checkpoint and
// drops metrics lines of rounds after it (a crash between the two writes), so every round is
// recorded exactly once.
// Thread-safety: one thread (the coordinator's run loop). Ownership: values; owns nothing but
// its files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/status.h"
#include "coordinator/checkpoint.h"
#include "models/model_state.h"
#include "report/report.h"
#include "report/round_record.h"

namespace fedsmear {

struct RunLogOptions {
  std::string run_dir;
  int early_stop_patience = 0;  // 0: never stop early
  int keep_checkpoints = 3;
};

class RunLog {
 public:
  explicit RunLog(RunLogOptions options) : o_(std::move(options)) {}

  // A fresh run: an old metrics.jsonl is removed.
  Status StartFresh();
  // The newest valid checkpoint (kNotFound when there is none); the log's counters come back
  // from it, the caller restores its own state from the returned header.
  Result<Checkpoint> Resume();

  // Appends `record` (a completed round) and writes best.model when its central macro-F1 is
  // the best so far. Returns the line written.
  Result<nlohmann::ordered_json> Record(const RoundRecord& record, const ModelState& global);
  bool ShouldStopEarly() const {
    return o_.early_stop_patience > 0 && rounds_without_gain_ >= o_.early_stop_patience;
  }
  // `run_state`: the caller's header fields (RNG, task ids, schedule); the log adds its own.
  Status SaveCheckpoint(int round, nlohmann::json run_state, std::string strategy_state,
                        const ModelState& global) const;
  // final.model, final.pt, then the report (whose failure is logged, not returned: the model
  // is what matters).
  Status WriteFinal(const ModelState& global, const ReportInfo& info) const;

  double best_f1() const { return best_f1_; }
  int best_round() const { return best_round_; }

 private:
  std::string MetricsPath() const { return o_.run_dir + "/metrics.jsonl"; }

  RunLogOptions o_;
  double best_f1_ = -1;
  int best_round_ = 0;
  int rounds_without_gain_ = 0;
};

}  // namespace fedsmear
