// `fedsmear model-info`: builds a model by name and reports parameter counts and the bytes it
// takes in each transfer format, measured by packing it. Stateless; see tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddModelInfoCommand(CLI::App& root);

}  // namespace fedsmear
