// Governance subcommands of `fedsmear` (docs/deploy.md, "Training plans" and "Audit log"):
//   fedsmear audit verify FILE...      checks an audit log's hash chain (rotated files in any
//                                      order) and summarises it; exit 1 when the chain is broken
//   fedsmear plan show --config C.yaml the training plan a coordinator config publishes, with its
//                                      hash (for approved_plans files kept by config management)
// Stateless; see tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddAuditCommand(CLI::App& root);
Command AddPlanCommand(CLI::App& root);

}  // namespace fedsmear
