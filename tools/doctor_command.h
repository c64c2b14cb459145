// `fedsmear doctor --config FILE [--role site|coordinator] [--offline] [--timeout S]`: runs the
// installation checks of tools/doctor.h and prints them; exit code 1 when a check failed.
// Thread-safety: runs on main's thread only.
#pragma once

#include <CLI/CLI.hpp>

#include "tools/command.h"

namespace fedsmear {

Command AddDoctorCommand(CLI::App& root);

}  // namespace fedsmear
