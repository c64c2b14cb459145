// The run report: turns RUN_DIR/metrics.jsonl (one JSON object per round, written by
// the coordinator's run log, coordinator/run_log.h) into
//   RUN_DIR/report.html  one self-contained page (inline CSS and SVG, no scripts, no external
//                        URLs): run facts, accuracy / macro-F1 / federated accuracy per round,
//                        bytes per round, site participation, final confusion matrices and
//                        per-class metrics;
//   RUN_DIR/summary.md   a Markdown table with one row per round, best and last round, totals
//                        and the final per-class F1, ready to paste into a paper.
// Both files are written with WriteFileAtomic. Malformed metrics lines (e.g. a half-written last
// line of a run in progress) are skipped with a warning; when a round number appears twice the
// later line wins. Torch-free.
//
// Thread-safety: reentrant; two concurrent calls on one run_dir race benignly (last rename
// wins). Ownership: nothing is retained after the call.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

struct ReportInfo {
  std::string title;                     // "" = "fedsmear run <run_dir basename>"
  std::string arch;                      // "" = not shown
  std::vector<std::string> class_names;  // fallback when metrics lines lack per_class names
  std::string strategy;
  std::string codec_down, codec_up;
  int sites_total = 0;  // sites allowed in the federation; 0 = unknown
  std::string notes;    // free text shown under the header
};

// Fails with kNotFound when run_dir or its metrics.jsonl is missing, kFailedPrecondition when
// metrics.jsonl holds no valid round, and kIoError when an output cannot be written.
Status WriteRunReport(const std::string& run_dir, const ReportInfo& info);

}  // namespace fedsmear
