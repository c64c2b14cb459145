// Training plans: everything that decides what a site computes and sends in a run, as canonical
// bytes a hospital can read, hash and approve (docs/deploy.md, "Training plans").
//
// A plan is a JSON object serialised canonically: keys sorted, no whitespace, numbers as
// nlohmann::json prints them (shortest round-trip form). The same configuration therefore gives
// the same bytes and the same SHA-256 whatever the order of the YAML keys it was read from; any
// change of substance gives another hash and needs a new approval. ParsePlan() accepts only
// canonical bytes with the fields CheckTrainTask()/CheckEvaluateTask() rely on.
//
// Thread-safety: pure functions on values.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

inline constexpr char kPlanFormat[] = "fedsmear-plan/1";

struct TrainingPlan {
  std::string bytes;  // canonical JSON
  std::string hash;   // SHA-256 of bytes, lowercase hex
  nlohmann::json doc;
};

// The plan of a coordinator config as given: every setting its description marks for the plan
// (common/config.h), plus the learning-rate range the schedule derives. strategy_params names
// only what the config names and `facts` says what the registries know (e.g. whether the
// downlink sends signs). A coordinator runs under MakeRunPlan (coordinator/run_plan.h), which
// fills in the strategy's defaults and the facts; common/ knows no registry.
TrainingPlan MakePlan(const CoordinatorConfig& config, const PlanFacts& facts);

// Parses plan bytes received from a coordinator or read from disk. Errors (kCorrupt): not JSON,
// not canonical, another format, missing or mistyped fields.
Result<TrainingPlan> ParsePlan(const std::string& bytes);

// The plan's secure-aggregation mode (ParsePlan refuses a plan whose mode is not one).
SecureAggregation PlanSecureMode(const TrainingPlan& plan);

// SHA-256 of `bytes` in lowercase hex.
std::string PlanHash(const std::string& bytes);

// A readable, line-per-setting rendering for `fedsmear-client plan show`.
std::string DescribePlan(const TrainingPlan& plan);

// What changed from `before` to `after`, one line per setting ("  key: old -> new", "  + key:
// value" for a new one, "  - key: value" for one gone), keys as JSON pointers into the plan,
// sorted; "" when the two are the same plan.
std::string PlanDifference(const TrainingPlan& before, const TrainingPlan& after);

}  // namespace fedsmear
