// The strategy registry: every aggregation strategy by name, with a one-line description, its
// typed parameters (the `strategy_params` mapping of the coordinator config, with documented
// defaults and ranges) and its factory. MakeStrategy, the config check, the `--help` texts and
// the contract tests loop over it. Adding a strategy is one file (its class, parameters and
// entry function) plus its line in strategy_registry.cc, and its tests.
//
// Every parameter a strategy reads lives under strategy_params and enters the training plan
// (coordinator/run_plan.h). Two that predate the registry may still be given as top-level keys
// (server_lr of fedadam, vote_momentum of fedvote: ParamSpec::top_level_alias). FedProx's mu is
// a site's training setting (train.fedprox_mu), sent with every task.
// Thread-safety: the registry is immutable after its first use; all functions are reentrant.
// Ownership: entries are values; MakeStrategy returns an owned strategy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/strategy.h"

namespace fedsmear {

// One numeric parameter of a strategy, read from strategy_params.<key>.
struct ParamSpec {
  std::string key;
  double default_value = 0;
  double min = 0, max = 0;  // inclusive
  std::string help;
  // Also read from the config's top level (CoordinatorConfig::legacy_strategy_keys), as
  // configs written before strategy_params gave it.
  bool top_level_alias = false;
};

// A strategy's parameters with defaults filled in and ranges checked.
class StrategyParams {
 public:
  StrategyParams() = default;
  explicit StrategyParams(std::map<std::string, double, std::less<>> values)
      : values_(std::move(values)) {}
  // The value of `key`, which must be one of the entry's ParamSpecs (Internal error otherwise:
  // a factory asked for a key it did not declare, a programming error caught by the tests).
  Result<double> Get(std::string_view key) const;

 private:
  std::map<std::string, double, std::less<>> values_;
};

struct StrategyEntry {
  std::string name;
  std::string help;  // one line, for --help and the config documentation
  std::vector<ParamSpec> params;
  Result<std::unique_ptr<Strategy>> (*make)(const CoordinatorConfig& config,
                                            const StrategyParams& params) = nullptr;
  // A robust rule that must see each update declares kIndividualUpdates; SecAgg+ provides only
  // the sum, and CheckRegisteredChoices refuses the pair before anything runs.
  StrategyNeeds needs = StrategyNeeds::kLinearSum;
};

// For factories: a new T as the Strategy the registry returns.
template <typename T, typename... Args>
Result<std::unique_ptr<Strategy>> NewStrategy(Args&&... args) {
  return std::unique_ptr<Strategy>(std::make_unique<T>(std::forward<Args>(args)...));
}

// Every registered strategy, in the order --help lists them.
const std::vector<StrategyEntry>& Strategies();
// The entry named `name`, or nullptr.
const StrategyEntry* FindStrategy(std::string_view name);
// "fedavg | fedprox | ..." for help texts and messages.
std::string StrategyNameList();
// The registry's description of every strategy and its parameters (--help, docs).
std::string StrategyHelp();

// The parameters a config gives its strategy: strategy_params, plus the top-level aliases the
// entry declares (InvalidArgument when both name one).
Result<std::map<std::string, double>> GivenStrategyParams(const StrategyEntry& entry,
                                                          const CoordinatorConfig& config);

// `given` checked against entry.params (unknown keys and out-of-range values are
// InvalidArgument naming strategy_params.<key>), defaults filled in.
Result<StrategyParams> ResolveStrategyParams(const StrategyEntry& entry,
                                             const std::map<std::string, double>& given);

// Whether `entry` can run with `mode`: FailedPrecondition for a strategy that needs individual
// updates under secure aggregation (which reveals only their sum).
Status CheckStrategyFits(const StrategyEntry& entry, SecureAggregation mode);

// Checks config.strategy and config.strategy_params against the registry.
Status CheckStrategyConfig(const CoordinatorConfig& config);

// Every choice a coordinator config makes from a registry: the strategy and its parameters,
// codec_down (models/packed_model.h DownlinkCodecNames) and codec_up (models/codec.h
// ParseCodecSpec). The YAML loader (common/config.cc) knows none of these names; main(),
// Coordinator::Create and the tests call this.
Status CheckRegisteredChoices(const CoordinatorConfig& config);
// "f32 | f32+f16 | ..." for help texts: every codec_down, and every canonical codec_up (the
// unframed ones, then ", each also +zstd" for every uplink frame).
std::string DownlinkCodecList();
std::string UplinkCodecList();

// The strategy config.strategy names, configured from the config (after CheckStrategyConfig).
Result<std::unique_ptr<Strategy>> MakeStrategy(const CoordinatorConfig& config);

}  // namespace fedsmear
