// RoundsTable: the per-round table of a run (round, sites reported/selected, central accuracy
// and macro-F1, MiB down/up, training and round seconds), read from RUN_DIR/metrics.jsonl.
// Poll() prints the rows added since the last call, so a simulation can print rows as rounds
// finish and `fedsmear rounds RUN_DIR` prints them all once.
// Thread-safety: one thread. Ownership: holds the path and a row counter.
#pragma once

#include <cstdio>
#include <filesystem>

namespace fedsmear {

class RoundsTable {
 public:
  // Prints the header to `out`.
  explicit RoundsTable(std::filesystem::path metrics_jsonl, std::FILE* out = stdout);
  // Prints new rows; returns the highest round seen so far (0: none).
  int Poll();
  int rows() const { return static_cast<int>(printed_); }

 private:
  std::filesystem::path path_;
  std::FILE* out_;
  size_t printed_ = 0;
  int last_round_ = 0;
};

}  // namespace fedsmear
