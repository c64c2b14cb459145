// Runs `fedsmear` subcommands in-process, as tools/main.cc parses them: the given commands are
// added to a fresh CLI11 app, ARGS are parsed, and the parsed command runs with std::cout and
// std::cerr captured. Thread-safety: swaps the process's stream buffers; one call at a time.
#pragma once

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/command.h"

namespace fedsmear {

struct CliRun {
  int code;
  std::string out;  // standard output
  std::string err;  // standard error, or CLI11's parse error
};

inline CliRun RunCli(const std::vector<Command (*)(CLI::App&)>& adders,
                     const std::vector<std::string>& args) {
  CLI::App app{"fedsmear"};
  app.require_subcommand(1);
  std::vector<Command> commands;
  for (auto add : adders) commands.push_back(add(app));
  std::vector<std::string> argv_store = {"fedsmear"};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return {2, "", e.what()};
  }
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  int code = 2;
  for (auto& c : commands) {
    if (c.app->parsed()) code = c.run();
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

}  // namespace fedsmear
