#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/file_util.h"
#include "report/report_internal.h"
#include "report/svg.h"

namespace fedsmear::report_internal {
namespace {

RoundRow FromRecord(RoundRecord rec) {
  RoundRow r;
  r.round = rec.round;
  r.selected = std::move(rec.sites_selected);
  r.reported = std::move(rec.sites_reported);
  for (auto& [site, reason] : rec.sites_failed) r.failed[site] = std::move(reason);
  r.accuracy = rec.accuracy;
  r.macro_f1 = rec.macro_f1;
  if (rec.central) r.central = std::move(*rec.central);
  if (rec.federated) r.fed_accuracy = rec.federated->accuracy;
  r.bytes_down = static_cast<double>(rec.bytes_down);
  r.bytes_up = static_cast<double>(rec.bytes_up);
  r.round_s = rec.round_s;
  r.eval_s = rec.eval_s;
  return r;
}

// "site-2" before "site-10".
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      const int ca = std::tolower(static_cast<unsigned char>(a[i]));
      const int cb = std::tolower(static_cast<unsigned char>(b[j]));
      if (ca != cb) return ca < cb;
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j || (a.size() - i == b.size() - j && a < b);
}

}  // namespace

Result<Run> LoadRun(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return NotFound("run directory " + run_dir + " not found");
  const std::string path = (fs::path(run_dir) / "metrics.jsonl").string();
  if (!fs::exists(path, ec)) return NotFound("no metrics.jsonl in " + run_dir);
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, uint64_t{1} << 30));
  Run run;
  std::map<int, RoundRow> by_round;
  std::istringstream in(text);
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<RoundRecord> rec = ParseRoundRecord(line, line_no);
    if (!rec.ok()) {
      spdlog::warn("report: skipping malformed line in {}: {}", path, rec.status().message());
      ++run.skipped_lines;
      continue;
    }
    std::optional<RoundRow> row = FromRecord(std::move(*rec));
    if (by_round.count(row->round)) {
      spdlog::warn("report: round {} appears twice in {}; keeping line {}", row->round, path,
                   line_no);
    }
    by_round[row->round] = std::move(*row);
  }
  if (by_round.empty()) {
    return FailedPrecondition(
        path + " holds no valid round yet" +
        (run.skipped_lines ? " (" + std::to_string(run.skipped_lines) + " malformed lines skipped)"
                           : std::string()));
  }
  std::set<std::string> sites;
  double best_f1 = -1;
  for (auto& [round, row] : by_round) run.rounds.push_back(std::move(row));
  for (size_t i = 0; i < run.rounds.size(); ++i) {
    const RoundRow& r = run.rounds[i];
    for (const auto& [name, set] : r.central) {
      if (std::find(run.set_names.begin(), run.set_names.end(), name) == run.set_names.end()) {
        run.set_names.push_back(name);
      }
    }
    sites.insert(r.selected.begin(), r.selected.end());
    sites.insert(r.reported.begin(), r.reported.end());
    for (const auto& [site, reason] : r.failed) sites.insert(site);
    if (r.macro_f1 && *r.macro_f1 > best_f1 + 1e-4) {
      best_f1 = *r.macro_f1;
      run.best = i;
    }
    run.total_down += r.bytes_down;
    run.total_up += r.bytes_up;
    run.total_s += r.round_s + r.eval_s;
    run.has_federated |= r.fed_accuracy.has_value();
  }
  run.sites.assign(sites.begin(), sites.end());
  std::sort(run.sites.begin(), run.sites.end(), NaturalLess);
  return run;
}

std::string Duration(double s) {
  if (s < 120) return Fixed(s, 1) + " s";
  const long total = std::lround(s);
  char buf[64];
  if (total < 7200) {
    std::snprintf(buf, sizeof(buf), "%ld min %02ld s", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld h %02ld min", total / 3600, (total / 60) % 60);
  }
  return buf;
}

std::string SitesTookPart(size_t n) {
  return std::to_string(n) + (n == 1 ? " site" : " sites") + " took part";
}

std::string Opt(std::optional<double> v, int decimals) {
  return v ? Fixed(*v, decimals) : "\u2013";
}

const RoundRow* FinalFor(const Run& run, const std::string& set) {
  for (auto it = run.rounds.rbegin(); it != run.rounds.rend(); ++it) {
    if (it->Set(set)) return &*it;
  }
  return nullptr;
}

std::vector<std::string> ClassNames(const SetResult& s, const ReportInfo& info, size_t n) {
  std::vector<std::string> names;
  for (size_t k = 0; k < n; ++k) {
    if (k < s.per_class.size()) {
      names.push_back(s.per_class[k].name);
    } else {
      names.push_back(k < info.class_names.size() ? info.class_names[k] : std::to_string(k));
    }
  }
  return names;
}

std::string RoundFacts(const RoundRow& r) {
  return std::to_string(r.round) + " (macro-F1 " + Opt(r.macro_f1) + ", accuracy " +
         Opt(r.accuracy) + ")";
}

}  // namespace fedsmear::report_internal
