// The pooled class distribution of the sites' training sets: the target prior of the sites'
// logit adjustment (train.logit_adjustment_prior: pooled; data/split.h LogitAdjustmentOffsets).
//
// Each site's Hello may carry its training-set class counts, named by the Hello's class names
// (the site's own order). PooledClassPrior adds them up by name onto the model's classes and
// normalises: classes a site has but the model does not are ignored, and a site that withholds
// its counts (policy share_class_counts: false) is left out of the pool. Empty when the model's
// classes are unnamed, no site shared counts, or the pooled counts are all zero.
// Thread-safety: pure function. Ownership: results by value.
#pragma once

#include <string>
#include <vector>

#include "coordinator/strategy.h"

namespace fedsmear {

std::vector<double> PooledClassPrior(const std::vector<SiteInfo>& sites,
                                     const std::vector<std::string>& model_classes);

}  // namespace fedsmear
