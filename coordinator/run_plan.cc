#include "coordinator/run_plan.h"

#include <utility>

#include "coordinator/strategy_registry.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

bool DownlinkSendsSigns(const std::string& codec_down) {
  const Result<PackOptions> options = ParseDownlinkCodec(codec_down);
  return options.ok() && options->binary->signs.packed;
}

}  // namespace

Result<CoordinatorConfig> WithRegisteredDefaults(CoordinatorConfig config) {
  RETURN_IF_ERROR(CheckRegisteredChoices(config));
  const StrategyEntry& entry = *FindStrategy(config.strategy);  // checked above
  ASSIGN_OR_RETURN(auto given, GivenStrategyParams(entry, config));
  ASSIGN_OR_RETURN(StrategyParams params, ResolveStrategyParams(entry, given));
  for (const ParamSpec& spec : entry.params) {
    ASSIGN_OR_RETURN(config.strategy_params[spec.key], params.Get(spec.key));
  }
  config.legacy_strategy_keys.clear();  // now in strategy_params
  return config;
}

PlanFacts RegisteredPlanFacts(const CoordinatorConfig& config) {
  PlanFacts facts;
  facts.downlink_signs = DownlinkSendsSigns(config.codec_down);
  return facts;
}

Result<TrainingPlan> MakeRunPlan(const CoordinatorConfig& config) {
  ASSIGN_OR_RETURN(CoordinatorConfig resolved, WithRegisteredDefaults(config));
  return MakePlan(resolved, RegisteredPlanFacts(resolved));
}

}  // namespace fedsmear
