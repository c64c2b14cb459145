// Internals of the run report (report/report.h), shared by its three parts:
//   report_run.cc      parse metrics.jsonl into a Run (rounds, held-out sets, sites, best round)
//   report_summary.cc  summary.md
//   report_html.cc     report.html (inline CSS and SVG from report/svg.h)
// Not part of the library's interface: only the report's own files include this header.
// Thread-safety: pure functions over values. Ownership: values.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "report/report.h"
#include "report/round_record.h"

namespace fedsmear::report_internal {

using Json = nlohmann::ordered_json;  // keeps held-out sets in file order
constexpr double kMiB = 1048576.0;

// The report's names for the run record's types (report/round_record.h).
using ClassRow = ClassScores;
using SetResult = SetScores;

// One round as the report shows it, from its RoundRecord.
struct RoundRow {
  int round = 0;
  std::vector<std::string> selected, reported;
  std::map<std::string, std::string> failed;  // site -> reason
  std::optional<double> accuracy, macro_f1, fed_accuracy;
  std::vector<std::pair<std::string, SetResult>> central;  // in file order
  double bytes_down = 0, bytes_up = 0, round_s = 0;
  double eval_s = 0;  // evaluation stages after the training round (0 in older runs)

  const SetResult* Set(const std::string& name) const {
    for (const auto& [n, r] : central) {
      if (n == name) return &r;
    }
    return nullptr;
  }
};

struct Run {
  std::vector<RoundRow> rounds;        // ascending round numbers, one row per round
  std::vector<std::string> set_names;  // held-out sets in first-seen order
  std::vector<std::string> sites;      // every site seen, natural order
  int skipped_lines = 0;
  // Index into rounds of the best round by macro-F1, by the coordinator's rule for best.model
  // (a later round must beat the best by more than 1e-4).
  std::optional<size_t> best;
  const RoundRow* Best() const { return best ? &rounds[*best] : nullptr; }
  double total_down = 0, total_up = 0, total_s = 0;
  bool has_federated = false;
};

// Parses RUN_DIR/metrics.jsonl (see WriteRunReport for the rules on malformed lines).
Result<Run> LoadRun(const std::string& run_dir);

// Shared formatting.
std::string Duration(double s);
std::string SitesTookPart(size_t n);
std::string Opt(std::optional<double> v, int decimals = 4);
// The last round that evaluated `set`, or nullptr.
const RoundRow* FinalFor(const Run& run, const std::string& set);
// "3 (macro-F1 0.9, accuracy 0.91)".
std::string RoundFacts(const RoundRow& r);
std::vector<std::string> ClassNames(const SetResult& s, const ReportInfo& info, size_t n);

std::string Summary(const Run& run, const ReportInfo& info, const std::string& title);
std::string Html(const Run& run, const ReportInfo& info, const std::string& title);

}  // namespace fedsmear::report_internal
