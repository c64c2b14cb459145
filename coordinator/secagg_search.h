// CulpritSearch: finds the site whose input made a secure sum impossible, without ever seeing an
// input. The unmasked sum of SecAgg+ is all the coordinator gets; when it cannot be right (a
// vote count above the voters' weight, a value out of range, a mean that is not finite), some
// survivor sent a bad input, and the masks hide which. The search retries the round leaving one
// suspect out at a time (group testing with groups of one):
//   - the first impossible sum makes its survivors the suspects;
//   - an attempt without suspect X whose sum is impossible again clears X and narrows the
//     suspects to that attempt's survivors;
//   - an attempt without X that completes names X: it is excluded from the run's secure rounds,
//     with the two sums as evidence.
// Each step removes a suspect, so a search takes at most as many attempts as suspects; attempts of a
// search do not count against max_round_retries (RoundOutcome::searching), so one site cannot
// end a run by spoiling sums. The search gives up (and the attempts count again) when leaving one
// out would leave too few sites for a secure round, or when every suspect has been cleared (more
// than one culprit: each later impossible sum starts a new search among its survivors).
// Thread-safety: the coordinator's run loop only. Ownership: values.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fedsmear {

struct Culprit {
  std::string site_id;
  std::string evidence;
};

class CulpritSearch {
 public:
  // Whether `site` may be selected now: not excluded, and not the suspect being left out.
  bool MayTakePart(const std::string& site) const;
  // A search is under way (the next attempt leaves a suspect out).
  bool active() const { return !suspects_.empty(); }
  const std::set<std::string>& excluded() const { return excluded_; }

  // An attempt whose survivors are `survivors` produced an impossible sum. `min_sites`: the
  // fewest sites a secure round needs. Returns what happens next, for the log.
  std::string Failed(const std::vector<std::string>& survivors, int min_sites);
  // The attempt completed: the suspect left out, if any, was the culprit (now excluded).
  std::optional<Culprit> Succeeded();

 private:
  std::vector<std::string> suspects_;  // in survivor order; suspects_[0] is left out next
  std::set<std::string> excluded_;
  std::string first_failure_;  // the survivors of the sum that started the search
};

}  // namespace fedsmear
