#include "coordinator/run_plan.h"

#include <utility>

#include "coordinator/strategy_registry.h"

namespace fedsmear {

Result<CoordinatorConfig> WithRegisteredDefaults(CoordinatorConfig config) {
  RETURN_IF_ERROR(CheckRegisteredChoices(config));
  const StrategyEntry& entry = *FindStrategy(config.strategy);  // checked above
  ASSIGN_OR_RETURN(StrategyParams params, ResolveStrategyParams(entry, config.strategy_params));
  for (const ParamSpec& spec : entry.params) {
    ASSIGN_OR_RETURN(config.strategy_params[spec.key], params.Get(spec.key));
  }
  return config;
}

Result<TrainingPlan> MakeRunPlan(const CoordinatorConfig& config) {
  ASSIGN_OR_RETURN(CoordinatorConfig resolved, WithRegisteredDefaults(config));
  return MakePlan(resolved);
}

}  // namespace fedsmear
