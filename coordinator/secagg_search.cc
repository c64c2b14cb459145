#include "coordinator/secagg_search.h"

#include <algorithm>

namespace fedsmear {
namespace {

std::string Join(const std::vector<std::string>& ids) {
  std::string s;
  for (const std::string& id : ids) s += (s.empty() ? "" : ", ") + id;
  return s;
}

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
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
  // Sites a next attempt can draw on: this one's survivors, and the suspect it left out.
  const int pool = static_cast<int>(left.size()) + (suspects_.empty() ? 0 : 1);
  if (suspects_.empty()) {
    first_failure_ = Join(left);
    suspects_ = left;
  } else {
    // suspects_[0] was left out and the sum is still impossible: the culprit is elsewhere.
    const std::string cleared = suspects_.front();
    std::vector<std::string> narrowed;
    for (const std::string& s : suspects_) {
      if (s != cleared && Has(left, s)) narrowed.push_back(s);
    }
    suspects_ = std::move(narrowed);
    if (suspects_.empty()) {
      // More than one culprit, or one outside the suspects: start over from these survivors.
      first_failure_ = Join(left);
      suspects_ = left;
    }
  }
  auto give_up = [&](const std::string& why) {
    suspects_.clear();
    return why;
  };
  if (static_cast<int>(excluded_.size()) >= kMaxExclusions) {
    return give_up("no culprit search: " + std::to_string(excluded_.size()) +
                   " site(s) already excluded in this run, the most a run excludes");
  }
  if (++attempts_ > kMaxSearchAttempts) {
    return give_up("no culprit search: this run has made " +
                   std::to_string(kMaxSearchAttempts) + " search attempts");
  }
  if (suspects_.empty() || pool - 1 < min_sites) {
    return give_up("cannot find the culprit among " + Join(left) +
                   ": leaving one out leaves fewer than " + std::to_string(min_sites) +
                   " sites for a secure round");
  }
  return "the next attempt leaves out " + suspects_.front() + " to find the culprit among " +
         Join(suspects_);
}

std::optional<Culprit> CulpritSearch::Succeeded(const std::vector<std::string>& survivors) {
  if (suspects_.empty()) return std::nullopt;
  const std::string left_out = suspects_.front();
  for (size_t i = 1; i < suspects_.size(); ++i) {
    if (!Has(survivors, suspects_[i])) {
      // Not every other suspect was summed: the round proves nothing about left_out. The sums
      // are right again, so the search ends; a new impossible sum starts another.
      suspects_.clear();
      first_failure_.clear();
      return std::nullopt;
    }
  }
  Culprit c{left_out, "the secure sum of " + first_failure_ +
                          " could not be right, and the same round without " + left_out +
                          " completed with " + Join(survivors)};
  excluded_.insert(c.site_id);
  suspects_.clear();
  first_failure_.clear();
  return c;
}

}  // namespace fedsmear
