#include "secagg/session_ledger.h"

namespace fedsmear {

void SessionLedger::Enter(std::string_view run_id) {
  if (has_run_ && run_id == run_id_) return;
  run_id_ = std::string(run_id);
  has_run_ = true;
  task_ids_.clear();
  masked_rounds_.clear();
}

Status SessionLedger::Admit(std::string_view run_id, uint32_t round, wire::SecAggPurpose purpose,
                            uint64_t task_id) {
  Enter(run_id);
  if (task_ids_.count(task_id)) {
    return PermissionDenied("secure aggregation task id " + std::to_string(task_id) +
                            " was already used in this run; refusing a reused session");
  }
  if (masked_rounds_.count({round, purpose})) {
    return PermissionDenied(std::string(kRoundSpentRefusal) + " " + std::to_string(round) +
                            (purpose == wire::SecAggPurpose::kBnStatistics
                                 ? " (batch-norm statistics)" : "") +
                            "; refusing a second secure session of the same round");
  }
  task_ids_.insert(task_id);
  return Status::Ok();
}

void SessionLedger::Masked(std::string_view run_id, uint32_t round,
                           wire::SecAggPurpose purpose) {
  Enter(run_id);
  masked_rounds_.insert({round, purpose});
}

}  // namespace fedsmear
