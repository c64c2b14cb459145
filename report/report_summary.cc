#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/report_internal.h"
#include "report/svg.h"

namespace fedsmear::report_internal {
namespace {

std::string Md(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (std::string_view("\\|<>`*[]&").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}


}  // namespace

std::string Summary(const Run& run, const ReportInfo& info, const std::string& title) {
  std::ostringstream o;
  o << "# " << Md(title) << "\n\n";
  std::vector<std::string> facts;
  if (!info.arch.empty()) facts.push_back("architecture " + Md(info.arch));
  if (!info.strategy.empty()) facts.push_back("strategy " + Md(info.strategy));
  if (!info.codec_down.empty() || !info.codec_up.empty()) {
    facts.push_back("codecs " + Md(info.codec_down) + " down / " + Md(info.codec_up) + " up");
  }
  facts.push_back(SitesTookPart(run.sites.size()) +
                  (info.sites_total > 0 ? " of " + std::to_string(info.sites_total) : ""));
  for (size_t i = 0; i < facts.size(); ++i) o << (i ? ", " : "") << facts[i];
  o << ".\n\n";
  const bool per_set = !run.set_names.empty();
  o << "| Round | Sites |";
  if (per_set) {
    for (const std::string& s : run.set_names)
      o << " " << Md(s) << " acc | " << Md(s) << " macro-F1 |";
  } else {
    o << " Accuracy | Macro-F1 |";
  }
  if (run.has_federated) o << " Federated acc |";
  o << " MiB down | MiB up | Round s |\n|---:|:---:|";
  const size_t metric_cols = (per_set ? 2 * run.set_names.size() : 2) + run.has_federated;
  for (size_t i = 0; i < metric_cols + 3; ++i) o << "---:|";
  o << "\n";
  for (const RoundRow& r : run.rounds) {
    o << "| " << r.round << " | " << r.reported.size() << "/" << r.selected.size() << " |";
    if (per_set) {
      for (const std::string& name : run.set_names) {
        const SetResult* s = r.Set(name);
        o << " " << Opt(s ? s->accuracy : std::nullopt) << " | "
          << Opt(s ? s->macro_f1 : std::nullopt) << " |";
      }
    } else {
      o << " " << Opt(r.accuracy) << " | " << Opt(r.macro_f1) << " |";
    }
    if (run.has_federated) o << " " << Opt(r.fed_accuracy) << " |";
    o << " " << Fixed(r.bytes_down / kMiB, 2) << " | " << Fixed(r.bytes_up / kMiB, 2) << " | "
      << Fixed(r.round_s, 1) << " |\n";
  }
  o << "\n- **Best round** (by macro-F1): " << (run.Best() ? RoundFacts(*run.Best()) : "n/a")
    << "\n";
  o << "- **Last round**: " << RoundFacts(run.rounds.back()) << "\n";
  o << "- **Total on the wire**: " << Fixed((run.total_down + run.total_up) / kMiB, 2) << " MiB ("
    << Fixed(run.total_down / kMiB, 2) << " MiB down, " << Fixed(run.total_up / kMiB, 2)
    << " MiB up)\n";
  o << "- **Total wall time**: " << Duration(run.total_s) << " over " << run.rounds.size()
    << " rounds\n";
  if (run.skipped_lines > 0) {
    o << "- " << run.skipped_lines << " malformed metrics line(s) skipped\n";
  }
  if (per_set) {
    const RoundRow* last = FinalFor(run, run.set_names.front());
    const SetResult* first = last->Set(run.set_names.front());
    o << "\n## Final per-class F1 (round " << last->round << ")\n\n| Class |";
    for (const std::string& s : run.set_names)
      o << " " << Md(s) << " F1 | " << Md(s) << " support |";
    o << "\n|:---|";
    for (size_t i = 0; i < run.set_names.size(); ++i) o << "---:|---:|";
    o << "\n";
    for (size_t k = 0; k < first->per_class.size(); ++k) {
      o << "| " << Md(first->per_class[k].name) << " |";
      for (const std::string& name : run.set_names) {
        const RoundRow* fr = FinalFor(run, name);
        const SetResult* s = fr ? fr->Set(name) : nullptr;
        if (s && k < s->per_class.size()) {
          o << " " << Fixed(s->per_class[k].f1, 4) << " | " << s->per_class[k].support << " |";
        } else {
          o << " \u2013 | \u2013 |";
        }
      }
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace fedsmear::report_internal
