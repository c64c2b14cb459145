// SecAggPolicy: the hospital's own rules for secure aggregation, enforced at the site whatever
// the coordinator sends (docs/security.md, threat model "malicious coordinator").
//
// What: built from the `policy:` keys of the client config (SitePolicy), it answers
//   TaskRefusal(task)        -> "" or the reason to refuse a TrainTask (a task that is not a
//                              SecAgg+ round under require_secure_aggregation, an oversized input)
//   CheckSetup(setup, ...)   -> OK or kPermissionDenied naming the violated rule for a SecAggSetup
//                              (fewer than max(3, min_sites) or more than max_sites sites, t or k
//                              below the local minimums or k < 2, duplicate ids, no roster when
//                              one is required, a peer missing from the consortium roster or
//                              listed with another Ed25519 key than the roster's, sign-vote
//                              weights that would let the sum reveal more than a count of the
//                              votes, or vote fields too narrow for that count).
// The roster is the source of truth for peers' signing keys: a coordinator that lists sites it
// invented (Sybil peers) is refused before this site sends anything. Vote weights must all be
// equal (secagg/votes.h VoteWeightsRevealOnlyCount): the unmasked sum of a sign-vote round is
// then exactly the number of sites voting + at each binary weight.
// Thread-safety: immutable after creation; const methods are thread-safe. Ownership: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/net/keys.h"
#include "common/status.h"
#include "common/wire/messages.h"
#include "secagg/config.h"

namespace fedsmear {

// Fewest sites a secure round may have, whatever the policy says: with two, either site reads
// the other's update from the sum.
inline constexpr uint32_t kMinSecureSites = 3;

struct SecAggPolicy {
  bool require_secure = false;
  std::optional<SigningRoster> roster;  // absent: refused when require_roster, else trusted
  bool require_roster = true;           // refuse setups when there is no roster
  uint32_t min_sites = kMinSecureSites;  // below kMinSecureSites counts as kMinSecureSites
  uint32_t min_threshold = 0;
  uint32_t min_neighbours = 0;
  uint32_t max_sites = 1000;
  uint32_t max_input_size = 1024;
  uint64_t max_model_bytes = uint64_t{1} << 30;  // unpacked float32 values

  // Loads the roster file when one is configured.
  static Result<SecAggPolicy> FromConfig(const SitePolicy& policy);

  // "" when the task may run, else the reason for the Refusal.
  std::string TaskRefusal(const wire::TrainTask& task) const;
  // `resolved`: the setup's parameters after secagg::ResolveConfig; `site_id`: this site.
  Status CheckSetup(const wire::SecAggSetup& setup, const secagg::Config& resolved,
                    const std::string& site_id) const;
};

// Every weight of the setup is >= 1 and total_weight is their sum, and this site's weight is
// ContributionWeight(num_train, weight_cap) (models/contribution.h): its own training-set size,
// capped. The coordinator can then choose no weight but the cap, and with honest weights the
// sum is the weighted mean it is meant to be, never one site's update scaled above the rest.
// kPermissionDenied otherwise.
Status CheckContributionWeights(const wire::SecAggSetup& setup, const std::string& site_id,
                                uint64_t num_train);

// OK when `model_blob` (the model of the session's TrainTask or EvaluateTask) hashes to the
// setup's model_sha256, which the transcript binds: every survivor of a session then computed its
// input from the same model. Without it a coordinator could hand one site another model than its
// peers (say, batch-norm statistics that shrink the peers' moments to nothing) and read that
// site's input from the sum. kPermissionDenied otherwise.
Status CheckSessionModel(const wire::SecAggSetup& setup, std::string_view model_blob);

// True when the task is announced as a SecAgg+ round.
bool IsSecureTask(const wire::TrainTask& task);

// OK for a setup without sign votes, or whose vote weights are all equal and whose vote fields
// hold their total; kPermissionDenied otherwise (part of CheckSetup).
Status CheckVoteWeights(const wire::SecAggSetup& setup);

}  // namespace fedsmear
