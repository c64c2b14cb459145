// Strategy: what the coordinator does each round, after Flower's interface.
//
//   ConfigureTrain    which sites train and with what settings
//   Contribution      what each site adds to the round's sum (coordinator/round_sum.h)
//   Finish            the new global model from that (weighted) sum
//   ConfigureEvaluate which sites evaluate the new global model on their validation split
//   AggregateEvaluate weighted federated-evaluation summary
//   central evaluation is the coordinator's (train/central_eval.h), not the strategy's
// A strategy never sees single updates: the sum comes from a SumCollector (coordinator/
// sum_collector.h), plain (PlainSum folds decoded updates in as they arrive, O(model) memory) or
// SecAgg+, and the same Finish runs on either, so every strategy shipped runs with and without
// secure aggregation (StrategyEntry::needs says so; BeginAggregate is PlainSum plus Finish, for
// tests and tools that fold updates by hand). Failures (dropouts, refusals, rejected updates) are logged by the round.
// Implementations: coordinator/strategy_registry.cc lists them. Strategy state that must survive
// a restart (FedAdam's moments) is saved by SaveState and restored by LoadState.
//
// Thread-safety: called from the coordinator's round loop only. Ownership: main() owns the
// strategy through std::unique_ptr; aggregators are owned by the round that began them.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/round_sum.h"
#include "models/model_state.h"

namespace fedsmear {

// What a strategy needs from the provider of a round's sum (StrategyEntry::needs; the
// collectors of coordinator/sum_collector.h say which they provide).
enum class StrategyNeeds {
  kLinearSum,          // the weighted sum of contributions (every strategy shipped today)
  kIndividualUpdates,  // each site's update (robust rules: Krum, trimmed mean, median)
};

struct SiteInfo {
  std::string site_id;
  uint64_t num_train = 0;
  uint64_t num_val = 0;
  std::vector<uint64_t> class_counts;  // empty when the site's policy withholds them
  std::vector<std::string> class_names;  // the Hello's, naming class_counts (site order)
};

struct TrainInstruction {
  std::string site_id;
  TrainConfig config;  // config.learning_rate is this round's rate
};

struct SiteUpdate {
  std::string site_id;
  uint64_t num_samples = 0;
  ModelState state;  // the site's trained model (latent weights, floats, BN statistics)
};

struct SiteFailure {
  std::string site_id;
  Status reason;
};

struct EvalReport {
  std::string site_id;
  uint64_t num_samples = 0;
  double loss = 0;
  double accuracy = 0;
};

struct EvalSummary {
  uint64_t num_samples = 0;
  double loss = 0;      // sample-weighted
  double accuracy = 0;  // sample-weighted
  int sites = 0;
};

class RoundAggregator {
 public:
  virtual ~RoundAggregator() = default;
  // Folds one update in; a non-OK Status rejects it (logged by the caller) without harm.
  virtual Status Add(const SiteUpdate& update) = 0;
  virtual int count() const = 0;
  // The new global model.
  virtual Result<ModelState> Finish(const std::vector<SiteFailure>& failures) = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;

  virtual std::vector<TrainInstruction> ConfigureTrain(int round,
                                                       const std::vector<SiteInfo>& available,
                                                       const TrainConfig& base,
                                                       double learning_rate,
                                                       std::mt19937_64& rng);
  // What each site contributes to the round's sum; deltas of every tensor unless overridden.
  virtual SumSpec Contribution() const { return {}; }
  // The new global model from this round's sum (laid out as Contribution() says); `global` is
  // the current global model (sum.base, what the sites decoded, may be a lossy copy of it).
  // Called once per completed round; may advance the strategy's state.
  virtual Result<ModelState> Finish(int round, const ModelState& global, const RoundSum& sum) = 0;
  // Plain rounds: folds decoded updates (weighted by num_samples) into the plain sum of
  // Contribution() and, on its Finish, calls this strategy's Finish. The strategy must outlive it.
  virtual std::unique_ptr<RoundAggregator> BeginAggregate(int round, const ModelState& global);
  virtual std::vector<std::string> ConfigureEvaluate(int round,
                                                     const std::vector<SiteInfo>& available);
  virtual EvalSummary AggregateEvaluate(int round, const std::vector<EvalReport>& reports,
                                        const std::vector<SiteFailure>& failures);

  virtual std::string SaveState() const { return ""; }
  virtual Status LoadState(const std::string& bytes) {
    return bytes.empty() ? Status::Ok() : Corrupt(name() + " keeps no state");
  }

 protected:
  // `threads`: how many threads add each plain update (WeightedAccumulator).
  Strategy(double fraction, int min_sites, int threads = 1)
      : fraction_(fraction), min_sites_(min_sites), threads_(threads) {}
  double fraction_;
  int min_sites_;
  int threads_;
};

}  // namespace fedsmear
