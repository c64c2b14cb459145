#include "coordinator/class_prior.h"

#include <map>

namespace fedsmear {

std::vector<double> PooledClassPrior(const std::vector<SiteInfo>& sites,
                                     const std::vector<std::string>& model_classes) {
  std::map<std::string, size_t> index;
  for (size_t c = 0; c < model_classes.size(); ++c) index.emplace(model_classes[c], c);
  std::vector<double> pooled(model_classes.size(), 0.0);
  double total = 0;
  for (const SiteInfo& site : sites) {
    // Counts are named by the Hello's class names; Hello validation keeps the sizes equal.
    if (site.class_counts.size() != site.class_names.size()) continue;
    for (size_t k = 0; k < site.class_counts.size(); ++k) {
      auto it = index.find(site.class_names[k]);
      if (it == index.end()) continue;
      pooled[it->second] += static_cast<double>(site.class_counts[k]);
      total += static_cast<double>(site.class_counts[k]);
    }
  }
  if (total <= 0) return {};
  for (double& p : pooled) p /= total;
  return pooled;
}

}  // namespace fedsmear
