// A partition manifest: every image of a simulated scenario and where it went (the held-out set
// or one site), in one file, so that another run can replay the scenario exactly, whatever the
// code that dealt it or the seed.
//
// Format: CSV with the header `site,path,label,group` (RFC 4180 quoting); `site` is `holdout`
// or `site-<k>` (k = 1..sites, every site non-empty), `label` a class name, `group` the
// sample's group (may be empty). Paths are written absolute; a relative path is read relative
// to the manifest's folder. Rows of the held-out set come first, then the sites in order; a
// reader accepts any order. `fedsmear simulate` writes RUN_DIR/data/partition.csv and reads one
// back with `simulation.partition_manifest`.
//
// Thread-safety: pure functions. Ownership: results by value.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "data/dataset.h"

namespace fedsmear {

struct PartitionManifest {
  std::vector<std::string> class_names;    // label ids index this
  std::vector<Sample> holdout;             // may be empty
  std::vector<std::vector<Sample>> sites;  // sites[k - 1] is site-<k>
};

// Writes the manifest atomically. Errors: kInvalidArgument (a label out of range), kIoError.
Status WritePartitionManifest(const std::string& path, const PartitionManifest& manifest);

// Reads a manifest. `classes` empty: the labels' distinct names, sorted; else a label must be
// one of them (case-insensitive). Files are not opened. Errors: kNotFound (no file), kCorrupt
// (a malformed row, an unknown site or label, a path listed twice, a site between 1 and the
// largest with no image, no site at all; each with its line number where there is one).
Result<PartitionManifest> ReadPartitionManifest(const std::string& path,
                                                const std::vector<std::string>& classes);

}  // namespace fedsmear
