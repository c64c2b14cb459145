// `fedsmear` subcommands for data: synth (generate a labelled synthetic smear set), partition
// (split image data into simulated sites), data-info (what a folder or manifest contains).
//
// Each Add*Command registers a CLI11 sub-app on `root` and returns the function main() runs when
// it was chosen. Run functions print one clear line on stderr and return 1 on failure.
// Thread-safety: CLI wiring, single-threaded. Ownership: options live in the returned closure.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddSynthCommand(CLI::App& root);
Command AddPartitionCommand(CLI::App& root);
Command AddDataInfoCommand(CLI::App& root);

}  // namespace fedsmear
