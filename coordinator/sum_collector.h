// SumCollector: how a training round obtains the sum of its sites' contributions. There is one
// training round (TrainRound, coordinator/round.h): it selects sites, builds the task, asks its
// collector for the survivors' RoundSum (coordinator/round_sum.h) and lets the strategy finish
// the new global model from it. The collector decides only how that sum is obtained:
//
//   plain    (plain_collector.cc)   send the TrainTask, decode each Update and fold it into
//                                   PlainSum as it arrives; the coordinator sees every update
//   SecAgg+  (secagg_collector.cc,  setup, keys, shares, masked inputs, consistency, unmasking
//            secure_attempt.cc)
//                                   (coordinator/secure_round.h); only the sum is ever in clear
//
// What a site adds to the sum is the same in both (models/contribution.h), with the same weight.
// Batch-norm recalibration goes through the same collector (CollectBnStatistics): each site's
// moments of the new model's statistics (models/bn_statistics.h BnMomentsOf), weighted by the
// images they summarise; plain rounds pool the sites' EvaluateResults, SecAgg+ rounds sum them in
// a second session of the round (purpose kBnStatistics), so the coordinator sees only the pool.
// Collectors own what must survive from one attempt to the next (SecAgg+: benched sites and
// the search for a site whose input made a sum impossible).
//
// A collector reports incomplete attempts as values: Collect returns std::nullopt with
// outcome->incomplete_reason set; errors are reserved for the transport and for bugs.
// Thread-safety: the coordinator's run loop only. Ownership: the coordinator owns its collector
// for the run; a collector borrows the RoundContext for one call.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/wire/messages.h"
#include "coordinator/round.h"
#include "coordinator/round_sum.h"

namespace fedsmear {

// A recalibration stage's request (FederatedEvaluate, coordinator/round.h).
struct BnRequest {
  std::vector<SiteInfo> sites;   // live sites with training images
  wire::EvaluateTask task;       // task_id unset, bn_calibration_images > 0
  const ModelState* reference = nullptr;  // the task's model: the moments' reference
  // Each site's own validation scores that come back with its statistics.
  std::function<void(const std::string& site, const wire::EvaluateResult&)> on_scores;
};

// The pooled moments: sum_i w_i/W BnMomentsOf(site i), W = sum of w_i over the pooled sites,
// w_i = the images site i summarised (at most those asked for).
struct BnPooled {
  std::vector<double> moments;
  size_t sites = 0;
  uint64_t images = 0;
  uint64_t bytes = 0;  // what the statistics cost on the wire (uplink)
};

class SumCollector {
 public:
  virtual ~SumCollector() = default;
  virtual bool secure() const = 0;
  // Whether a strategy needing `needs` can run on this collector.
  virtual bool Provides(StrategyNeeds needs) const = 0;
  // The sites a round may select from, given the live ones (SecAgg+: those with a signing key,
  // not benched, and without the suspect an attempt is leaving out).
  virtual std::vector<SiteInfo> Candidates(std::vector<SiteInfo> live) { return live; }
  // Why Candidates() left live sites out, for the message of a round that found too few ("" when
  // it left none out).
  virtual std::string LeftOut() const { return ""; }
  // The fewest sites a round needs besides min_sites (SecAgg+: kMinSecureSites).
  virtual int MinSites() const { return 1; }

  // Sends `task` (task_id unset) to the sites of `plan` and collects the sum of their
  // contributions relative to `received` (the model they decode). Fills outcome's selected,
  // reported, failures, byte counts, train_s and mean_site_val_accuracy. nullopt: the attempt is
  // incomplete (outcome->incomplete_reason says why).
  virtual Result<std::optional<RoundSum>> Collect(RoundContext& ctx, int round,
                                                  const std::vector<TrainInstruction>& plan,
                                                  wire::TrainTask task,
                                                  const ModelState& received,
                                                  RoundOutcome* outcome,
                                                  const std::atomic<bool>& stop) = 0;

  // Sends request.task to request.sites and pools their statistics; nullopt (logged) when none
  // could be pooled. Byte counts go to outcome->bytes_eval_down. Errors: the transport's.
  virtual Result<std::optional<BnPooled>> CollectBnStatistics(RoundContext& ctx, int round,
                                                              BnRequest request,
                                                              RoundOutcome* outcome,
                                                              const std::atomic<bool>& stop) = 0;

  // The round completed with the sum Collect returned.
  virtual void Completed(int round, RoundOutcome* outcome) { (void)round, (void)outcome; }
};

// How a consortium too small for secure rounds opts out (in messages).
inline constexpr char kTwoSitesOptOut[] =
    "With two sites each would read the other's update from their sum; a consortium of two opts "
    "out with secure_aggregation: off in the coordinator's config and "
    "policy.require_secure_aggregation: false at its sites (docs/security.md)";

// Plain rounds: updates in the clear, decoded and summed as they arrive.
std::unique_ptr<SumCollector> MakePlainCollector();

// SecAgg+ rounds. `sign_keys`: every site's Ed25519 signing key (site id -> raw 32 bytes), from
// the allowlist's third column (LoadSigningKeys); `reload`, when given, reads them again before
// each round (the allowlist changes without a restart: sites admitted, rotated, revoked), the
// last good set staying in force when it fails.
using SigningKeys = std::map<std::string, std::string>;
std::unique_ptr<SumCollector> MakeSecAggCollector(
    SigningKeys sign_keys, std::function<Result<SigningKeys>()> reload = nullptr);

// The collector config.secure_aggregation names (loading the signing keys for SecAgg+; with
// fewer than 3 keyed sites it warns that rounds wait for more and how two sites opt out).
Result<std::unique_ptr<SumCollector>> MakeCollector(const CoordinatorConfig& config);

}  // namespace fedsmear
