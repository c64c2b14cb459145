// The settings of `fedsmear simulate`'s scenario (the `simulation:` section of a coordinator
// config): how it carves the held-out set from one image folder (--data) and how it deals the
// rest to its sites beyond the --partition scheme (data/partition.h). The daemons never read
// them; a simulation writes them into its run's coordinator.yaml, so the run records the
// scenario it was made from. `--seed` changes the sites' split, initialisation and batches;
// `holdout_seed` alone decides which images are held out, so runs with different seeds are
// scored on the same held-out set.
//
// Plain values (copy freely; not synchronised).
#pragma once

#include <string>

#include "common/settings/setting.h"

namespace fedsmear {

struct SimulationConfig {
  int holdout_seed = 1;
  std::string concentrate_class;
  int concentrate_site = 1;
  double concentrate_share = 0.95;
  std::string partition_manifest;
};

template <class Self, class V>
settings::IfDescribes<Self, SimulationConfig> Describe(Self& s, V& v) {
  using settings::Spec;
  v(s.holdout_seed, Spec("holdout_seed", "seed of the held-out carve (15% of --data, before "
                                         "the sites are dealt); independent of --seed")
                        .Range(0, 2147483647));
  v(s.concentrate_class, Spec("concentrate_class", "one site gets at least concentrate_share "
                                                   "of this class before the scheme deals the "
                                                   "rest (empty: off)"));
  v(s.concentrate_site, Spec("concentrate_site", "the site (1-based) that holds the class")
                            .Range(1, 1000000));
  v(s.concentrate_share, Spec("concentrate_share", "its least share of the class's images")
                             .Positive(1));
  v(s.partition_manifest, Spec("partition_manifest", "replay a scenario: the held-out set and "
                                                     "every site's images from a run's "
                                                     "data/partition.csv (empty: carve and "
                                                     "deal)"));
}

}  // namespace fedsmear
