// RunSecureAttempt: one attempt of a SecAgg+ training round (the stages of
// coordinator/secure_round.h), for the SecAgg+ collector (coordinator/secagg_collector.cc);
// RunSecureBnAttempt: the same stages for the round's batch-norm statistics (a second session of
// the round, purpose kBnStatistics, with an EvaluateTask instead of the TrainTask).
// It sends the setup and the TrainTask to the sites of `plan`, runs key advertisement, key
// sharing, masked inputs, the consistency check and unmasking, and turns the unmasked words into
// the survivors' RoundSum. Incomplete attempts are values (no sum, out->incomplete_reason set;
// `impossible` when the sum was unmasked but cannot be right); errors are the transport's.
// Thread-safety: the coordinator's round loop only. Ownership: borrows everything for the call.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/wire/messages.h"
#include "coordinator/round.h"
#include "coordinator/round_sum.h"
#include "coordinator/sum_collector.h"

namespace fedsmear {

// What an attempt borrows from its collector: signing keys and the bench.
struct SecAggRoster {
  std::map<std::string, std::string> sign_keys;  // site id -> raw 32-byte Ed25519 key
  std::set<std::string> benched;  // left before masking: out until a secure round completes
};

struct SecureAttempt {
  std::optional<RoundSum> sum;  // the survivors' sum when the attempt completed
  // Batch-norm sessions: sum_S w_i/W_S BnMomentsOf(site i) over the survivors S.
  std::optional<std::vector<double>> moments;
  uint64_t survivor_weight = 0;  // W_S
  bool impossible = false;      // unmasked, but no honest set of inputs makes it (kCorrupt)
};

Result<SecureAttempt> RunSecureAttempt(RoundContext& ctx, SecAggRoster& roster, int round,
                                       const std::vector<TrainInstruction>& plan,
                                       wire::TrainTask task, const ModelState& received,
                                       RoundOutcome* out, const std::atomic<bool>& stop);

// `request.sites` (at least kMinSecureSites, each with a signing key) sum their moments of
// `request.reference`'s statistics, each weighted by ContributionWeight(its training-set size,
// the calibration images asked for). out: the session's own selection, failures and bytes.
Result<SecureAttempt> RunSecureBnAttempt(RoundContext& ctx, SecAggRoster& roster, int round,
                                         const BnRequest& request, RoundOutcome* out,
                                         const std::atomic<bool>& stop);

}  // namespace fedsmear
