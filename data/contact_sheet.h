// A contact sheet: one row per class, the first `per_class` images of that class, labelled —
// for looking at a dataset (synthetic or real) at a glance. Stateless; reentrant.
#pragma once

#include <string>

#include "common/status.h"
#include "data/dataset.h"

namespace fedsmear {

// Writes a PNG; undecodable images are left as grey cells.
Status WriteContactSheet(const Dataset& dataset, int per_class, int cell_px,
                         const std::string& png_path);

}  // namespace fedsmear
