#include "report/svg.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace fedsmear {
namespace {

constexpr double kFontPx = 12;      // tick labels, legends, cell text
constexpr double kCharWidth = 0.6;  // average glyph width / font size (sans-serif, generous)

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

double TextWidth(std::string_view s, double font_px = kFontPx) {
  return static_cast<double>(Utf8Length(s)) * font_px * kCharWidth;
}

// Cuts `s` to at most `max_chars` code points, ending with an ellipsis when shortened.
std::string Shorten(const std::string& s, size_t max_chars) {
  if (Utf8Length(s) <= max_chars) return s;
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == max_chars - 1) break;
  }
  return s.substr(0, i) + "\u2026";
}

std::string Num(double v) { return Fixed(v, 1); }

// Step decimals: 0.05 -> 2, 0.2 -> 1, 5 -> 0.
int DecimalsFor(double step) {
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

// The smallest of 1, 2, 5, 10, 20, ... that is >= `at_least`.
int NiceCount(double at_least) {
  for (int scale = 1;; scale *= 10) {
    for (int m : {1, 2, 5}) {
      if (m * scale >= at_least) return m * scale;
    }
  }
}

std::string SvgOpen(const std::string& id, const std::string& aria, double w, double h) {
  std::ostringstream o;
  o << "<svg id=\"" << HtmlEscape(id) << "\" class=\"fs-chart\" viewBox=\"0 0 " << Num(w) << " "
    << Num(h) << "\" width=\"" << Num(w) << "\" height=\"" << Num(h)
    << "\" role=\"img\" aria-label=\"" << HtmlEscape(aria) << "\">\n";
  return o.str();
}

std::string Text(double x, double y, const std::string& text, const char* anchor,
                 const char* cls = "fs-label", const std::string& extra = "") {
  std::ostringstream o;
  o << "<text x=\"" << Num(x) << "\" y=\"" << Num(y) << "\" text-anchor=\"" << anchor
    << "\" class=\"" << cls << "\"" << extra << ">" << HtmlEscape(text) << "</text>\n";
  return o.str();
}

std::string Title(const std::string& tooltip) {
  return tooltip.empty() ? "" : "<title>" + HtmlEscape(tooltip) + "</title>";
}

// Legend entries laid out left to right from (x, y), wrapping at `width`. Returns the SVG and
// adds the height used to *height.
std::string Legend(const std::vector<LegendEntry>& entries, bool lines, double x, double y,
                   double width, double* height) {
  if (entries.empty()) return "";
  std::ostringstream o;
  double cx = x, cy = y;
  const double row = 20;
  for (const LegendEntry& e : entries) {
    std::string label = Shorten(e.label, 40);
    double item = 22 + TextWidth(label) + 18;
    if (cx > x && cx + item > x + width) {
      cx = x;
      cy += row;
    }
    if (lines) {
      o << "<line x1=\"" << Num(cx) << "\" y1=\"" << Num(cy + 6) << "\" x2=\"" << Num(cx + 16)
        << "\" y2=\"" << Num(cy + 6) << "\" stroke=\"" << e.color << "\" stroke-width=\"2.5\""
        << (e.dashed ? " stroke-dasharray=\"5 3\"" : "") << "/>";
    } else {
      o << "<rect x=\"" << Num(cx) << "\" y=\"" << Num(cy)
        << "\" width=\"12\" height=\"12\" rx=\"2\""
        << " fill=\"" << e.color << "\"/>";
    }
    o << Text(cx + 22, cy + 10, label, "start", "fs-legend");
    cx += item;
  }
  *height += cy - y + row;
  return o.str();
}

struct Plot {
  double left, top, width, height;
};

// Horizontal grid lines, y tick labels, the axes and the axis titles.
std::string YAxis(const Plot& p, const std::vector<double>& ticks, const std::string& y_label,
                  double total_height, const std::string& x_label) {
  std::ostringstream o;
  const double lo = ticks.front(), hi = ticks.back();
  const int decimals = ticks.size() > 1 ? DecimalsFor(ticks[1] - ticks[0]) : 2;
  for (double t : ticks) {
    double y = p.top + p.height - (t - lo) / (hi - lo) * p.height;
    o << "<line class=\"fs-grid\" x1=\"" << Num(p.left) << "\" x2=\"" << Num(p.left + p.width)
      << "\" y1=\"" << Num(y) << "\" y2=\"" << Num(y) << "\"/>";
    o << Text(p.left - 8, y + 4, Fixed(t, decimals), "end");
  }
  o << "<path class=\"fs-axis\" d=\"M" << Num(p.left) << " " << Num(p.top) << "V"
    << Num(p.top + p.height) << "H" << Num(p.left + p.width) << "\"/>\n";
  if (!y_label.empty()) {
    double cy = p.top + p.height / 2;
    o << Text(14, cy, y_label, "middle", "fs-axis-title",
              " transform=\"rotate(-90 14 " + Num(cy) + ")\"");
  }
  if (!x_label.empty()) {
    o << Text(p.left + p.width / 2, total_height - 8, x_label, "middle", "fs-axis-title");
  }
  return o.str();
}

std::vector<double> YTicks(double lo, double hi, std::optional<double> floor_v,
                           std::optional<double> ceil_v) {
  std::vector<double> ticks = NiceTicks(lo, hi, 6);
  auto out = [&](double t) {
    return (floor_v && t < *floor_v - 1e-9) || (ceil_v && t > *ceil_v + 1e-9);
  };
  ticks.erase(std::remove_if(ticks.begin(), ticks.end(), out), ticks.end());
  if (ticks.size() < 2) ticks = {floor_v.value_or(0), ceil_v.value_or(1)};
  return ticks;
}

// Room for the rotated y-axis title and the widest tick label.
double LeftMargin(const std::vector<double>& ticks) {
  const int decimals = ticks.size() > 1 ? DecimalsFor(ticks[1] - ticks[0]) : 2;
  double widest = 0;
  for (double t : ticks) widest = std::max(widest, TextWidth(Fixed(t, decimals)));
  return std::max(64.0, 36 + widest);
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string HtmlId(std::string_view prefix, std::string_view text) {
  std::string out(prefix);
  for (char c : text)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '-';
  return out;
}

std::string Fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "\u2013";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // "-0.00"
  return s;
}

std::string PaletteColor(int i) {
  static constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                            "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  constexpr int n = sizeof(kColors) / sizeof(kColors[0]);
  return kColors[((i % n) + n) % n];
}

std::vector<double> NiceTicks(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12) {
    double pad = std::max(std::fabs(lo) * 0.05, 0.01);
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw - 1e-12) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(lo / step + 1e-9) * step;
  for (double t = first; t < hi + step - 1e-9 && ticks.size() < 100; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - 1e-9) break;
  }
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string RenderLineChart(const LineChartSpec& spec) {
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  std::vector<LegendEntry> legend;
  for (const LineSeries& s : spec.series) {
    legend.push_back({s.name, s.color, s.dashed});
    for (const auto& [x, y] : s.points) {
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      if (y && std::isfinite(*y)) {
        ymin = std::min(ymin, *y);
        ymax = std::max(ymax, *y);
      }
    }
  }
  if (!std::isfinite(xmin)) xmin = xmax = 1;
  if (!std::isfinite(ymin)) {  // no data: show the whole allowed range
    ymin = spec.y_floor.value_or(0);
    ymax = spec.y_ceiling.value_or(ymin + 1);
  }
  if (spec.y_floor && spec.y_ceiling) {  // never zoom in below a tenth of the allowed range
    const double min_span = (*spec.y_ceiling - *spec.y_floor) / 10;
    if (ymax - ymin < min_span) {
      const double mid = std::clamp((ymin + ymax) / 2, *spec.y_floor + min_span / 2,
                                    *spec.y_ceiling - min_span / 2);
      ymin = mid - min_span / 2;
      ymax = mid + min_span / 2;
    }
  }
  if (xmax - xmin < 1) {  // one round: a single tick in the middle
    xmin -= 0.5;
    xmax += 0.5;
  }
  std::vector<double> ticks = YTicks(ymin, ymax, spec.y_floor, spec.y_ceiling);
  const double w = spec.width, left = LeftMargin(ticks), right = 24;
  double legend_h = 0;
  std::string legend_svg = Legend(legend, true, left, 10, w - left - right, &legend_h);
  Plot p{left, 10 + legend_h + 8, w - left - right, 0};
  p.height = spec.height - p.top - 48;
  const double ylo = ticks.front(), yhi = ticks.back();
  const double inset = 10;  // keeps end markers off the axis
  auto X = [&](double x) {
    return p.left + inset + (x - xmin) / (xmax - xmin) * (p.width - 2 * inset);
  };
  auto Y = [&](double y) { return p.top + p.height - (y - ylo) / (yhi - ylo) * p.height; };

  std::ostringstream o;
  o << SvgOpen(spec.id, spec.aria_label, w, spec.height) << legend_svg;
  o << YAxis(p, ticks, spec.y_label, spec.height, spec.x_label);
  // Integer x ticks at multiples of a nice step, plus the first x when it is far enough away.
  const int step = NiceCount((xmax - xmin) / std::max(1.0, p.width / 48));
  std::vector<double> xt;
  for (double t = std::ceil(xmin / step) * step; t <= xmax + 1e-9; t += step) xt.push_back(t);
  double first = std::ceil(xmin);
  if (xt.empty() || xt.front() - first >= step * 0.6) xt.insert(xt.begin(), first);
  for (double t : xt) {
    if (t < xmin - 1e-9) continue;
    o << "<line class=\"fs-axis\" x1=\"" << Num(X(t)) << "\" x2=\"" << Num(X(t)) << "\" y1=\""
      << Num(p.top + p.height) << "\" y2=\"" << Num(p.top + p.height + 5) << "\"/>";
    o << Text(X(t), p.top + p.height + 19, Fixed(t, 0), "middle");
  }
  for (const LineSeries& s : spec.series) {
    std::string path;
    bool pen_down = false;
    for (const auto& [x, y] : s.points) {
      if (!y || !std::isfinite(*y)) {
        pen_down = false;
        continue;
      }
      path += (pen_down ? "L" : "M") + Num(X(x)) + " " + Num(Y(*y));
      pen_down = true;
    }
    if (!path.empty()) {
      o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << s.color
        << "\" stroke-width=\"2.2\" stroke-linejoin=\"round\""
        << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
    }
    for (const auto& [x, y] : s.points) {
      if (!y || !std::isfinite(*y)) continue;
      o << "<circle cx=\"" << Num(X(x)) << "\" cy=\"" << Num(Y(*y)) << "\" r=\"3.2\" fill=\""
        << s.color << "\">"
        << Title(s.name + ", round " + Fixed(x, 0) + ": " + Fixed(*y, spec.y_decimals))
        << "</circle>";
    }
    o << "\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string RenderBarChart(const BarChartSpec& spec) {
  double ymax = 0;
  size_t label_chars = 1;
  for (const BarGroup& g : spec.groups) {
    label_chars = std::max(label_chars, Utf8Length(g.label));
    for (double v : g.values) {
      if (std::isfinite(v)) ymax = std::max(ymax, v);
    }
  }
  std::vector<double> ticks = YTicks(0, ymax > 0 ? ymax : 1, 0.0, std::nullopt);
  const double w = spec.width, left = LeftMargin(ticks), right = 24;
  double legend_h = 0;
  std::string legend_svg = Legend(spec.series, false, left, 10, w - left - right, &legend_h);
  Plot p{left, 10 + legend_h + 8, w - left - right, 0};
  p.height = spec.height - p.top - 48;
  const double yhi = ticks.back();
  const size_t n = std::max<size_t>(1, spec.groups.size());
  const double group_w = p.width / static_cast<double>(n);
  const size_t k = std::max<size_t>(1, spec.series.size());
  const double bar_w = std::min(group_w * 0.8 / static_cast<double>(k), 36.0);
  const double group_pad = (group_w - bar_w * static_cast<double>(k)) / 2;  // centres the bars
  const int every = NiceCount((TextWidth(std::string(label_chars, '0')) + 10) / group_w);

  std::ostringstream o;
  o << SvgOpen(spec.id, spec.aria_label, w, spec.height) << legend_svg;
  o << YAxis(p, ticks, spec.y_label, spec.height, spec.x_label);
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const BarGroup& group = spec.groups[g];
    const double gx = p.left + group_w * static_cast<double>(g);
    for (size_t s = 0; s < group.values.size() && s < k; ++s) {
      double v = std::isfinite(group.values[s]) ? std::max(0.0, group.values[s]) : 0;
      double h = v / yhi * p.height;
      double x = gx + group_pad + bar_w * static_cast<double>(s);
      std::string name = s < spec.series.size() ? spec.series[s].label : "";
      o << "<rect x=\"" << Num(x) << "\" y=\"" << Num(p.top + p.height - h) << "\" width=\""
        << Num(std::max(1.0, bar_w - 1)) << "\" height=\"" << Num(h) << "\" fill=\""
        << (s < spec.series.size() ? spec.series[s].color : PaletteColor(static_cast<int>(s)))
        << "\">"
        << Title(name + ", " + spec.x_label + " " + group.label + ": " + Fixed(v, spec.y_decimals) +
                 spec.value_suffix)
        << "</rect>";
    }
    // Labels at multiples of the step (rounds 5, 10, ...) and at the first group when there is
    // room for it.
    if ((g + 1) % static_cast<size_t>(every) == 0 || (g == 0 && every > 2)) {
      o << Text(gx + group_w / 2, p.top + p.height + 19, group.label, "middle");
    }
    o << "\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string RenderGrid(const GridSpec& spec) {
  const size_t rows = spec.row_labels.size(), cols = spec.col_labels.size();
  const double cw = spec.cell_width, ch = spec.cell_height;
  double row_label_px = 0, col_label_px = 0;
  std::vector<std::string> row_text, col_text;
  for (const std::string& r : spec.row_labels) {
    row_text.push_back(Shorten(r, 24));
    row_label_px = std::max(row_label_px, TextWidth(row_text.back()));
  }
  for (const std::string& c : spec.col_labels) {
    col_text.push_back(Shorten(c, spec.rotate_col_labels ? 22 : 8));
    col_label_px = std::max(col_label_px, TextWidth(col_text.back()));
  }
  const double y_title = spec.y_label.empty() ? 0 : 24;
  const double left = 8 + y_title + row_label_px + 10;
  const double grid_w = cw * static_cast<double>(cols);
  double legend_w = 0;  // on one line
  for (const LegendEntry& e : spec.legend) legend_w += 22 + TextWidth(Shorten(e.label, 40)) + 18;
  const double width = std::max(left + grid_w + 16, std::min(left + legend_w + 8, 960.0));
  double legend_h = 0;
  std::string legend_svg = Legend(spec.legend, false, left, 10, width - left - 8, &legend_h);
  const double top = 10 + legend_h + (spec.legend.empty() ? 0 : 6);
  const double grid_bottom = top + ch * static_cast<double>(rows);
  const double col_label_h = spec.rotate_col_labels ? col_label_px * 0.64 + 14 : 22;
  const double height = grid_bottom + col_label_h + (spec.x_label.empty() ? 6 : 26);
  const int every =
      spec.rotate_col_labels ? NiceCount(16 / cw) : NiceCount((col_label_px + 8) / cw);

  std::ostringstream o;
  o << SvgOpen(spec.id, spec.aria_label, width, height) << legend_svg;
  for (size_t r = 0; r < rows; ++r) {
    const double y = top + ch * static_cast<double>(r);
    o << "<text x=\"" << Num(left - 8) << "\" y=\"" << Num(y + ch / 2 + 4)
      << "\" text-anchor=\"end\" class=\"fs-label\">" << Title(spec.row_labels[r])
      << HtmlEscape(row_text[r]) << "</text>\n";
    for (size_t c = 0; c < cols; ++c) {
      GridCell cell =
          r < spec.cells.size() && c < spec.cells[r].size() ? spec.cells[r][c] : GridCell{};
      const double x = left + cw * static_cast<double>(c);
      o << "<g>" << Title(cell.tooltip) << "<rect x=\"" << Num(x + 1) << "\" y=\"" << Num(y + 1)
        << "\" width=\"" << Num(cw - 2) << "\" height=\"" << Num(ch - 2) << "\" rx=\"2\" fill=\""
        << cell.fill << "\"/>";
      if (cell.cross) {
        const double d = std::min(cw, ch) * 0.22;
        const double mx = x + cw / 2, my = y + ch / 2;
        o << "<path d=\"M" << Num(mx - d) << " " << Num(my - d) << "L" << Num(mx + d) << " "
          << Num(my + d) << "M" << Num(mx + d) << " " << Num(my - d) << "L" << Num(mx - d) << " "
          << Num(my + d) << "\" stroke=\"#fff\" stroke-width=\"1.8\"/>";
      }
      if (!cell.text.empty() && TextWidth(cell.text) <= cw - 4) {
        o << "<text x=\"" << Num(x + cw / 2) << "\" y=\"" << Num(y + ch / 2 + 4)
          << "\" text-anchor=\"middle\" class=\"fs-cell\" fill=\"" << cell.text_color << "\">"
          << HtmlEscape(cell.text) << "</text>";
      }
      o << "</g>";
    }
    o << "\n";
  }
  for (size_t c = 0; c < cols; ++c) {
    if (c % static_cast<size_t>(every) != 0) continue;
    const double cx = left + cw * (static_cast<double>(c) + 0.5);
    if (spec.rotate_col_labels) {
      const double ly = grid_bottom + 12;
      o << "<text x=\"" << Num(cx) << "\" y=\"" << Num(ly) << "\" text-anchor=\"end\""
        << " class=\"fs-label\" transform=\"rotate(-40 " << Num(cx) << " " << Num(ly) << ")\">"
        << Title(spec.col_labels[c]) << HtmlEscape(col_text[c]) << "</text>\n";
    } else {
      o << "<text x=\"" << Num(cx) << "\" y=\"" << Num(grid_bottom + 15)
        << "\" text-anchor=\"middle\" class=\"fs-label\">" << Title(spec.col_labels[c])
        << HtmlEscape(col_text[c]) << "</text>\n";
    }
  }
  if (!spec.x_label.empty()) {
    o << Text(left + grid_w / 2, height - 8, spec.x_label, "middle", "fs-axis-title");
  }
  if (!spec.y_label.empty()) {
    const double cy = top + ch * static_cast<double>(rows) / 2;
    o << Text(16, cy, spec.y_label, "middle", "fs-axis-title",
              " transform=\"rotate(-90 16 " + Num(cy) + ")\"");
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace fedsmear
