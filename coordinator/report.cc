#include "coordinator/report.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "common/file_util.h"
#include "coordinator/svg.h"

namespace fedsmear {
namespace {

using Json = nlohmann::ordered_json;  // keeps held-out sets in file order
constexpr double kMiB = 1048576.0;

struct ClassRow {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct SetResult {
  std::optional<double> accuracy, macro_f1, loss;
  int64_t samples = 0;
  std::vector<ClassRow> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [truth][predicted]
};

struct RoundRow {
  int round = 0;
  std::vector<std::string> selected, reported;
  std::map<std::string, std::string> failed;  // site -> reason
  std::optional<double> accuracy, macro_f1, fed_accuracy;
  std::vector<std::pair<std::string, SetResult>> central;  // in file order
  double bytes_down = 0, bytes_up = 0, round_s = 0;

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

std::optional<double> OptNumber(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::vector<std::string> Strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const Json& s : *it) out.push_back(s.is_string() ? s.get<std::string>() : s.dump());
  return out;
}

SetResult ParseSet(const Json& j) {
  SetResult s;
  s.accuracy = OptNumber(j, "accuracy");
  s.macro_f1 = OptNumber(j, "macro_f1");
  s.loss = OptNumber(j, "loss");
  s.samples = j.value("samples", int64_t{0});
  if (auto it = j.find("per_class"); it != j.end() && it->is_array()) {
    for (const Json& c : *it) {
      ClassRow row;
      row.name = c.contains("class") && c["class"].is_string() ? c["class"].get<std::string>()
                                                               : std::to_string(s.per_class.size());
      row.precision = OptNumber(c, "precision").value_or(0);
      row.recall = OptNumber(c, "recall").value_or(0);
      row.f1 = OptNumber(c, "f1").value_or(0);
      row.support = c.value("support", int64_t{0});
      s.per_class.push_back(row);
    }
  }
  if (auto it = j.find("confusion"); it != j.end() && it->is_array()) {
    s.confusion = it->get<std::vector<std::vector<int64_t>>>();
  }
  return s;
}

// Throws nlohmann::json::exception on a wrong type; the caller counts the line as malformed.
std::optional<RoundRow> ParseRound(const Json& j) {
  if (!j.is_object() || !j.contains("round") || !j["round"].is_number_integer()) return {};
  RoundRow r;
  r.round = j["round"].get<int>();
  r.selected = Strings(j, "sites_selected");
  r.reported = Strings(j, "sites_reported");
  if (auto it = j.find("sites_failed"); it != j.end() && it->is_object()) {
    for (const auto& [site, reason] : it->items()) {
      r.failed[site] = reason.is_string() ? reason.get<std::string>() : reason.dump();
    }
  }
  r.accuracy = OptNumber(j, "accuracy");
  r.macro_f1 = OptNumber(j, "macro_f1");
  if (auto it = j.find("central"); it != j.end() && it->is_object()) {
    for (const auto& [name, set] : it->items()) {
      if (set.is_object()) r.central.emplace_back(name, ParseSet(set));
    }
  }
  if (auto it = j.find("federated"); it != j.end() && it->is_object()) {
    r.fed_accuracy = OptNumber(*it, "accuracy");
  }
  r.bytes_down = OptNumber(j, "bytes_down").value_or(0);
  r.bytes_up = OptNumber(j, "bytes_up").value_or(0);
  r.round_s = OptNumber(j, "round_s").value_or(0);
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
    std::optional<RoundRow> row;
    std::string why = "not a JSON object with an integer \"round\"";
    try {
      row = ParseRound(Json::parse(line, nullptr, false));
    } catch (const Json::exception& e) {
      row.reset();
      why = e.what();
    }
    if (!row) {
      spdlog::warn("report: skipping malformed line {} of {}: {}", line_no, path, why);
      ++run.skipped_lines;
      continue;
    }
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
    run.total_s += r.round_s;
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

std::string Opt(std::optional<double> v, int decimals = 4) {
  return v ? Fixed(*v, decimals) : "\u2013";
}

// The last round that evaluated `set`, or nullptr.
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

// ---- summary.md ----

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

std::string RoundFacts(const RoundRow& r) {
  return std::to_string(r.round) + " (macro-F1 " + Opt(r.macro_f1) + ", accuracy " +
         Opt(r.accuracy) + ")";
}

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

// ---- report.html ----

constexpr const char* kCss = R"css(
body{margin:0;background:#f4f5f7;color:#1f2328;
  font:15px/1.5 system-ui,-apple-system,"Segoe UI","DejaVu Sans",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 6px}
h2{font-size:18px;margin:0 0 4px}
h3{font-size:15px;margin:14px 0 4px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px 20px;margin:16px 0}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:6px 20px;
  margin:12px 0 0}
.facts div{border-left:3px solid #4e79a7;padding-left:8px}
.facts dt{font-size:12px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
.facts dd{margin:0;font-weight:600}
.note,.caption{color:#57606a;font-size:13px;margin:2px 0 8px}
.warn{background:#fff8e1;border:1px solid #f0d37a;border-radius:6px;padding:6px 10px}
.fs-chart{display:block;max-width:100%;height:auto;margin:6px 0}
.fs-label,.fs-legend,.fs-cell{font-size:12px}
.fs-label{fill:#444}.fs-legend{fill:#222}
.fs-axis-title{font-size:13px;font-weight:600;fill:#333}
.fs-axis{stroke:#666;fill:none;stroke-width:1}
.fs-grid{stroke:#e6e6e6;stroke-width:1}
.row{display:flex;flex-wrap:wrap;gap:8px 20px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{padding:3px 8px;border-bottom:1px solid #eceef1;text-align:left}
th{font-size:11px;color:#57606a;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.track{display:inline-block;width:40px;height:8px;background:#e8edf3;border-radius:2px;
  margin-left:6px;vertical-align:middle}
.bar{display:block;height:8px;background:#4e79a7;border-radius:2px}
)css";

std::string Esc(const std::string& s) { return HtmlEscape(s); }

std::string Fact(const std::string& label, const std::string& value) {
  return "<div><dt>" + Esc(label) + "</dt><dd>" + Esc(value) + "</dd></div>\n";
}

std::string Header(const Run& run, const ReportInfo& info, const std::string& title) {
  const RoundRow& last = run.rounds.back();
  std::ostringstream o;
  o << "<header><h1>" << Esc(title) << "</h1>\n";
  if (!info.notes.empty()) o << "<p class=\"note\">" << Esc(info.notes) << "</p>\n";
  o << "<dl class=\"facts\">\n";
  if (!info.arch.empty()) o << Fact("Architecture", info.arch);
  if (!info.strategy.empty()) o << Fact("Strategy", info.strategy);
  if (!info.codec_down.empty() || !info.codec_up.empty()) {
    o << Fact("Codecs (down / up)", info.codec_down + " / " + info.codec_up);
  }
  o << Fact("Rounds", std::to_string(run.rounds.size()) + " (rounds " +
                          std::to_string(run.rounds.front().round) + "\u2013" +
                          std::to_string(last.round) + ")");
  o << Fact("Sites", SitesTookPart(run.sites.size()) +
                         (info.sites_total > 0 ? " of " + std::to_string(info.sites_total) : ""));
  o << Fact("Best round (macro-F1)", run.Best() ? RoundFacts(*run.Best()) : "n/a");
  o << Fact("Last round", RoundFacts(last));
  o << Fact("On the wire", Fixed(run.total_down / kMiB, 1) + " MiB down, " +
                               Fixed(run.total_up / kMiB, 1) + " MiB up");
  o << Fact("Wall time", Duration(run.total_s));
  if (!run.set_names.empty()) {
    std::string sets;
    for (const std::string& s : run.set_names) sets += (sets.empty() ? "" : ", ") + s;
    o << Fact("Held-out sets", sets);
  }
  o << "</dl>\n";
  if (run.skipped_lines > 0) {
    o << "<p class=\"warn\">" << run.skipped_lines
      << " malformed line(s) in metrics.jsonl were skipped.</p>\n";
  }
  o << "</header>\n";
  return o.str();
}

// Accuracy or macro-F1 per round: one series per held-out set, plus the sample-weighted mean
// over all sets when there are several (the value the coordinator selects best.model by).
std::string MetricChart(const Run& run, bool f1) {
  LineChartSpec spec;
  spec.id = f1 ? "chart-macro-f1" : "chart-accuracy";
  spec.aria_label = std::string(f1 ? "Macro-F1" : "Accuracy") + " per round on held-out sets";
  spec.x_label = "Round";
  spec.y_label = f1 ? "Macro-F1" : "Accuracy";
  spec.y_floor = 0;
  spec.y_ceiling = 1;
  spec.y_decimals = 4;
  for (size_t i = 0; i < run.set_names.size(); ++i) {
    LineSeries s{run.set_names[i], PaletteColor(static_cast<int>(i)), false, {}};
    for (const RoundRow& r : run.rounds) {
      const SetResult* set = r.Set(run.set_names[i]);
      s.points.emplace_back(r.round, set ? (f1 ? set->macro_f1 : set->accuracy) : std::nullopt);
    }
    spec.series.push_back(std::move(s));
  }
  if (run.set_names.size() != 1) {
    LineSeries s{run.set_names.empty() ? "all held-out data" : "all sets (weighted)",
                 "#555555",
                 !run.set_names.empty(),
                 {}};
    for (const RoundRow& r : run.rounds)
      s.points.emplace_back(r.round, f1 ? r.macro_f1 : r.accuracy);
    spec.series.push_back(std::move(s));
  }
  return RenderLineChart(spec);
}

std::string FederatedChart(const Run& run) {
  LineChartSpec spec;
  spec.id = "chart-federated";
  spec.aria_label = "Federated evaluation accuracy per round";
  spec.x_label = "Round";
  spec.y_label = "Accuracy";
  spec.y_floor = 0;
  spec.y_ceiling = 1;
  spec.y_decimals = 4;
  LineSeries s{"federated (sites' validation data)", PaletteColor(4), false, {}};
  for (const RoundRow& r : run.rounds) s.points.emplace_back(r.round, r.fed_accuracy);
  spec.series.push_back(std::move(s));
  return RenderLineChart(spec);
}

std::string BytesChart(const Run& run) {
  BarChartSpec spec;
  spec.id = "chart-bytes";
  spec.aria_label = "Bytes sent to and received from sites per round";
  spec.x_label = "Round";
  double most = 0;
  for (const RoundRow& r : run.rounds) most = std::max({most, r.bytes_down, r.bytes_up});
  // The unit that keeps tick labels short: GiB, MiB, KiB or bytes.
  double unit = 1;
  spec.y_label = "bytes";
  for (auto [scale, name] : {std::pair{1073741824.0, "GiB"}, {kMiB, "MiB"}, {1024.0, "KiB"}}) {
    if (most >= scale) {
      unit = scale;
      spec.y_label = name;
      break;
    }
  }
  spec.value_suffix = " " + spec.y_label;
  spec.series = {{"down (to sites)", PaletteColor(0)}, {"up (from sites)", PaletteColor(1)}};
  for (const RoundRow& r : run.rounds) {
    spec.groups.push_back({std::to_string(r.round), {r.bytes_down / unit, r.bytes_up / unit}});
  }
  return RenderBarChart(spec);
}

std::string ParticipationChart(const Run& run) {
  GridSpec spec;
  spec.id = "chart-participation";
  spec.aria_label = "Participation of each site per round";
  spec.x_label = "Round";
  spec.row_labels = run.sites;
  const int n = static_cast<int>(run.rounds.size());
  spec.cell_width = std::clamp(740 / std::max(1, n), 8, 36);
  spec.cell_height = 22;
  spec.legend = {{"reported", "#59a14f"},
                 {"failed (hover for the reason)", "#e15759"},
                 {"selected, no update", "#edc948"},
                 {"not selected", "#e3e5e8"}};
  for (const RoundRow& r : run.rounds) spec.col_labels.push_back(std::to_string(r.round));
  for (const std::string& site : run.sites) {
    std::vector<GridCell> row;
    for (const RoundRow& r : run.rounds) {
      GridCell c;
      const std::string where = site + ", round " + std::to_string(r.round) + ": ";
      auto has = [&site](const std::vector<std::string>& v) {
        return std::find(v.begin(), v.end(), site) != v.end();
      };
      if (auto f = r.failed.find(site); f != r.failed.end()) {
        c = {"#e15759", "", "", where + "failed \u2014 " + f->second, true};
      } else if (has(r.reported)) {
        c = {"#59a14f", "", "", where + "reported", false};
      } else if (has(r.selected)) {
        c = {"#edc948", "", "", where + "selected, no update recorded", false};
      } else {
        c = {"#e3e5e8", "", "", where + "not selected", false};
      }
      row.push_back(c);
    }
    spec.cells.push_back(std::move(row));
  }
  return RenderGrid(spec);
}

// White to dark blue by row share.
std::string HeatColor(double v) {
  static constexpr double kStops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  v = std::clamp(v, 0.0, 1.0);
  const int i = v < 0.5 ? 0 : 1;
  const double t = (v - 0.5 * i) * 2;
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(kStops[i][c] + (kStops[i + 1][c] - kStops[i][c]) * t));
  }
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

std::string ConfusionChart(const std::string& set_name, const SetResult& s, const ReportInfo& info,
                           const std::string& id) {
  GridSpec spec;
  spec.id = id;
  spec.aria_label = "Confusion matrix of held-out set " + set_name;
  spec.x_label = "Predicted";
  spec.y_label = "Truth";
  spec.rotate_col_labels = true;
  const size_t n = s.confusion.size();
  spec.row_labels = spec.col_labels = ClassNames(s, info, n);
  int64_t max_count = 0;
  for (const auto& row : s.confusion) {
    for (int64_t v : row) max_count = std::max(max_count, v);
  }
  spec.cell_width = std::max(44, 16 + 8 * static_cast<int>(std::to_string(max_count).size()));
  spec.cell_height = 34;
  for (size_t t = 0; t < n; ++t) {
    int64_t row_total = 0;
    for (int64_t v : s.confusion[t]) row_total += v;
    std::vector<GridCell> row;
    for (size_t p = 0; p < n && p < s.confusion[t].size(); ++p) {
      const int64_t v = s.confusion[t][p];
      const double share = row_total > 0 ? static_cast<double>(v) / row_total : 0;
      row.push_back({HeatColor(share), std::to_string(v), share > 0.5 ? "#ffffff" : "#1f2328",
                     "truth " + spec.row_labels[t] + ", predicted " + spec.col_labels[p] + ": " +
                         std::to_string(v) + " (" + Fixed(share * 100, 1) + "% of the class)",
                     false});
    }
    spec.cells.push_back(std::move(row));
  }
  return RenderGrid(spec);
}

std::string PerClassTable(const SetResult& s) {
  std::ostringstream o;
  o << "<table><thead><tr><th>Class</th><th class=\"num\">Precision</th><th class=\"num\">Recall"
       "</th><th class=\"num\">F1</th><th class=\"num\">Support</th></tr></thead><tbody>\n";
  for (const ClassRow& c : s.per_class) {
    o << "<tr><td>" << Esc(c.name) << "</td><td class=\"num\">" << Fixed(c.precision, 3)
      << "</td><td class=\"num\">" << Fixed(c.recall, 3) << "</td><td class=\"num\">"
      << Fixed(c.f1, 3) << "<span class=\"track\"><span class=\"bar\" style=\"width:"
      << static_cast<int>(std::lround(std::clamp(c.f1, 0.0, 1.0) * 100))
      << "%\"></span></span></td>"
      << "<td class=\"num\">" << c.support << "</td></tr>\n";
  }
  o << "<tr><th>macro / total</th><td></td><td></td><td class=\"num\"><b>" << Opt(s.macro_f1, 3)
    << "</b><span class=\"track\" style=\"visibility:hidden\"></span></td><td class=\"num\"><b>"
    << s.samples << "</b></td></tr>\n</tbody></table>\n";
  return o.str();
}

std::string Html(const Run& run, const ReportInfo& info, const std::string& title) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
    << Esc(title) << "</title>\n<style>" << kCss << "</style></head>\n<body><main>\n"
    << Header(run, info, title);
  const char* no_central = run.set_names.empty()
                               ? "<p class=\"note\">No central held-out evaluation in this run."
                                 "</p>\n"
                               : "";
  o << "<section id=\"sec-accuracy\"><h2>Accuracy per round</h2>\n"
    << "<p class=\"caption\">Central evaluation of the global model on each held-out set after "
       "the round.</p>\n"
    << no_central << MetricChart(run, false) << "</section>\n";
  o << "<section id=\"sec-macro-f1\"><h2>Macro-F1 per round</h2>\n"
    << "<p class=\"caption\">Unweighted mean of per-class F1; the best round is chosen by this "
       "value over all held-out sets.</p>\n"
    << no_central << MetricChart(run, true) << "</section>\n";
  if (run.has_federated) {
    o << "<section id=\"sec-federated\"><h2>Federated accuracy per round</h2>\n"
      << "<p class=\"caption\">Sample-weighted accuracy the sites measured on their own "
         "validation data.</p>\n"
      << FederatedChart(run) << "</section>\n";
  }
  o << "<section id=\"sec-bytes\"><h2>Bytes on the wire per round</h2>\n"
    << "<p class=\"caption\">Model updates sent to sites (down) and received from them "
       "(up).</p>\n"
    << BytesChart(run) << "</section>\n";
  o << "<section id=\"sec-participation\"><h2>Site participation</h2>\n"
    << "<p class=\"caption\">Rows are sites, columns rounds; hover a cell for details.</p>\n"
    << ParticipationChart(run) << "</section>\n";
  std::set<std::string> ids;
  for (const std::string& name : run.set_names) {
    const RoundRow* r = FinalFor(run, name);
    const SetResult& s = *r->Set(name);
    std::string id = HtmlId("chart-confusion-", name);
    for (int k = 2; ids.count(id); ++k)
      id = HtmlId("chart-confusion-", name) + "-" + std::to_string(k);
    ids.insert(id);
    o << "<section id=\"sec-" << id.substr(6) << "\"><h2>Held-out set \u201c" << Esc(name)
      << "\u201d, round " << r->round << "</h2>\n<p class=\"caption\">Accuracy " << Opt(s.accuracy)
      << ", macro-F1 " << Opt(s.macro_f1) << ", " << s.samples
      << " images. Confusion matrix: rows are the true class, columns the prediction; cells show "
         "counts, colour shows the share of the true class.</p>\n<div class=\"row\"><div>"
      << ConfusionChart(name, s, info, id) << "</div><div><h3>Per-class metrics</h3>"
      << PerClassTable(s) << "</div></div></section>\n";
  }
  o << "</main></body></html>\n";
  return o.str();
}

}  // namespace

Status WriteRunReport(const std::string& run_dir, const ReportInfo& info) {
  ASSIGN_OR_RETURN(Run run, LoadRun(run_dir));
  std::string title = info.title;
  if (title.empty()) {
    std::filesystem::path p = std::filesystem::path(run_dir).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    title = "fedsmear run " + p.filename().string();
  }
  const std::filesystem::path dir(run_dir);
  RETURN_IF_ERROR(WriteFileAtomic((dir / "report.html").string(), Html(run, info, title))
                      .WithContext("writing report.html"));
  RETURN_IF_ERROR(WriteFileAtomic((dir / "summary.md").string(), Summary(run, info, title))
                      .WithContext("writing summary.md"));
  return Status::Ok();
}

}  // namespace fedsmear
