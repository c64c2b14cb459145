// What a protocol message is, in audit-log fields: kind, round and task, size, SHA-256 of the
// bytes on the wire, whether it travelled under secure aggregation, and a sentence saying what it
// contains ("sign votes packed 6 bits wide ... masked"). Used by the site and the coordinator
// for their "sent" and "received" entries (common/governance/audit_log.h).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/wire/messages.h"

namespace fedsmear {

struct AuditContext {
  uint32_t vote_bits = 0;          // SecAggMasked: the round's vote field width (0: deltas)
  uint64_t binary_weights = 0;     // updates: binary-conv weights of the trained model (0: unknown)
  uint64_t float_values = 0;       // updates: its other values (float parameters, BN statistics)
  std::string codec_up;            // Update: the plan's uplink codec, if known
  bool secure_required = false;    // the approved plan (or a policy) asks for secure updates
  bool bn_moments = false;         // SecAggMasked of a batch-norm statistics session: logged
                                   // as message "bnStatistics", not "update"
};

// Fields of an entry about `body`, whose encoded envelope is `encoded`.
nlohmann::json AuditMessageFields(const wire::Body& body, const std::string& encoded,
                                  const AuditContext& context = {});

// Whether `body` travels only as part of secure aggregation (masked or key material).
bool IsSecAggMessage(const wire::Body& body);

}  // namespace fedsmear
