// RunLog (coordinator/run_log.h).
#include "coordinator/run_log.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "models/densenet.h"
#include "models/packed_model.h"

namespace fedsmear {

Status RunLog::StartFresh() {
  std::error_code ec;
  std::filesystem::remove(MetricsPath(), ec);
  if (ec) return IoError("cannot remove the old " + MetricsPath() + ": " + ec.message());
  return Status::Ok();
}

Result<Checkpoint> RunLog::Resume() {
  ASSIGN_OR_RETURN(Checkpoint c, LoadLatestCheckpoint(o_.run_dir));
  try {
    best_f1_ = c.header.at("best_f1").get<double>();
    best_round_ = c.header.at("best_round").get<int>();
    rounds_without_gain_ = c.header.at("rounds_without_gain").get<int>();
  } catch (const nlohmann::json::exception& e) {
    return Corrupt(std::string("checkpoint header: ") + e.what());
  }
  Result<std::string> text = ReadFile(MetricsPath());
  if (text.ok()) {
    std::istringstream in(*text);
    std::string kept, line;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      Result<RoundRecord> r = ParseRoundRecord(line, line_no);
      if (r.ok() && r->round <= c.round) kept += line + "\n";
    }
    RETURN_IF_ERROR(WriteFileAtomic(MetricsPath(), kept));
  }
  return c;
}

Result<nlohmann::ordered_json> RunLog::Record(const RoundRecord& record,
                                              const ModelState& global) {
  nlohmann::ordered_json line = ToJson(record);
  {
    std::ofstream f(MetricsPath(), std::ios::app);
    f << line.dump() << "\n";
    if (!f) return IoError("cannot append to metrics.jsonl in " + o_.run_dir);
  }
  const double macro_f1 = record.macro_f1.value_or(0);
  if (macro_f1 > best_f1_ + 1e-4) {
    best_f1_ = macro_f1;
    best_round_ = record.round;
    rounds_without_gain_ = 0;
    RETURN_IF_ERROR(WriteFileAtomic(o_.run_dir + "/best.model", PackModel(global)));
  } else {
    ++rounds_without_gain_;
  }
  return line;
}

Status RunLog::SaveCheckpoint(int round, nlohmann::json run_state, std::string strategy_state,
                              const ModelState& global) const {
  Checkpoint c;
  c.round = round;
  c.header = std::move(run_state);
  c.header["best_f1"] = best_f1_;
  c.header["best_round"] = best_round_;
  c.header["rounds_without_gain"] = rounds_without_gain_;
  c.strategy_state = std::move(strategy_state);
  c.global = global;
  return fedsmear::SaveCheckpoint(o_.run_dir, c, o_.keep_checkpoints);
}

Status RunLog::WriteFinal(const ModelState& global, const ReportInfo& info) const {
  RETURN_IF_ERROR(WriteFileAtomic(o_.run_dir + "/final.model", PackModel(global)));
  RETURN_IF_ERROR(ExportTorchPickle(global, o_.run_dir + "/final.pt"));
  if (Status st = WriteRunReport(o_.run_dir, info); !st.ok()) {
    spdlog::warn("could not write the run report: {}", st.message());
  }
  spdlog::info("wrote {}/final.model, final.pt, report.html and summary.md (best central "
               "macro-F1 {:.4f} in round {})", o_.run_dir, best_f1_, best_round_);
  return Status::Ok();
}

}  // namespace fedsmear
