// Partitioning image data into simulated hospital sites for federated experiments.
//
// Schemes ("--scheme" text in parentheses):
//   IID (iid): every class is shuffled and dealt round-robin, so each site gets floor or ceil of
//     n_c / sites of every class and site sizes differ by at most one.
//   Dirichlet label skew (dirichlet:A): per class, site shares ~ Dirichlet(A); counts by largest
//     remainder; afterwards every empty site takes one sample from the largest site (when there
//     are at least as many samples as sites). Small A = strong skew.
//   By group (group): whole groups (smear / original cell) go to the least-loaded site, largest
//     groups first, so no group is split across sites.
//   One source per site (source): site k is dataset root k; classes are the given ones or, by
//     default, the classes every root has (case-insensitive).
// Concentration (any scheme but source, when PartitionScheme::concentrate_class is set): one
//   site receives at least concentrate_share of one class before the scheme deals the rest, so
//   that one hospital holds (nearly) all of a class. With iid and dirichlet, ceil(share x n_c)
//   randomly chosen samples of the class go to that site and every other sample (the class's
//   remainder included) is dealt by the scheme. With group, whole groups holding the class go
//   there, those with the most samples of it first, until the share is reached (so no group is
//   split); the remaining groups are dealt least-loaded-first with that site's load counted.
// All schemes are seeded and reproducible (random.h). Output manifests use absolute paths.
//
// Thread-safety: pure functions. Ownership: results by value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/dataset.h"

namespace fedsmear {

struct PartitionScheme {
  enum class Kind { kIid, kDirichlet, kGroup, kSource };
  Kind kind = Kind::kIid;
  double alpha = 0.5;  // Dirichlet concentration
  // Concentration (see above); off while concentrate_class is empty. The class is matched
  // case-insensitively; the site is 1-based.
  std::string concentrate_class;
  int concentrate_site = 1;
  double concentrate_share = 0.95;
};

// Parses "iid", "dirichlet:<alpha>" (alpha > 0), "group" or "source".
Result<PartitionScheme> ParsePartitionScheme(const std::string& text);

// Splits the samples of one dataset (iid, dirichlet, group) into `sites` lists of sample
// indices (each ascending). Every sample goes to exactly one site; the same seed gives the same
// lists. Errors: kInvalidArgument (sites < 1, source scheme, fewer samples or groups than sites;
// with concentration: an unknown class, a site outside 1..sites, a share outside (0, 1]).
Result<std::vector<std::vector<size_t>>> PartitionIndices(const Dataset& ds, int sites,
                                                          const PartitionScheme& scheme,
                                                          uint64_t seed);

struct SitePartition {
  std::vector<std::string> class_names;
  std::vector<std::vector<Sample>> sites;  // absolute paths
  std::vector<SkippedFile> skipped;        // from scanning the roots
  std::vector<std::string> unknown_classes;

  // counts[site][class].
  std::vector<std::vector<int64_t>> ClassCounts() const;
};

// Loads each root (folder or manifest) and partitions. `classes` empty: the union of the roots'
// classes (intersection for the source scheme), sorted. For the source scheme `sites` must be 0
// (= number of roots) or equal to it.
Result<SitePartition> PartitionRoots(const std::vector<std::string>& roots,
                                     const std::vector<std::string>& classes, int sites,
                                     const PartitionScheme& scheme, uint64_t seed,
                                     const ScanOptions& opts = {});

// Writes out_dir/site-<k>.csv (k = 1..sites) and out_dir/class_counts.csv; creates out_dir.
Status WritePartition(const SitePartition& partition, const std::string& out_dir);

// Human-readable table: one row per site, one column per class, totals row and column.
std::string FormatClassTable(const SitePartition& partition);

}  // namespace fedsmear
