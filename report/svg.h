// Tiny inline-SVG chart writer for the run report: line charts, grouped bar charts and labelled
// cell grids (heat maps, participation tables), each returned as one self-contained `<svg>`
// element string with axes, ticks, labels, a legend and `<title>` tooltips. No scripts, no
// external fonts or URLs; styling comes from attributes plus the CSS classes documented below
// (`.fs-axis`, `.fs-grid`, `.fs-label`, `.fs-legend`), which the report page defines.
//
// All text passed in (names, labels, tooltips) is escaped here; callers pass raw strings.
// Thread-safety: stateless free functions, reentrant. Ownership: inputs are read-only, results
// are returned by value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedsmear {

// Escapes &, <, >, " and ' for HTML/SVG text and attribute values.
std::string HtmlEscape(std::string_view text);

// A usable `id` attribute value: "prefix" + text with every character outside [A-Za-z0-9_-]
// replaced by '-'.
std::string HtmlId(std::string_view prefix, std::string_view text);

// Fixed-point formatting, e.g. Fixed(0.12345, 3) == "0.123"; non-finite values give "–".
std::string Fixed(double value, int decimals);

// The i-th colour of a colour-blind-friendly categorical palette (cycles).
std::string PaletteColor(int i);

// "Nice" tick values covering [lo, hi] with at most about `max_ticks` ticks (steps 1, 2, 5 x
// 10^k). Returns the ticks; the first is <= lo and the last >= hi.
std::vector<double> NiceTicks(double lo, double hi, int max_ticks);

struct LegendEntry {
  std::string label;
  std::string color;
  bool dashed = false;  // line legends: dashed stroke
};

struct LineSeries {
  std::string name;
  std::string color;
  bool dashed = false;
  // (x, y) points in x order; a std::nullopt y leaves a gap in the line.
  std::vector<std::pair<double, std::optional<double>>> points;
};

struct LineChartSpec {
  std::string id;          // element id, e.g. "chart-accuracy"
  std::string aria_label;  // one-line description for screen readers and the SVG <title>
  std::string x_label, y_label;
  std::vector<LineSeries> series;
  std::optional<double> y_floor, y_ceiling;  // clamp the automatic y range, e.g. [0, 1]
  int y_decimals = 2;                        // decimals in tooltips
  int width = 960, height = 300;
};

// Integer x axis (rounds); y axis auto-scaled to nice ticks.
std::string RenderLineChart(const LineChartSpec& spec);

struct BarGroup {
  std::string label;           // category label on the x axis, e.g. the round number
  std::vector<double> values;  // one per series, in LegendEntry order
};

struct BarChartSpec {
  std::string id, aria_label, x_label, y_label;
  std::vector<LegendEntry> series;
  std::vector<BarGroup> groups;
  std::string value_suffix;  // appended to values in tooltips, e.g. " MiB"
  int y_decimals = 2;
  int width = 960, height = 280;
};

// Grouped vertical bars starting at zero; x labels are thinned so they never overlap.
std::string RenderBarChart(const BarChartSpec& spec);

struct GridCell {
  std::string fill = "#eeeeee";
  std::string text;  // drawn centred in the cell ("" = none)
  std::string text_color = "#222222";
  std::string tooltip;  // SVG <title>
  bool cross = false;   // draw a white x (a shape cue that does not rely on colour)
};

struct GridSpec {
  std::string id, aria_label;
  std::string x_label, y_label;  // under the columns / beside the rows ("" = none)
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<GridCell>> cells;  // [row][column]
  int cell_width = 48, cell_height = 32;
  bool rotate_col_labels = false;   // slanted column labels under the grid (long names)
  std::vector<LegendEntry> legend;  // swatches above the grid
};

// Column labels are thinned when cells are too narrow for them; long labels are shortened with
// an ellipsis and keep the full text in a tooltip.
std::string RenderGrid(const GridSpec& spec);

}  // namespace fedsmear
