// SessionLedger: what a site remembers of the secure sessions it served in a run, so that a
// coordinator can neither reuse a task id nor open a second session of a round the site already
// contributed to (docs/security.md, "Fresh sessions").
//
// What: for the current run id (the Envelope's), the task ids of every SecAggSetup the site
// admitted and the (round, purpose) pairs for which its masked input left. Admit refuses
// (kPermissionDenied) a task id already admitted in the run, and any setup of a round and purpose
// whose masked input already left: a second sum of the same round over another set of peers
// would let the coordinator subtract one sum from the other. The purposes (the training update,
// the new model's batch-norm moments) are different inputs, each summed at most once per round. A round whose session ended before this site masked (a peer
// left during the key stages) may be retried under a fresh task id. Another run id starts an
// empty ledger.
// Memory: one entry per admitted setup of the current run (bounded by the plan's rounds and
// retries).
// Thread-safety: the site's main loop only. Ownership: plain values; it must outlive every
// SecAggSession that records into it.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/wire/messages.h"

namespace fedsmear {

// The words a site's refusal of a spent round starts with (the coordinator recognises them: a
// coordinator restarted after its sites masked must move on to the next round).
inline constexpr char kRoundSpentRefusal[] = "this site already sent its masked update for round";

class SessionLedger {
 public:
  // Records `task_id` for `round` of `run_id` when neither rule above refuses it.
  Status Admit(std::string_view run_id, uint32_t round, wire::SecAggPurpose purpose,
               uint64_t task_id);
  // This site's masked input for `round` and `purpose` of `run_id` left: no further session of
  // that round and purpose.
  void Masked(std::string_view run_id, uint32_t round, wire::SecAggPurpose purpose);

 private:
  void Enter(std::string_view run_id);

  std::string run_id_;
  bool has_run_ = false;
  std::set<uint64_t> task_ids_;
  std::set<std::pair<uint32_t, wire::SecAggPurpose>> masked_rounds_;
};

}  // namespace fedsmear
