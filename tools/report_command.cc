#include "tools/report_command.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "common/config.h"
#include "common/file_util.h"
#include "report/report.h"
#include "report/rounds_table.h"

namespace fedsmear {
namespace {

struct ReportOptions {
  std::string run_dir;
  std::string config;  // "" = RUN_DIR/coordinator.yaml when present
  std::string title, notes;
  int sites_total = -1;  // -1 = count the allowlist named in the config
};

// Sites in an allowlist file ("site-id public-key" lines; blank and # lines ignored).
int CountAllowedSites(const std::string& path) {
  Result<std::string> text = ReadFile(path, 64 << 20);
  if (!text.ok()) return 0;
  std::istringstream in(*text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t\r");
    n += start != std::string::npos && line[start] != '#';
  }
  return n;
}

int RunReport(const ReportOptions& o) {
  ReportInfo info;
  std::string config_path = o.config;
  if (config_path.empty()) {
    std::string candidate = (std::filesystem::path(o.run_dir) / "coordinator.yaml").string();
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) config_path = candidate;
  }
  if (!config_path.empty()) {
    Result<CoordinatorConfig> config = LoadCoordinatorConfig(config_path);
    if (config.ok()) {
      info.arch = config->model.arch;
      info.class_names = config->model.class_names;
      info.strategy = config->strategy;
      info.codec_down = config->codec_down;
      info.codec_up = config->codec_up;
      if (!config->allowed_sites_file.empty()) {
        info.sites_total = CountAllowedSites(config->allowed_sites_file);
      }
    } else if (!o.config.empty()) {
      std::cerr << "fedsmear report: " << config.status().message() << "\n";
      return 1;
    } else {
      spdlog::warn("report: ignoring {}: {}", config_path, config.status().message());
    }
  }
  info.title = o.title;
  info.notes = o.notes;
  if (o.sites_total >= 0) info.sites_total = o.sites_total;
  if (Status st = WriteRunReport(o.run_dir, info); !st.ok()) {
    std::cerr << "fedsmear report: " << st.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << (std::filesystem::path(o.run_dir) / "report.html").string() << " and "
            << (std::filesystem::path(o.run_dir) / "summary.md").string() << "\n";
  return 0;
}

}  // namespace

Command AddReportCommand(CLI::App& root) {
  auto opts = std::make_shared<ReportOptions>();
  CLI::App* app = root.add_subcommand(
      "report", "write report.html and summary.md for a run directory from its metrics.jsonl");
  app->add_option("run_dir", opts->run_dir, "the coordinator's run directory")->required();
  app->add_option("--config", opts->config,
                  "coordinator.yaml for run facts (default: RUN_DIR/coordinator.yaml if present)");
  app->add_option("--title", opts->title, "report title (default: the run directory's name)");
  app->add_option("--notes", opts->notes, "free text shown under the title");
  app->add_option("--sites-total", opts->sites_total,
                  "sites in the federation (default: entries in the config's allowlist)");
  return {app, [opts] { return RunReport(*opts); }};
}

Command AddRoundsCommand(CLI::App& root) {
  auto run_dir = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "rounds", "print the per-round table of a run directory (who reported, accuracy, bytes)");
  app->add_option("run_dir", *run_dir, "the coordinator's run directory")->required();
  return {app, [run_dir] {
            const auto metrics = std::filesystem::path(*run_dir) / "metrics.jsonl";
            std::error_code ec;
            if (!std::filesystem::exists(metrics, ec)) {
              std::cerr << "fedsmear rounds: no " << metrics.string() << " (no round finished yet?)\n";
              return 1;
            }
            RoundsTable table(metrics);
            table.Poll();
            return 0;
          }};
}

}  // namespace fedsmear
