// Evaluation of a model file with the torch-free binary engine (infer/engine.h): the same
// loader, preprocessing and metrics as Evaluate() in train/trainer.h, so that the two engines'
// figures compare directly.
//
// Thread-safety: reentrant; the engine may be shared (its Forward is const). Ownership: nothing
// is retained after the call.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "data/dataset.h"
#include "infer/engine.h"
#include "train/trainer.h"

namespace fedsmear {

// Loss (mean cross-entropy, natural log) and confusion matrix of `engine` on data[indices], in
// batches of `batch_size` images decoded by `loader_threads` threads.
Result<EvalStats> EvaluateBinary(const infer::BinaryEngine& engine, const Dataset& data,
                                 const std::vector<size_t>& indices,
                                 const PreprocessConfig& preprocess, int loader_threads = 1,
                                 int batch_size = 64);

// How EvaluateState scores: the engine choice, and what LibTorch's Evaluate() needs.
struct ScoreOptions {
  EvalEngine engine = EvalEngine::kAuto;
  int input_size = 64;
  PreprocessConfig preprocess;
  int loader_threads = 1;
  int threads = 1;  // the 1-bit engine's (LibTorch uses its global setting)
};

// Loss and confusion matrix of `state` on data[indices], with the engine `options.engine` picks
// for its architecture: the 1-bit engine built from `state`, or LibTorch's `model` (which must
// hold `state`'s weights; built from `state` when null). The one place a site, `fedsmear train`
// and a simulation choose how a model is scored.
Result<EvalStats> EvaluateState(const ModelState& state, DenseNet* model, const Dataset& data,
                                const std::vector<size_t>& indices, const ScoreOptions& options);

// Whether `engine` scores a model of architecture `arch` with the 1-bit engine (true) or
// LibTorch (false). InvalidArgument for EvalEngine::kBinary with a float architecture.
Result<bool> UsesBinaryEngine(EvalEngine engine, const std::string& arch);

// Softmax of `n` logits (max-shifted, in double).
std::vector<double> Softmax(const float* logits, int n);

}  // namespace fedsmear
