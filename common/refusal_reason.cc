#include "common/refusal_reason.h"

namespace fedsmear {

std::string RefusalReasonLabel(const std::string& reason) {
  auto has = [&](const char* s) { return reason.find(s) != std::string::npos; };
  // Plan reasons first: "outside the approved training plan: ..." quotes the check's own words.
  if (has("outside the approved training plan")) return "plan_mismatch";
  if (has("is not approved at this site")) return "plan_not_approved";
  if (has("cannot read the approved plans")) return "approvals_unreadable";
  if (has("no training plan received") || has("published no training plan") ||
      has("published training plan is unusable")) {
    return "no_plan";
  }
  if (has("local epochs")) return "policy_epochs";
  if (has("below the site policy")) return "policy_min_samples";
  if (has("exceeds the site policy")) return "policy_input_size";
  if (has("training images")) return "too_few_images";
  if (has("busy")) return "busy";
  if (has("secure aggregation") || has("signing_key")) return "secure_aggregation";
  return "other";
}

}  // namespace fedsmear
