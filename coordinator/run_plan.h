// The training plan a coordinator runs under (common/governance/plan.h), made from its config
// after the registries have checked it and filled in its strategy's defaults. A site approves
// the rule itself, not only the strategy's name: fedvote's plan names flip_share even when the
// config leaves it out, so a default that changes between versions gives another plan hash and
// needs a new approval. The coordinator, `fedsmear plan show`, `fedsmear simulate` and the
// container layout all make their plan here, so they agree on its hash.
//
// Thread-safety: pure functions on values.
#pragma once

#include "common/config.h"
#include "common/governance/plan.h"
#include "common/status.h"

namespace fedsmear {

// `config` after CheckRegisteredChoices, with strategy_params holding every parameter of
// config.strategy (the registry's defaults for those the config leaves out). Errors: what
// CheckRegisteredChoices returns (InvalidArgument naming the key).
Result<CoordinatorConfig> WithRegisteredDefaults(CoordinatorConfig config);

// What the registries know that decides plan membership (e.g. whether codec_down sends signs).
PlanFacts RegisteredPlanFacts(const CoordinatorConfig& config);

// MakePlan(WithRegisteredDefaults(config), RegisteredPlanFacts(...)).
Result<TrainingPlan> MakeRunPlan(const CoordinatorConfig& config);

}  // namespace fedsmear
