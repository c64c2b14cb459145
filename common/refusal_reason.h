// Short labels for the free-text reasons sites give when they refuse a task, so that metrics
// can count refusals by reason without one time series per distinct sentence.
// Thread-safety: pure function. Ownership: none.
#pragma once

#include <string>

namespace fedsmear {

// One of (client/site_plan.cc, client/site.cc, client/site_tasks.cc, client/site_runner.cc and
// secagg/site_policy.cc word the reasons these match):
//   plan_not_approved     the site's operator has not approved the run's training plan yet
//   plan_mismatch         the task asks for something outside the approved plan
//   no_plan               no (usable) training plan reached the site
//   approvals_unreadable  the site cannot read its list of approved plans
//   policy_epochs, policy_min_samples, policy_input_size   the site policy's limits
//   too_few_images        the site's data cannot train
//   busy                  another task still runs
//   secure_aggregation    the policy requires SecAgg+, or the SecAgg+ session is missing
//   other                 anything else
std::string RefusalReasonLabel(const std::string& reason);

}  // namespace fedsmear
