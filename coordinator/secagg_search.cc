#include "coordinator/secagg_search.h"

#include <algorithm>

namespace fedsmear {
namespace {

std::string Join(const std::vector<std::string>& ids) {
  std::string s;
  for (const std::string& id : ids) s += (s.empty() ? "" : ", ") + id;
  return s;
}

}  // namespace

bool CulpritSearch::MayTakePart(const std::string& site) const {
  if (excluded_.count(site)) return false;
  return suspects_.empty() || suspects_.front() != site;
}

std::string CulpritSearch::Failed(const std::vector<std::string>& survivors, int min_sites) {
  std::vector<std::string> left;
  for (const std::string& s : survivors) {
    if (!excluded_.count(s)) left.push_back(s);
  }
  if (suspects_.empty()) {
    first_failure_ = Join(left);
    suspects_ = left;
  } else {
    // suspects_[0] was left out and the sum is still impossible: the culprit is elsewhere.
    const std::string cleared = suspects_.front();
    std::vector<std::string> narrowed;
    for (const std::string& s : suspects_) {
      if (s != cleared && std::find(left.begin(), left.end(), s) != left.end()) {
        narrowed.push_back(s);
      }
    }
    suspects_ = std::move(narrowed);
    if (suspects_.empty()) {
      // More than one culprit, or one outside the suspects: start over from these survivors.
      first_failure_ = Join(left);
      suspects_ = left;
    }
  }
  if (suspects_.empty() || static_cast<int>(left.size()) - 1 < min_sites) {
    const std::string who = Join(suspects_);
    suspects_.clear();
    return "cannot find the culprit among " + who + ": leaving one out leaves fewer than " +
           std::to_string(min_sites) + " sites for a secure round";
  }
  return "the next attempt leaves out " + suspects_.front() + " to find the culprit among " +
         Join(suspects_);
}

std::optional<Culprit> CulpritSearch::Succeeded() {
  if (suspects_.empty()) return std::nullopt;
  Culprit c{suspects_.front(),
            "the secure sum of " + first_failure_ +
                " could not be right, and the same round without " + suspects_.front() +
                " completed"};
  excluded_.insert(c.site_id);
  suspects_.clear();
  first_failure_.clear();
  return c;
}

}  // namespace fedsmear
