#include "report/rounds_table.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "report/round_record.h"

namespace fedsmear {

RoundsTable::RoundsTable(std::filesystem::path metrics_jsonl, std::FILE* out)
    : path_(std::move(metrics_jsonl)), out_(out) {
  std::fprintf(out_, "%5s  %8s  %8s  %9s  %9s  %9s  %7s  %7s  %s\n", "round", "sites", "accuracy",
               "macro-F1", "MiB down", "MiB up", "train s", "round s", "reported");
}

int RoundsTable::Poll() {
  std::ifstream in(path_);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (++n <= printed_) continue;
    // A malformed line (e.g. the last one, half-written while the coordinator appends) is not
    // printed; unless a later row is, the next Poll() reads it again.
    Result<RoundRecord> rec = ParseRoundRecord(line, static_cast<int>(n));
    if (!rec.ok()) continue;
    const RoundRecord& r = *rec;
    std::string sites = std::to_string(r.sites_reported.size()) + "/" +
                        std::to_string(r.sites_selected.size());
    std::string who;
    for (const std::string& id : r.sites_reported) who += (who.empty() ? "" : ",") + id;
    last_round_ = std::max(last_round_, r.round);
    std::fprintf(out_, "%5d  %8s  %8.4f  %9.4f  %9.2f  %9.2f  %7.1f  %7.1f  %s\n", r.round,
                 sites.c_str(), r.accuracy.value_or(0), r.macro_f1.value_or(0),
                 r.bytes_down / 1048576.0, r.bytes_up / 1048576.0, r.train_s, r.round_s,
                 who.c_str());
    std::fflush(out_);
    printed_ = n;
  }
  return last_round_;
}

}  // namespace fedsmear
