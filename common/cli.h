// Shared command-line conventions for the three executables (CLI11).
//
// AddStandardFlags adds --version and --log-level; RunCli parses argv and turns every parse error
// into a one-line reason on stderr and exit code 2. Header-only; no state beyond the App.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>

#include "fedsmear/version.h"

namespace fedsmear {

// `revision`: the commit the binary was built from (common/build_info.h BuildRevision).
inline void AddStandardFlags(CLI::App& app, std::string* log_level, const std::string& revision) {
  app.set_version_flag("--version", std::string("fedsmear ") + kVersion + " (" + revision + ")");
  app.add_option("--log-level", *log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
}

// Returns -1 when parsing succeeded and the program should go on; otherwise the exit code
// (0 after --help/--version, 2 after a usage error, which is printed as one line).
inline int ParseCli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << std::filesystem::path(app.get_name()).filename().string() << ": " << e.what() << " (see --help)\n";
    return 2;
  }
  return -1;
}

}  // namespace fedsmear
