// Central evaluation: the coordinator's held-out image folders, each scored after every round,
// by the 1-bit engine for binarized models unless told otherwise (CentralEvalOptions).
// Class folders are matched to the model's classes case-insensitively; unknown folders are
// reported when the sets are opened. Thread-safety: one call at a time. Ownership: owns the
// scanned datasets (file lists, not images).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "data/dataset.h"
#include "models/model_state.h"

namespace fedsmear {

struct HoldoutResult {
  std::string name;
  double loss = 0;
  ConfusionMatrix confusion;
};

// How the held-out sets are scored: by the 1-bit engine or LibTorch (train/engine_eval.h), with
// how many threads (the engine's; LibTorch's are set process-wide by main()).
struct CentralEvalOptions {
  EvalEngine engine = EvalEngine::kAuto;
  int threads = 1;
};

class CentralEvaluator {
 public:
  static Result<std::unique_ptr<CentralEvaluator>> Create(
      const std::vector<HoldoutSet>& sets, const std::vector<std::string>& class_names,
      int input_size, const PreprocessConfig& preprocess,
      const CentralEvalOptions& options = {});

  Result<std::vector<HoldoutResult>> Evaluate(const ModelState& model) const;
  bool empty() const { return sets_.empty(); }

 private:
  struct Set {
    std::string name;
    Dataset data;
  };
  std::vector<Set> sets_;
  int input_size_ = 0;
  PreprocessConfig preprocess_;
  CentralEvalOptions options_;
};

}  // namespace fedsmear
