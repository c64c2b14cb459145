// `fedsmear train` (centralized training: the baseline for every federated run, and how a
// consortium pretrains a starting model), `fedsmear evaluate` (metrics of any model file on an
// image folder) and `fedsmear predict` (class probabilities per image). See tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddTrainCommand(CLI::App& root);
Command AddEvaluateCommand(CLI::App& root);
Command AddCalibrateCommand(CLI::App& root);
Command AddPredictCommand(CLI::App& root);

}  // namespace fedsmear
