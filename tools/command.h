// One subcommand of the `fedsmear` tool: the CLI11 sub-app that holds its flags and the function
// that runs it after parsing. Modules expose `Command AddXCommand(CLI::App& root)`; main() calls
// each explicitly (no self-registration). The run function returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace fedsmear {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

}  // namespace fedsmear
