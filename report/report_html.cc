#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "report/report_internal.h"
#include "report/svg.h"

namespace fedsmear::report_internal {
namespace {

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

}  // namespace

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

}  // namespace fedsmear::report_internal
