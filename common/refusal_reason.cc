#include "common/refusal_reason.h"

namespace fedsmear {

std::string RefusalReasonLabel(const std::string& reason) {
  auto has = [&](const char* s) { return reason.find(s) != std::string::npos; };
  if (has("local epochs")) return "policy_epochs";
  if (has("below the site policy")) return "policy_min_samples";
  if (has("training images")) return "too_few_images";
  if (has("busy")) return "busy";
  if (has("secure aggregation") || has("signing_key")) return "secure_aggregation";
  return "other";
}

}  // namespace fedsmear
