// Scoring a model with the torch-free binary engine (infer/engine.h) or LibTorch: the same
// loader, preprocessing and metrics as Evaluate() in train/trainer.h, so that the two engines'
// figures compare directly, and StateScorer, the one place that chooses between them.
//
// Thread-safety: the functions are reentrant; a StateScorer is used by one thread at a time.
// Ownership: a StateScorer owns the engine or model it built and shares the LibTorch model it was
// given (a module holder); the functions retain nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "data/dataset.h"
#include "infer/engine.h"
#include "train/trainer.h"

namespace fedsmear {

// Loss (mean cross-entropy, natural log) and confusion matrix of `engine` on data[indices], in
// batches of `batch_size` images decoded by `loader_threads` threads; `progress` after each batch.
Result<EvalStats> EvaluateBinary(const infer::BinaryEngine& engine, const Dataset& data,
                                 const std::vector<size_t>& indices,
                                 const PreprocessConfig& preprocess, int loader_threads = 1,
                                 int batch_size = 64, const ProgressFn& progress = {});

// How a StateScorer scores: the engine choice, and what LibTorch's Evaluate() needs.
struct ScoreOptions {
  EvalEngine engine = EvalEngine::kAuto;
  int input_size = 64;
  PreprocessConfig preprocess;
  int loader_threads = 1;
  int threads = 1;  // the 1-bit engine's (LibTorch uses its global setting)
};

// One model ready to be scored on any number of image sets, by the engine `options.engine` picks
// for its architecture: the 1-bit engine built once from the state, or LibTorch's model. The one
// place a site, the coordinator's central evaluation, `fedsmear train|evaluate` and a simulation
// choose how a model is scored.
class StateScorer {
 public:
  // `model`: LibTorch's model holding `state`'s weights, used when LibTorch scores (built from
  // `state` when null). InvalidArgument as UsesBinaryEngine, or when the engine or model cannot be
  // built from `state`.
  static Result<StateScorer> Create(const ModelState& state, DenseNet* model,
                                    const ScoreOptions& options);

  // Loss and confusion matrix on data[indices]; `progress` after each batch.
  Result<EvalStats> Score(const Dataset& data, const std::vector<size_t>& indices,
                          const ProgressFn& progress = {}) const;
  bool binary() const { return engine_.has_value(); }

 private:
  StateScorer() = default;
  std::optional<infer::BinaryEngine> engine_;  // set when the 1-bit engine scores
  std::optional<DenseNet> model_;              // else LibTorch's
  ScoreOptions options_;
};

// StateScorer::Create(state, model, options), then Score(data, indices): for one image set.
Result<EvalStats> EvaluateState(const ModelState& state, DenseNet* model, const Dataset& data,
                                const std::vector<size_t>& indices, const ScoreOptions& options);

// Whether `engine` scores a model of architecture `arch` with the 1-bit engine (true) or
// LibTorch (false). InvalidArgument for EvalEngine::kBinary with a float architecture.
Result<bool> UsesBinaryEngine(EvalEngine engine, const std::string& arch);

// Softmax of `n` logits (max-shifted, in double).
std::vector<double> Softmax(const float* logits, int n);

}  // namespace fedsmear
