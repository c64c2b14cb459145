// CulpritSearch: finds the site whose input made a secure sum impossible, without ever seeing an
// input. The unmasked sum of SecAgg+ is all the coordinator gets; when it cannot be right (a
// vote count above the voters' weight, a value above what the survivors' inputs can add up to),
// some survivor sent a bad input, and the masks hide which. The search leaves one suspect out of
// each following round (group testing with groups of one):
//   - the first impossible sum makes its survivors the suspects;
//   - a round without suspect X whose sum is impossible again clears X and narrows the suspects
//     to that round's survivors;
//   - a round without X that completes, with every other suspect summed in it, names X: it is
//     excluded from the run's secure rounds, with the two sums as evidence.
// Bounds, so that neither a spoiler nor colluders can keep the run searching or empty it:
//   - each step removes a suspect, and a run makes at most kMaxSearchAttempts search attempts;
//     only those attempts are exempt from max_round_retries (RoundOutcome::searching);
//   - at most kMaxExclusions sites are excluded in a run. A site that spoils adaptively (only
//     when a chosen honest site is in the round) can get that honest site excluded instead of
//     itself: the setup names every participant, so no test by subsets can tell the two apart.
//     The cap bounds the damage to one site; the audit trail holds the evidence for the operator;
//   - the search gives up (the attempt counts as a retry) when leaving one out would leave too
//     few sites for a secure round.
// Privacy: every attempt trains afresh and masks once per round number; a sum the search
// differences against is impossible (spoiled), so an honest-but-curious coordinator learns one
// valid sum per model. docs/security.md says what a coordinator colluding with the spoiler can do.
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
  static constexpr int kMaxSearchAttempts = 32;
  static constexpr int kMaxExclusions = 1;

  // Whether `site` may be selected now: not excluded, and not the suspect being left out.
  bool MayTakePart(const std::string& site) const;
  // A search is under way (the next attempt leaves a suspect out).
  bool active() const { return !suspects_.empty(); }
  const std::set<std::string>& excluded() const { return excluded_; }

  // An attempt whose survivors are `survivors` produced an impossible sum. `min_sites`: the
  // fewest sites a secure round needs. Returns what happens next, for the log.
  std::string Failed(const std::vector<std::string>& survivors, int min_sites);
  // The attempt with `survivors` completed: the suspect left out is the culprit (now excluded)
  // when every other suspect was summed; otherwise the search ends without a culprit.
  std::optional<Culprit> Succeeded(const std::vector<std::string>& survivors);

 private:
  std::vector<std::string> suspects_;  // in survivor order; suspects_[0] is left out next
  std::set<std::string> excluded_;
  std::string first_failure_;  // the survivors of the sum that started the search
  int attempts_ = 0;           // search attempts in this run
};

}  // namespace fedsmear
