// One round's work, as functions over a RoundContext: what a round borrows from the coordinator
// (config, sites, strategy, the global model, the RNG, task ids, the status model). The run
// loop (server.cc) owns those parts and lends them for one round at a time; a round owns only
// its TaskRound collectors and the RoundOutcome it returns.
//
//   TrainRound        select sites, send the TrainTask, obtain the survivors' sum from a
//                     SumCollector (plain or SecAgg+, coordinator/sum_collector.h) and let the
//                     strategy finish the new global model from it (round.cc)
//   FederatedEvaluate send the new global model to sites that hold a validation split and,
//                     with bn_recalibration_images, pool their BN statistics into it through
//                     the same collector
//   RecordOf          the outcome as the RoundRecord written to metrics.jsonl (report/)
//
// A completed round replaces `global`; an incomplete one leaves it as it was.
// Thread-safety: the coordinator's round loop only. Ownership: RoundContext holds references,
// valid for the call it is passed to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "common/wire/messages.h"
#include "coordinator/site_registry.h"
#include "coordinator/status/status_model.h"
#include "coordinator/strategy.h"
#include "models/model_state.h"
#include "report/round_record.h"
#include "train/central_eval.h"

namespace fedsmear {

using Clock = std::chrono::steady_clock;

// The time `seconds` from now (a stage's deadline).
inline Clock::time_point In(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

struct RoundContext {
  const CoordinatorConfig& config;
  SiteRegistry& sites;
  Strategy& strategy;
  StatusModel& status;
  ModelState& global;          // the model sent; replaced when the round completes
  std::mt19937_64& rng;        // site selection
  uint64_t& next_task_id;      // every task sent takes the next id
  double lr = 0;               // this round's learning rate (the run's schedule)
};

class SumCollector;

struct RoundOutcome {
  bool completed = false;
  int updates = 0;
  std::vector<std::string> candidates;  // the collector's candidates (recalibration asks them)
  std::vector<std::string> selected;
  std::vector<std::string> reported;
  std::vector<SiteFailure> failures;
  uint64_t bytes_down = 0;
  uint64_t bytes_up = 0;
  double train_s = 0;  // slowest reporting site's training time
  double round_s = 0;
  double mean_site_val_accuracy = 0;
  std::optional<EvalSummary> federated;  // federated evaluation of the new global model
  std::optional<BnRecalibration> bn_recalibration;  // when the stage pooled statistics
  std::optional<double> sign_flips;  // share of binary weights whose global sign changed
  uint64_t bytes_eval_down = 0;
  // Secure aggregation: only set when the round ran SecAgg+.
  bool secure = false;
  std::string incomplete_reason;     // why an incomplete round stopped early (logged, reported)
  std::vector<std::string> dropped;  // shared keys, then left: recovered from their shares
  uint32_t secagg_threshold = 0;
  uint32_t secagg_neighbours = 0;
  uint32_t secagg_vote_bits = 0;  // sign-vote rounds: bits per binary weight's vote field
  uint64_t bytes_secagg = 0;      // setup, keys, shares and unmasking traffic (both directions)
  // The attempt narrowed the search for the site whose input made a secure sum impossible: it
  // does not count against max_round_retries (coordinator/secagg_search.h).
  bool searching = false;
  // Sites sent masked inputs in this attempt: each refuses a second secure session of the
  // round (secagg/session_ledger.h), so an incomplete attempt moves the run to the next round.
  bool consumed = false;
  // Too few sites because these (site -> plan hash) wait for their approval of the plan: the run
  // waits for them (approval_wait_s) instead of counting a failed try.
  std::map<std::string, std::string> awaiting_approval;
  // Sites excluded from the run's secure rounds in this attempt, with the evidence.
  std::vector<std::pair<std::string, std::string>> excluded;
};

// The round's TrainTask (task_id unset) and the model the sites will decode from it.
Result<wire::TrainTask> MakeTrainTask(const RoundContext& ctx, int round, ModelState* received);

// One training round over `collector`. An attempt that cannot complete (too few sites, too few
// contributions, a sum the strategy cannot use) is an outcome with completed false and
// incomplete_reason set, never an error: errors are the transport's (and kAborted on `stop`).
Result<RoundOutcome> TrainRound(RoundContext& ctx, SumCollector& collector, int round,
                                const std::atomic<bool>& stop);

// The round's evaluation stage (run when federated_evaluation or bn_recalibration_images is on).
// With bn_recalibration_images, every site of outcome->candidates (TrainRound's) still live and
// with training images recomputes the new model's batch-norm statistics and `collector` pools them
// (SumCollector::CollectBnStatistics: plain, or a second SecAgg+ session of the round); the pool
// replaces global's (outcome->bn_recalibration), and a stage that pools nothing leaves them.
// Those sites also return their validation scores; the strategy's other evaluators get the
// model alone. Sets outcome->federated from the evaluators' scores.
Status FederatedEvaluate(RoundContext& ctx, SumCollector& collector, int round,
                         RoundOutcome* outcome, const std::atomic<bool>& stop);

// The round's metrics.jsonl line, without central scores.
RoundRecord RecordOf(int round, double lr, const RoundOutcome& outcome);
// Scores `global` on every held-out set into record.central, accuracy and macro_f1 (weighted
// by set size).
Status AddCentralScores(CentralEvaluator& evaluator, const ModelState& global,
                        RoundRecord* record);

}  // namespace fedsmear
