// RoundRecord: one completed round as the run records it, i.e. one line of RUN_DIR/metrics.jsonl.
// The coordinator writes it (ToJsonLine) and every C++ reader parses it back (ParseRoundRecord):
// the run report, the rounds table, the live status page's history, resume. Python readers
// (bench/py) read the same keys, so the JSON form is a stable contract:
//   {"round", "lr", "sites_selected", "sites_reported", "sites_failed": {site: reason},
//    "accuracy", "macro_f1" (null without central evaluation), "central": {set: {"accuracy",
//    "macro_f1", "samples", "per_class": [{"class", "precision", "recall", "f1", "support"}],
//    "confusion", "loss"}}, "site_val_accuracy", "federated": {"accuracy", "loss", "samples",
//    "sites"}, "bn_recalibration": {"sites", "images", "bytes_up"}, "bytes_eval_down",
//    "bytes_down", "bytes_up", "train_s", "round_s", "eval_s",
//    "secure_aggregation", "secagg": {"survivors", "dropped", "threshold", "neighbours",
//    "vote_bits", "bytes"}}
// Keys are written in this order; "central", "federated", "bn_recalibration", "bytes_eval_down"
// (with either of the two before it) and
// "secure_aggregation"/"secagg" only when present. Reading: "round" (an integer) is the one
// required key; a missing key keeps its default (lines of older runs), unknown keys are ignored
// (lines of newer runs), a known key of the wrong type is an error naming the key and the line.
// Thread-safety: values and pure functions. Ownership: values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"

namespace fedsmear {

struct ClassScores {
  std::string name;  // "class"
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

// One held-out set's central evaluation.
struct SetScores {
  std::optional<double> accuracy, macro_f1, loss;
  int64_t samples = 0;
  std::vector<ClassScores> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [truth][predicted]

  // The scores of `matrix` with `class_names` (index k when a name is missing) and `loss`.
  static SetScores FromConfusion(const ConfusionMatrix& matrix,
                                 const std::vector<std::string>& class_names, double loss);
};

// Federated evaluation of the new global model on the sites' validation splits.
struct FederatedScores {
  double accuracy = 0, loss = 0;
  uint64_t samples = 0;
  int sites = 0;
};

// Batch-norm recalibration of the round's new model: the sites whose statistics were pooled,
// the training images they summarise and the bytes of their statistics (site -> coordinator).
struct BnRecalibration {
  uint64_t sites = 0, images = 0, bytes_up = 0;
};

// A SecAgg+ round's counts and ids (never a vector: nothing a site sent is recorded).
struct SecAggCounts {
  std::vector<std::string> survivors, dropped;
  uint32_t threshold = 0, neighbours = 0, vote_bits = 0;
  uint64_t bytes = 0;
};

// The images a selected site announced when it joined (its hello): what the status page of a
// finished or resumed run shows per site.
struct SiteImages {
  std::string site;
  int64_t train = 0, val = 0;
};

struct RoundRecord {
  int round = 0;
  double lr = 0;
  std::vector<std::string> sites_selected, sites_reported;
  std::vector<SiteImages> site_images;  // selected sites still connected at the round's end
  // site -> reason, in file order; a site appears at most once (a later reason replaces it).
  std::vector<std::pair<std::string, std::string>> sites_failed;
  std::optional<double> accuracy, macro_f1;  // sample-weighted over `central`; none: no sets
  std::optional<std::vector<std::pair<std::string, SetScores>>> central;  // in file order
  double site_val_accuracy = 0;
  std::optional<FederatedScores> federated;
  std::optional<BnRecalibration> bn_recalibration;
  uint64_t bytes_eval_down = 0;  // written with `federated` or `bn_recalibration`
  uint64_t bytes_down = 0, bytes_up = 0;
  double train_s = 0, round_s = 0;
  // Seconds after the training round until the record: federated evaluation (with batch-norm
  // recalibration) and central evaluation. round_s + eval_s is the round's wall time; lines of
  // runs before the key existed read 0.
  double eval_s = 0;
  // Share of the binary weights whose global sign this round changed (0-1): how far a binarized
  // model still moves. Only for models with binary weights.
  std::optional<double> sign_flips;
  std::optional<SecAggCounts> secagg;  // SecAgg+ rounds only

  // Adds or replaces a failed site's reason (the JSON object's rule).
  void AddFailure(const std::string& site, const std::string& reason);
  // The held-out set `name`, or nullptr.
  const SetScores* Set(const std::string& name) const;
};

nlohmann::ordered_json ToJson(const RoundRecord& record);
// One metrics.jsonl line, without the newline.
std::string ToJsonLine(const RoundRecord& record);

// Parses one metrics.jsonl line; `line_number` (1-based, 0 = unknown) only names the line in
// errors: kCorrupt "metrics.jsonl line 7: ...".
Result<RoundRecord> ParseRoundRecord(std::string_view line, int line_number = 0);
Result<RoundRecord> RoundRecordFromJson(const nlohmann::ordered_json& json, int line_number = 0);

}  // namespace fedsmear
