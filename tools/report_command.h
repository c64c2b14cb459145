// `fedsmear report RUN_DIR`: writes RUN_DIR/report.html and RUN_DIR/summary.md from
// RUN_DIR/metrics.jsonl (see report/report.h). Run facts (architecture, class names,
// strategy, codecs, number of allowed sites) come from RUN_DIR/coordinator.yaml when it exists,
// or from --config; flags override them. Stateless; see tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddReportCommand(CLI::App& root);
// `fedsmear rounds RUN_DIR`: the per-round table (report/rounds_table.h).
Command AddRoundsCommand(CLI::App& root);

}  // namespace fedsmear
