// Governance subcommands of `fedsmear` (docs/deploy.md, "Training plans" and "Audit log"):
//   fedsmear audit verify FILE... [--key K] [--anchor A] [--peer P]
//                                      checks an audit log's hash chain (rotated files in any
//                                      order), signatures and anchors, summarises it and says what
//                                      the check proves; exit 1 when anything is broken
//   fedsmear audit head FILE...        the verified chain's last entry as an anchor line
//   fedsmear plan show --config C.yaml the training plan a coordinator config publishes, with its
//                                      hash (for approved_plans files kept by config management)
// Stateless; see tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddAuditCommand(CLI::App& root);
Command AddPlanCommand(CLI::App& root);

}  // namespace fedsmear
