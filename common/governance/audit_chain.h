// Internal to common/governance: an audit log's lines in chain order, parsed, for the verifier
// (audit_verify.cc) and the summary (audit_summary.cc).
// Thread-safety: reentrant functions over values. Ownership: plain values.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/governance/audit_verify.h"
#include "common/status.h"

namespace fedsmear::audit_internal {

struct Line {
  std::string text;
  nlohmann::json doc;  // discarded when the line is not a canonical audit entry
  std::string where;   // file:line
};

// The lines of `paths`, files ordered by their first seq; malformed lines are kept (discarded
// doc) and named in `problems`. Errors only for unreadable files.
Result<std::vector<Line>> LoadChain(const std::vector<std::string>& paths,
                                    std::vector<std::string>* problems);

std::string Str(const nlohmann::json& j, const char* key);
uint64_t U64(const nlohmann::json& j, const char* key);

// Adds what `entry` says (kinds, rounds, messages, keys, plans) to `s`.
void Summarise(const nlohmann::json& entry, AuditSummary* s);

}  // namespace fedsmear::audit_internal
