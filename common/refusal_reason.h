// Short labels for the free-text reasons sites give when they refuse a task, so that metrics
// can count refusals by reason without one time series per distinct sentence.
// Thread-safety: pure function. Ownership: none.
#pragma once

#include <string>

namespace fedsmear {

// "policy_epochs", "policy_min_samples", "too_few_images", "busy", "secure_aggregation" or
// "other" (client/site.cc and client/site_tasks.cc word the reasons these match).
std::string RefusalReasonLabel(const std::string& reason);

}  // namespace fedsmear
