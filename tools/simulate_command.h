// `fedsmear simulate`: a coordinator and N site daemons as processes on this machine
// (see tools/simulate.h). Stateless apart from the run directory it writes.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddSimulateCommand(CLI::App& root);

}  // namespace fedsmear
