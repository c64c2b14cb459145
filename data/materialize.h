// MaterializeSamples: turns a list of samples (e.g. one site's partition manifest) into a
// self-contained image folder out_root/<class>/<file>, so that the folder alone can be handed
// to a site: a container's read-only data volume, a USB disk for a pilot hospital.
//
// Files are hard-linked where the filesystem allows it and copied otherwise. Names keep the
// source file name; a name already taken in the class folder gets a numeric prefix ("2_x.png").
// Class folder names come from `class_names` (the label index of each sample).
// Thread-safety: reentrant. Ownership: nothing kept.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "data/dataset.h"

namespace fedsmear {

struct MaterializeStats {
  size_t linked = 0;
  size_t copied = 0;
};

// Errors: kIoError naming the file that could not be linked or copied; kInvalidArgument for a
// label outside class_names. out_root is created; existing files in it are left alone.
Result<MaterializeStats> MaterializeSamples(const std::vector<Sample>& samples,
                                            const std::vector<std::string>& class_names,
                                            const std::string& out_root);

}  // namespace fedsmear
